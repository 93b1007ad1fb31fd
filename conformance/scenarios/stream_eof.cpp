// Half-close: eof_received's return value, and write_eof.
#include <fmt/core.h>

#include "support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "stream.eof.true-keeps-half-open",
    .title = "eof_received returns true: the transport stays open, the protocol writes a reply the peer receives, "
             "then closes it",
    .rules = {"proto.eof.true-half-open", "proto.eof.at-most-once", "proto.eof.on-peer-shutdown", "proto.connection-lost.none-on-close",
              "buffered.eof.as-protocol"},
    .variants = variants::kHalfCloseReceive,
    .body =
        [](ScenarioContext& ctx) {
          StreamHooks hooks;
          hooks.on_eof = [] { return true; };
          auto& conn = ctx.open_stream(hooks);
          auto& t = *conn.transport();
          conn.peer_send("request", 0);
          conn.peer_shutdown_write();
          if (!ctx.expect_within("proto.eof.true-half-open", [&] { return conn.seen.eof > 0; }, "eof_received")) return;
          ctx.check("proto.eof.true-half-open", !t.is_closing() && conn.seen.lost == 0,
                    fmt::format("after eof_received returned true: is_closing() {}, connection_lost called {} time(s)",
                                t.is_closing(), conn.seen.lost));
          if (ctx.variant().find("+buffered") != std::string::npos) {
            ctx.check("buffered.eof.as-protocol", !t.is_closing() && conn.seen.lost == 0,
                      "BufferedProtocol.eof_received returned true: the transport stays open");
          }
          const std::string reply = pattern(100000, 41);
          t.write(reply);
          if (!ctx.expect_within("proto.eof.true-half-open",
                                 [&] { return conn.peer().snapshot().bytes_received >= reply.size(); },
                                 "the peer to receive the reply written after eof_received returned true")) {
            return;
          }
          ctx.check("proto.eof.true-half-open", conn.peer().snapshot().received_digest == Digest::of(reply),
                    "the reply written while half-open arrived intact");
          t.close();
          if (!ctx.expect_within("proto.connection-lost.none-on-close", [&] { return conn.seen.lost > 0; },
                                 "connection_lost after close()")) {
            return;
          }
          ctx.check("proto.connection-lost.none-on-close", !conn.seen.lost_error,
                    lost_text(conn.seen) + " after close()");
          check_eof_once(ctx, conn.seen);
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.eof.write-eof-flushes",
    .title = "write_eof with data buffered behind a stopped peer: the peer receives every byte, then EOF; data from "
             "the peer still arrives afterwards",
    .rules = {"write.eof.flushes-then-shuts-down", "write.eof.still-receives", "write.eof.can-write-eof-consistent",
              "write.data.in-order", "write.data.after-write-eof", "write.eof.may-be-unsupported"},
    .variants = variants::kHalfClose,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          bool can = t.can_write_eof();
          ctx.check("write.eof.can-write-eof-consistent", can,
                    "can_write_eof() is false on a plain stream socket, which supports half-close");
          if (!can) return;
          ctx.check("write.eof.may-be-unsupported", true, "can_write_eof() is true: write_eof() is supported");
          Digest written;
          std::uint64_t total = fill_until_buffered(ctx, conn, written);
          write_tracked(conn, pattern(30000, 42), written, total);
          t.write_eof();
          ctx.run_pending();
          ctx.check("write.eof.flushes-then-shuts-down", !conn.peer().snapshot().eof_received,
                    "the peer saw EOF while the transport still had buffered data");
          conn.peer_resume_reading();
          if (!ctx.expect_within("write.eof.flushes-then-shuts-down", [&] { return conn.peer().snapshot().eof_received; },
                                 "the peer to see EOF after write_eof()")) {
            return;
          }
          check_peer_received(ctx, conn, total, written, "write.eof.flushes-then-shuts-down");
          check_peer_received(ctx, conn, total, written, "write.data.in-order");
          auto after_eof = capture_error([&] { t.write("late"); });
          ctx.check("write.data.after-write-eof", true,
                    "write() after write_eof(): " + (after_eof ? "raised " + after_eof->to_string() : std::string("no error")));

          const std::string late = pattern(5000, 43);
          conn.peer_send(late, 0);
          ctx.expect_within("write.eof.still-receives", [&] { return conn.seen.received.size() >= late.size(); },
                            "data from the peer after write_eof()");
          ctx.check("write.eof.still-receives", conn.seen.received == late,
                    fmt::format("after write_eof() received {} of the peer's {} bytes", conn.seen.received.size(),
                                late.size()));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
