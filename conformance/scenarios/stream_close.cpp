// close() flushes then reports connection_lost(None); abort() drops the buffer.
#include <fmt/core.h>

#include "support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "stream.close.flushes-then-lost",
    .title = "close() with data buffered behind a stopped peer: is_closing() at once, no connection_lost while data "
             "is buffered, every byte reaches the peer, then connection_lost(None) exactly once",
    .rules = {"transport.close.flushes-buffer", "transport.close.connection-lost-after-flush",
              "transport.closing.after-close", "proto.connection-lost.none-on-close", "proto.order.lost-exactly-once",
              "write.data.in-order", "write.data.after-close"},
    .variants = variants::kStreamAndServer,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          Digest written;
          std::uint64_t total = fill_until_buffered(ctx, conn, written);
          write_tracked(conn, pattern(70000, 51), written, total);
          t.close();
          ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after close()");
          const std::size_t buffered_at_close = t.get_write_buffer_size();
          auto after_close = capture_error([&] { t.write("after close"); });
          const bool dropped = t.get_write_buffer_size() == buffered_at_close;
          ctx.check("write.data.after-close", true,
                    "write() after close(): " + (after_close ? "raised " + after_close->to_string()
                                                             : std::string(dropped ? "dropped silently" : "queued")));
          if (!after_close && !dropped) total += 11, written.update("after close");
          ctx.run_pending();
          ctx.check("transport.close.connection-lost-after-flush", conn.seen.lost == 0,
                    fmt::format("connection_lost came while {} bytes were still buffered", t.get_write_buffer_size()));
          if (!drain_to_peer(ctx, conn, total, "transport.close.flushes-buffer")) return;
          check_peer_received(ctx, conn, total, written, "transport.close.flushes-buffer");
          check_peer_received(ctx, conn, total, written, "write.data.in-order");
          if (!ctx.expect_within("transport.close.connection-lost-after-flush", [&] { return conn.seen.lost > 0; },
                                 "connection_lost after the buffer was flushed")) {
            return;
          }
          ctx.expect_within("transport.close.flushes-buffer", [&] { return conn.peer().snapshot().eof_received; },
                            "the peer to see the connection closed");
          ctx.run_pending();
          check_lost_once_with_none(ctx, conn.seen, " after close()");
        },
});

// Data already in the socket when the transport is closed (close) or aborted
// (abort) must never be delivered.
void no_data_after(ScenarioContext& ctx, bool abort, std::string_view rule) {
  auto& conn = ctx.open_stream();
  auto& t = *conn.transport();
  // Paused, so that where the data is at close() (the socket, or a layer above it) depends on no timing.
  t.pause_reading();
  const std::string data = pattern(20000, 52);
  conn.peer_send(data, 0);
  ctx.wait([&] { return conn.peer().snapshot().bytes_sent >= data.size(); }, "the peer to send");
  const std::size_t before = conn.seen.received.size();
  abort ? t.abort() : t.close();
  ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after close()/abort()");
  ctx.expect_within("proto.order.lost-exactly-once", [&] { return conn.seen.lost > 0; }, "connection_lost");
  ctx.run_pending();
  ctx.check(rule, conn.seen.received.size() == before,
            fmt::format("{} bytes were delivered after {}()", conn.seen.received.size() - before, abort ? "abort" : "close"));
  ctx.check("proto.order.lost-exactly-once", conn.seen.lost == 1, fmt::format("connection_lost called {} times", conn.seen.lost));
}

LOOPSPEC_SCENARIO({
    .id = "stream.close.no-data-after-close",
    .title = "data that arrived while reading was paused is never delivered once close() is called",
    .rules = {"transport.close.no-more-data", "transport.closing.after-close", "proto.order.lost-exactly-once"},
    .variants = variants::kReceive,
    .body = [](ScenarioContext& ctx) { no_data_after(ctx, false, "transport.close.no-more-data"); },
});

LOOPSPEC_SCENARIO({
    .id = "stream.close.inside-data-callback",
    .title = "close() inside the first data callback while more of the peer's data has arrived: no data callback "
             "after close()",
    .rules = {"transport.close.no-more-data", "proto.order.lost-exactly-once"},
    .variants = variants::kReceive,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          std::size_t calls_at_close = 0;  // 0 until the first data callback closes
          conn.hooks.on_data = [&](std::string_view) {
            if (calls_at_close != 0) return;
            calls_at_close = conn.seen.data_calls;
            t.close();
          };
          conn.peer_send(pattern(20000, 54), 0);
          if (!ctx.expect_within("proto.order.lost-exactly-once", [&] { return conn.seen.lost > 0; },
                                 "connection_lost after close() inside data_received")) {
            return;
          }
          ctx.run_pending();
          ctx.check("transport.close.no-more-data", conn.seen.data_calls == calls_at_close,
                    fmt::format("{} data callback(s) after the one that called close()",
                                conn.seen.data_calls - calls_at_close));
          ctx.check("proto.order.lost-exactly-once", conn.seen.lost == 1,
                    fmt::format("connection_lost called {} times", conn.seen.lost));
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.close.no-data-after-abort",
    .title = "data that arrived while reading was paused is never delivered once abort() is called",
    .rules = {"write.abort.no-more-data", "transport.closing.after-close", "proto.order.lost-exactly-once"},
    .variants = variants::kReceive,
    .body = [](ScenarioContext& ctx) { no_data_after(ctx, true, "write.abort.no-more-data"); },
});

LOOPSPEC_SCENARIO({
    .id = "stream.close.abort-discards",
    .title = "abort() with data buffered: is_closing() at once, connection_lost(None) follows, the buffered data is "
             "never sent; close() right after abort() brings no second connection_lost",
    .rules = {"write.abort.connection-lost", "write.abort.discards-buffer", "transport.closing.after-close",
              "proto.connection-lost.none-on-close", "proto.order.lost-once", "proto.order.lost-exactly-once"},
    .variants = variants::kStreamAndServer,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          Digest written;
          std::uint64_t total = fill_until_buffered(ctx, conn, written);
          write_tracked(conn, pattern(100000, 53), written, total);
          const std::uint64_t buffered = t.get_write_buffer_size();
          t.abort();
          ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after abort()");
          t.close();  // before connection_lost is delivered: must not bring a second one
          if (!ctx.expect_within("write.abort.connection-lost", [&] { return conn.seen.lost > 0; },
                                 "connection_lost after abort()")) {
            return;
          }
          ctx.check("proto.connection-lost.none-on-close", !conn.seen.lost_error, lost_text(conn.seen) + " after abort()");
          ctx.run_pending();
          ctx.check("proto.order.lost-once", conn.seen.lost == 1,
                    fmt::format("connection_lost called {} times after abort() then close()", conn.seen.lost));
          ctx.check("proto.order.lost-exactly-once", conn.seen.lost == 1,
                    fmt::format("connection_lost called {} times", conn.seen.lost));
          conn.peer_resume_reading();
          ctx.wait([&] {
            auto s = conn.peer().snapshot();
            return s.eof_received || s.reset_received;
          }, "the peer to see the connection end");
          auto seen = conn.peer().snapshot();
          ctx.check("write.abort.discards-buffer", seen.bytes_received + buffered <= total,
                    fmt::format("{} bytes were buffered at abort(); the peer received {} of {} written", buffered,
                                seen.bytes_received, total));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
