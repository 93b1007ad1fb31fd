// Write pipes (connect_write_pipe): order, flow control, write_eof, close,
// abort, and the reader going away.
#include <fmt/core.h>

#include "pipes_support.hpp"
#include "support.hpp"

namespace loopspec::scenarios {
namespace {

void write_tracked(PipeConnection& conn, const std::string& data, Digest& written, std::uint64_t& total) {
  conn.writer().write(data);
  written.update(data);
  total += data.size();
}

// Lets the peer read again and waits until it has `total` bytes; false (and
// a failed check of `rule`) on timeout.
bool drain(ScenarioContext& ctx, PipeConnection& conn, std::uint64_t total, std::string_view rule) {
  conn.peer->resume_reading();
  return ctx.expect_within(rule, [&] { return conn.peer->snapshot().bytes_received >= total; },
                           fmt::format("the reader to receive {} bytes", total));
}

void check_received(ScenarioContext& ctx, PipeConnection& conn, std::uint64_t total, const Digest& written,
                    std::string_view rule) {
  auto seen = conn.peer->snapshot();
  ctx.check(rule, seen.bytes_received == total && seen.received_digest == written.hex(),
            fmt::format("the reader received {} bytes (digest {}), {} were written (digest {})", seen.bytes_received,
                        seen.received_digest, total, written.hex()));
}

LOOPSPEC_SCENARIO({
    .id = "pipes.write.in-order",
    .title = "connect_write_pipe: a write-only transport; write() and writelines() of 1 MiB to a reader that "
             "stopped never block, the excess is buffered, and the reader gets every byte in order",
    .rules = {"transport.hierarchy.write-pipe", "loop.setup.returns-transport-and-protocol",
              "proto.made.transport-argument", "proto.streaming.factories", "transport.extra-info.pipe",
              "transport.closing.false-while-open", "write.data.in-order", "write.writelines.equivalent",
              "write.data.nonblocking", "write.data.sends-immediately", "write.buffer-size.reports-buffered"},
    .variants = pipe_variants::kWrite,
    .body =
        [](ScenarioContext& ctx) {
          auto conn = open_write_pipe(ctx);
          auto& t = conn->writer();
          ctx.check("transport.hierarchy.write-pipe",
                    std::dynamic_pointer_cast<WriteTransport>(conn->completed) != nullptr &&
                        std::dynamic_pointer_cast<ReadTransport>(conn->completed) == nullptr,
                    "connect_write_pipe completed with a write-only transport");
          ctx.check("loop.setup.returns-transport-and-protocol",
                    conn->made_before_done && conn->completed->get_protocol() == conn->recorded,
                    "connect_write_pipe completed before connection_made, or with another protocol");
          ctx.check("proto.made.transport-argument", t.get_protocol() == conn->protocol,
                    "connection_made's transport does not lead back to its protocol");
          ctx.check("proto.streaming.factories", true, "connect_write_pipe accepted a streaming protocol factory");
          auto pipe = t.get_extra_info("pipe");
          ctx.check("transport.extra-info.pipe", pipe && !pipe->is_null(),
                    "get_extra_info('pipe') = " + (pipe ? pipe->dump() : std::string("None")));
          ctx.check("transport.closing.false-while-open", !t.is_closing(), "is_closing() is true on a new write pipe");

          Digest written;
          std::uint64_t total = 0;
          write_tracked(*conn, "x", written, total);
          ctx.check("write.data.sends-immediately", true,
                    fmt::format("one byte written to an idle pipe: get_write_buffer_size() = {} right after write()",
                                t.get_write_buffer_size()));
          total += fill_pipe_until_queued(ctx, *conn, written);
          const std::uint64_t before_burst = total;
          const std::string a = pattern(3, 921), b = pattern(300000, 922), c = pattern(5, 923);
          std::vector<std::string_view> parts{a, b, c};
          t.writelines(parts);
          for (auto p : parts) written.update(p), total += p.size();
          for (int i = 0; i < 8; ++i) write_tracked(*conn, pattern(100000, 930 + i), written, total);
          // Had write() blocked, the reader (which does not read) would have hung the scenario before this line.
          std::size_t buffered = t.get_write_buffer_size();
          ctx.check("write.data.nonblocking", buffered > 0 && buffered <= total,
                    fmt::format("{} bytes written to a pipe nobody reads; {} buffered", total, buffered));
          ctx.check("write.buffer-size.reports-buffered", buffered >= total - before_burst,
                    fmt::format("{} bytes written behind a full pipe nobody reads, get_write_buffer_size() {}",
                                total - before_burst, buffered));
          if (!drain(ctx, *conn, total, "write.data.in-order")) return;
          check_received(ctx, *conn, total, written, "write.data.in-order");
          check_received(ctx, *conn, total, written, "write.writelines.equivalent");
          ctx.expect_within("write.buffer-size.reports-buffered", [&] { return t.get_write_buffer_size() == 0; },
                            "get_write_buffer_size() 0 once the reader has everything");
        },
});

LOOPSPEC_SCENARIO({
    .id = "pipes.write.flow",
    .title = "a write pipe with limits high 40000, low 10000 and a reader that stopped: one pause_writing once over "
             "high, one resume_writing at or below low once it reads; then high=0: paused exactly while non-empty",
    .rules = {"flow.pause.strictly-over-high", "flow.pause.when-over-high", "flow.pairing.alternate",
              "flow.resume.at-or-below-low", "flow.resume.when-at-or-below-low", "write.limits.get-returns-set",
              "write.limits.validation", "flow.limits.high-zero-pauses-non-empty", "flow.limits.low-zero-resumes-empty",
              "write.limits.high-zero-forces-low-zero", "write.data.in-order"},
    .variants = pipe_variants::kWrite,
    .body =
        [](ScenarioContext& ctx) {
          auto conn = open_write_pipe(ctx);
          auto& t = conn->writer();
          auto invalid = capture_error([&] { t.set_write_buffer_limits(10, 20); });
          ctx.check("write.limits.validation", invalid && invalid->type == "ValueError",
                    "set_write_buffer_limits(high=10, low=20) " + (invalid ? "raised " + invalid->to_string() : "returned"));
          Digest written;
          std::uint64_t total = fill_pipe_until_queued(ctx, *conn, written);
          t.set_write_buffer_limits(40000 + static_cast<std::int64_t>(t.get_write_buffer_size()), 10000);
          auto limits = t.get_write_buffer_limits();
          ctx.check("write.limits.get-returns-set", limits.low == 10000,
                    fmt::format("get_write_buffer_limits() low {} after setting 10000", limits.low));
          std::size_t size_at_resume = 0;
          conn->hooks.on_resume = [&] { size_at_resume = t.get_write_buffer_size(); };
          while (!conn->seen.writing_paused()) {
            if (t.get_write_buffer_size() > static_cast<std::size_t>(limits.high)) {
              ctx.check("flow.pause.when-over-high", false,
                        fmt::format("buffer size {} > high {} and no pause_writing", t.get_write_buffer_size(), limits.high));
              return;
            }
            write_tracked(*conn, pattern(3000, 941), written, total);
          }
          for (int i = 0; i < 3; ++i) write_tracked(*conn, pattern(3000, 942), written, total);
          ctx.check("flow.pairing.alternate", conn->seen.pauses == 1,
                    fmt::format("pause_writing called {} times while over high", conn->seen.pauses));
          if (!drain(ctx, *conn, total, "write.data.in-order")) return;
          if (!ctx.expect_within("flow.resume.when-at-or-below-low", [&] { return conn->seen.resumes > 0; },
                                 "resume_writing after the reader drained the pipe")) {
            return;
          }
          ctx.check("flow.resume.at-or-below-low", size_at_resume <= 10000,
                    fmt::format("resume_writing with {} bytes buffered, low is 10000", size_at_resume));
          check_received(ctx, *conn, total, written, "write.data.in-order");

          // high=0: paused exactly while something is buffered; resumed only once empty.
          t.set_write_buffer_limits(0);
          limits = t.get_write_buffer_limits();
          ctx.check("write.limits.high-zero-forces-low-zero", limits.low == 0 && limits.high == 0,
                    fmt::format("after set_write_buffer_limits(high=0): (low, high) = ({}, {})", limits.low, limits.high));
          conn->peer->stop_reading();
          conn->peer->wait_synced(ctx, "the reader to stop");
          int pauses_before = conn->seen.pauses;
          while (t.get_write_buffer_size() == 0) write_tracked(*conn, pattern(8192, 943), written, total);
          ctx.check("flow.limits.high-zero-pauses-non-empty", conn->seen.pauses == pauses_before + 1,
                    fmt::format("{} bytes buffered with high=0: pause_writing called {} time(s)", t.get_write_buffer_size(),
                                conn->seen.pauses - pauses_before));
          size_at_resume = 1;
          if (!drain(ctx, *conn, total, "write.data.in-order")) return;
          if (!ctx.expect_within("flow.resume.when-at-or-below-low", [&] { return conn->seen.resumes == 2; },
                                 "resume_writing once the buffer is empty")) {
            return;
          }
          ctx.check("flow.limits.low-zero-resumes-empty", size_at_resume == 0,
                    fmt::format("resume_writing with {} bytes still buffered", size_at_resume));
          check_received(ctx, *conn, total, written, "write.data.in-order");
        },
});

// Data queued behind a reader that stopped; end() (write_eof or close) must
// send it all, then close the pipe: the reader sees EOF, connection_lost(None).
void ends_after_flush(ScenarioContext& ctx, bool by_write_eof) {
  auto conn = open_write_pipe(ctx);
  auto& t = conn->writer();
  std::string_view flush_rule = by_write_eof ? "write.eof.flushes-then-shuts-down" : "transport.close.flushes-buffer";
  std::string_view after_rule = by_write_eof ? "write.data.after-write-eof" : "write.data.after-close";
  Digest written;
  std::uint64_t total = fill_pipe_until_queued(ctx, *conn, written);
  write_tracked(*conn, pattern(70000, 951), written, total);
  if (by_write_eof) {
    bool can = t.can_write_eof();
    auto raised = capture_error([&] { t.write_eof(); });
    ctx.check("write.eof.can-write-eof-consistent", can == !(raised && raised->type == "NotImplementedError"),
              fmt::format("can_write_eof() {} and write_eof() {}", can, raised ? "raised " + raised->to_string() : "returned"));
  } else {
    t.close();
  }
  if (!by_write_eof) ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after close()");
  const std::size_t buffered = t.get_write_buffer_size();
  auto after = capture_error([&] { t.write("late"); });
  bool dropped = t.get_write_buffer_size() == buffered;
  ctx.check(after_rule, true,
            "write() after " + std::string(by_write_eof ? "write_eof()" : "close()") + ": " +
                (after ? "raised " + after->to_string() : std::string(dropped ? "dropped silently" : "queued")));
  if (!after && !dropped) total += 4, written.update("late");
  ctx.run_pending();
  ctx.check("transport.close.connection-lost-after-flush", conn->seen.lost == 0,
            fmt::format("connection_lost came while {} bytes were still buffered", t.get_write_buffer_size()));
  if (!drain(ctx, *conn, total, flush_rule)) return;
  check_received(ctx, *conn, total, written, flush_rule);
  if (!ctx.expect_within(flush_rule, [&] { return conn->peer->snapshot().eof; }, "the reader to see end of file")) return;
  if (!ctx.expect_within("transport.close.connection-lost-after-flush", [&] { return conn->seen.lost > 0; },
                         "connection_lost after the buffer was written")) {
    return;
  }
  ctx.run_pending();
  check_lost_once_with_none(ctx, conn->seen, "");
}

LOOPSPEC_SCENARIO({
    .id = "pipes.write.write-eof-flushes",
    .title = "write_eof() on a write pipe with data buffered behind a reader that stopped: can_write_eof() agrees, "
             "the reader gets every byte then end of file, then connection_lost(None)",
    .rules = {"write.eof.flushes-then-shuts-down", "write.eof.can-write-eof-consistent", "write.data.after-write-eof",
              "transport.close.connection-lost-after-flush",
              "proto.connection-lost.none-on-close", "proto.order.lost-exactly-once"},
    .variants = pipe_variants::kWriteClosable,
    .body = [](ScenarioContext& ctx) { ends_after_flush(ctx, true); },
});

LOOPSPEC_SCENARIO({
    .id = "pipes.write.close-flushes",
    .title = "close() on a write pipe with data buffered behind a reader that stopped: is_closing() at once, the "
             "reader gets every byte then end of file, then connection_lost(None) exactly once",
    .rules = {"transport.close.flushes-buffer", "transport.close.connection-lost-after-flush",
              "transport.closing.after-close", "write.data.after-close", "proto.connection-lost.none-on-close",
              "proto.order.lost-exactly-once"},
    .variants = pipe_variants::kWriteClosable,
    .body = [](ScenarioContext& ctx) { ends_after_flush(ctx, false); },
});

LOOPSPEC_SCENARIO({
    .id = "pipes.write.abort-discards",
    .title = "abort() on a write pipe with data buffered: is_closing() at once, connection_lost(None) follows, the "
             "buffered data never reaches the reader, which sees end of file",
    .rules = {"write.abort.discards-buffer", "write.abort.connection-lost", "transport.closing.after-close",
              "proto.connection-lost.none-on-close"},
    .variants = pipe_variants::kWrite,
    .body =
        [](ScenarioContext& ctx) {
          auto conn = open_write_pipe(ctx);
          auto& t = conn->writer();
          Digest written;
          std::uint64_t total = fill_pipe_until_queued(ctx, *conn, written);
          write_tracked(*conn, pattern(100000, 961), written, total);
          const std::uint64_t buffered = t.get_write_buffer_size();
          t.abort();
          ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after abort()");
          conn->peer->resume_reading();
          if (!ctx.expect_within("write.abort.connection-lost", [&] { return conn->seen.lost > 0; },
                                 "connection_lost after abort()")) {
            return;
          }
          ctx.check("proto.connection-lost.none-on-close", !conn->seen.lost_error, lost_text(conn->seen) + " after abort()");
          ctx.wait([&] { return conn->peer->snapshot().eof; }, "the reader to see the pipe closed");
          auto seen = conn->peer->snapshot();
          ctx.check("write.abort.discards-buffer", seen.bytes_received + buffered <= total,
                    fmt::format("{} bytes were buffered at abort(); the reader received {} of {} written", buffered,
                                seen.bytes_received, total));
        },
});

LOOPSPEC_SCENARIO({
    .id = "pipes.write.reader-gone",
    .title = "the reader closes its end while data is buffered: connection_lost with a BrokenPipeError-class "
             "exception, noticed without any further write",
    .rules = {"proto.connection-lost.error-on-failure", "proto.order.lost-exactly-once"},
    .variants = pipe_variants::kWriteClosable,
    .body =
        [](ScenarioContext& ctx) {
          auto conn = open_write_pipe(ctx);
          Digest written;
          fill_pipe_until_queued(ctx, *conn, written);
          conn->peer->close();
          if (!ctx.expect_within("proto.connection-lost.error-on-failure", [&] { return conn->seen.lost > 0; },
                                 "connection_lost after the reader closed")) {
            return;
          }
          const MaybeError& error = conn->seen.lost_error;
          ctx.check("proto.connection-lost.error-on-failure", error && error->type == "BrokenPipeError",
                    lost_text(conn->seen) + " when the reader went away with data buffered");
          ctx.run_pending();
          ctx.check("proto.order.lost-exactly-once", conn->seen.lost == 1,
                    fmt::format("connection_lost called {} times", conn->seen.lost));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
