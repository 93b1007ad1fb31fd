// Write flow control: pause_writing strictly over the high watermark, once;
// resume_writing at or below the low one. Back-pressure is built
// deterministically by a peer that stops reading, so the transport's buffer
// only grows by what the scenario writes until the peer reads again.
#include <fmt/core.h>

#include <optional>

#include "support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "stream.flow.exactly-high-then-over",
    .title = "with the kernel full, a write, then the high watermark set at exactly the buffer's size (no pause), then "
             "one byte over (one pause), then further (no second pause); the peer drains it (one resume, at or below "
             "low)",
    .rules = {"flow.pause.strictly-over-high", "flow.pause.when-over-high", "flow.pairing.alternate",
              "flow.resume.at-or-below-low", "flow.resume.when-at-or-below-low", "write.buffer-size.reports-buffered",
              "write.data.in-order"},
    .variants = variants::kStreamAndServer,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          Digest written;
          std::uint64_t total = fill_until_buffered(ctx, conn, written);
          if (conn.seen.writing_paused()) {
            // The fill went over the default high watermark: drain first so the check starts unpaused.
            ctx.note("the fill paused writing; draining before the measured part");
            if (!drain_to_peer(ctx, conn, total, "flow.resume.when-at-or-below-low")) return;
            ctx.expect_within("flow.resume.when-at-or-below-low", [&] { return !conn.seen.writing_paused(); },
                              "resume_writing after the drain");
            total += fill_until_buffered(ctx, conn, written);
          }
          // The mark is set where the buffer stands after the write, so the check needs no assumption about how a
          // transport counts its buffer (a TLS transport holds records: ciphertext plus framing).
          const auto base = static_cast<std::int64_t>(t.get_write_buffer_size());
          t.set_write_buffer_limits(base + (1 << 20), 0);
          const int pauses_at_start = conn.seen.pauses;
          write_tracked(conn, pattern(1000, 11), written, total);
          const auto at_high = static_cast<std::int64_t>(t.get_write_buffer_size());
          const bool exact = !ctx.tls_variant();
          ctx.check("write.buffer-size.reports-buffered", exact ? at_high == base + 1000 : at_high >= base + 1000,
                    fmt::format("with a full kernel buffer, writing 1000 bytes moved get_write_buffer_size() from {} to "
                                "{} (expected {}1000 more)",
                                base, at_high, exact ? "exactly " : "at least "));
          t.set_write_buffer_limits(at_high, 0);
          ctx.check("flow.pause.strictly-over-high", conn.seen.pauses == pauses_at_start,
                    fmt::format("buffer size {} == high {}: pause_writing must not be called, was called {} time(s)",
                                t.get_write_buffer_size(), at_high, conn.seen.pauses - pauses_at_start));

          write_tracked(conn, "!", written, total);
          ctx.check("flow.pause.when-over-high", conn.seen.pauses == pauses_at_start + 1,
                    fmt::format("buffer size {} > high {}: pause_writing must have been called once, was called {} "
                                "time(s)",
                                t.get_write_buffer_size(), at_high, conn.seen.pauses - pauses_at_start));

          for (int i = 0; i < 4; ++i) write_tracked(conn, pattern(5000, 12 + i), written, total);
          ctx.check("flow.pairing.alternate", conn.seen.pauses == pauses_at_start + 1,
                    fmt::format("further writes while paused: pause_writing called {} time(s) in all, expected once",
                                conn.seen.pauses - pauses_at_start));

          if (!drain_to_peer(ctx, conn, total, "write.data.in-order")) return;
          ctx.expect_within("flow.resume.when-at-or-below-low", [&] { return conn.seen.resumes >= conn.seen.pauses; },
                            "resume_writing once the buffer drained to low (0)");
          check_peer_received(ctx, conn, total, written, "write.data.in-order");
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.flow.band-between-watermarks",
    .title = "16 MiB queued behind a stopped peer with high 8 MiB and low 64 KiB: the buffer drains through the band "
             "between the marks, and resume_writing comes only at or below low; every byte arrives in order",
    .rules = {"flow.resume.at-or-below-low", "flow.resume.when-at-or-below-low", "flow.pause.when-over-high",
              "flow.pairing.alternate", "write.data.in-order", "write.data.nonblocking", "write.data.sends-immediately",
              "write.buffer-size.reports-buffered"},
    .variants = variants::kStream,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          constexpr std::int64_t kHigh = 8 << 20;
          constexpr std::int64_t kLow = 64 << 10;
          t.set_write_buffer_limits(kHigh, kLow);
          Digest written;
          std::uint64_t total = 0;
          write_tracked(conn, "x", written, total);
          ctx.check("write.data.sends-immediately", true,
                    fmt::format("one byte written on an idle connection: get_write_buffer_size() = {} right after write()",
                                t.get_write_buffer_size()));
          total += fill_until_buffered(ctx, conn, written);
          std::size_t resume_size = 0;
          conn.hooks.on_resume = [&] { resume_size = t.get_write_buffer_size(); };
          if (!write_until_buffered(ctx, conn, 2 * kHigh, written, total)) return;
          // Had write() blocked, the peer (which does not read) would have hung the scenario before this line.
          ctx.check("write.data.nonblocking", t.get_write_buffer_size() >= static_cast<std::size_t>(2 * kHigh),
                    fmt::format("{} bytes written to a peer that does not read; {} buffered", total,
                                t.get_write_buffer_size()));
          ctx.check("flow.pause.when-over-high", conn.seen.pauses == 1,
                    fmt::format("buffer at {} bytes, high {}: pause_writing called {} time(s), expected once",
                                t.get_write_buffer_size(), kHigh, conn.seen.pauses));
          if (!drain_to_peer(ctx, conn, total, "write.data.in-order")) return;
          if (!ctx.expect_within("flow.resume.when-at-or-below-low", [&] { return conn.seen.resumes > 0; },
                                 "resume_writing after the drain")) {
            return;
          }
          ctx.check("flow.resume.at-or-below-low", resume_size <= static_cast<std::size_t>(kLow),
                    fmt::format("resume_writing called with {} bytes buffered, low is {}", resume_size, kLow));
          ctx.check("flow.pairing.alternate", conn.seen.pauses == 1 && conn.seen.resumes == 1,
                    fmt::format("{} pause_writing and {} resume_writing calls, expected one each", conn.seen.pauses,
                                conn.seen.resumes));
          check_peer_received(ctx, conn, total, written, "write.data.in-order");
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.flow.zero-watermarks",
    .title = "high=0: pause_writing as soon as the buffer is non-empty; low=0: resume_writing only once it is empty",
    .rules = {"flow.limits.high-zero-pauses-non-empty", "flow.limits.low-zero-resumes-empty",
              "flow.resume.when-at-or-below-low", "write.limits.high-zero-forces-low-zero", "write.data.in-order"},
    .variants = variants::kStream,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          // Every resume is measured, from the first on.
          std::optional<std::size_t> resume_size;
          conn.hooks.on_resume = [&] {
            if (!resume_size) resume_size = t.get_write_buffer_size();
          };
          t.set_write_buffer_limits(0);
          auto limits = t.get_write_buffer_limits();
          ctx.check("write.limits.high-zero-forces-low-zero", limits.low == 0 && limits.high == 0,
                    fmt::format("after set_write_buffer_limits(high=0): (low, high) = ({}, {})", limits.low, limits.high));
          const std::size_t empty_size = t.get_write_buffer_size();
          ctx.check("flow.limits.high-zero-pauses-non-empty", !conn.seen.writing_paused() || empty_size > 0,
                    fmt::format("set_write_buffer_limits(high=0) with {} bytes buffered called pause_writing",
                                empty_size));
          conn.peer_stop_reading();
          ctx.wait([&] { return !conn.peer().snapshot().reading; }, "the peer to stop reading");
          Digest written;
          std::uint64_t total = 0;
          const std::string chunk = pattern(64 * 1024, 31);
          bool consistent = true;
          std::string first_mismatch;
          for (int i = 0; i < 1024 && !conn.seen.writing_paused(); ++i) {
            write_tracked(conn, chunk, written, total);
            bool buffered = t.get_write_buffer_size() > 0;
            if (buffered != conn.seen.writing_paused() && consistent) {
              consistent = false;
              first_mismatch = fmt::format("after {} bytes: buffer size {}, paused {}", total, t.get_write_buffer_size(),
                                           conn.seen.writing_paused());
            }
          }
          ctx.check("flow.limits.high-zero-pauses-non-empty", consistent && conn.seen.writing_paused(),
                    consistent ? fmt::format("paused after {} bytes with {} buffered", total, t.get_write_buffer_size())
                               : first_mismatch);
          if (!drain_to_peer(ctx, conn, total, "write.data.in-order")) return;
          if (!ctx.expect_within("flow.resume.when-at-or-below-low", [&] { return conn.seen.resumes > 0; },
                                 "resume_writing once the buffer is empty")) {
            return;
          }
          ctx.check("flow.limits.low-zero-resumes-empty", resume_size == 0u,
                    fmt::format("the first resume_writing came with {} bytes still buffered", resume_size.value_or(0)));
          check_peer_received(ctx, conn, total, written, "write.data.in-order");
        },
});

}  // namespace
}  // namespace loopspec::scenarios
