// The life of a stream connection from the protocol's side: made, data in
// order, EOF, lost — the callback order every other scenario relies on.
#include <fmt/core.h>

#include "support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "stream.lifecycle.receive-then-eof",
    .title = "the peer sends 256 KiB in uneven chunks and shuts down: data arrives in order, then eof_received, "
             "then connection_lost(None)",
    .rules = {"proto.order.made-first", "proto.order.made-once", "proto.order.lost-once", "proto.order.lost-last",
              "proto.order.lost-exactly-once", "proto.data.non-empty", "proto.data.in-order", "proto.data.not-after-eof",
              "proto.eof.at-most-once", "proto.eof.false-closes", "proto.connection-lost.none-on-close",
              "proto.data.chunking", "buffered.order.updated-after-get-buffer", "buffered.buffer.nbytes-within-buffer",
              "buffered.get-buffer.sizehint", "proto.eof.on-peer-shutdown", "proto.streaming.factories",
              "transport.closing.false-while-open", "transport.closing.after-lost", "buffered.supported-wherever-streaming",
              "buffered.data.in-order", "buffered.eof.as-protocol", "buffered.get-buffer.unanswered-allowed"},
    .variants = variants::kReceive,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          const bool buffered = ctx.variant().find("+buffered") != std::string::npos;
          ctx.check("proto.streaming.factories", conn.seen.made == 1 && conn.transport() != nullptr,
                    "create_connection/create_server accepted the streaming protocol's factory");
          if (buffered) {
            ctx.check("buffered.supported-wherever-streaming", conn.seen.made == 1,
                      "a BufferedProtocol got connection_made in variant " + ctx.variant());
          }
          ctx.check("transport.closing.false-while-open", !conn.transport()->is_closing(),
                    "is_closing() is true on a connection just made");
          const std::string data = pattern(256 * 1024 + 17, 3);
          conn.peer_send(data, 4093);
          conn.peer_shutdown_write();
          ctx.expect_within("proto.eof.false-closes", [&] { return conn.seen.lost > 0; },
                            "connection_lost after the peer's EOF");
          ctx.run_pending();
          ctx.check("proto.data.in-order", conn.seen.received == data,
                    fmt::format("received {} bytes, digest {}; the peer sent {} bytes, digest {}",
                                conn.seen.received.size(), Digest::of(conn.seen.received), data.size(),
                                Digest::of(data)));
          check_eof_once(ctx, conn.seen);
          ctx.check("transport.closing.after-lost", conn.transport()->is_closing(),
                    "is_closing() is false after connection_lost");
          if (buffered) {
            ctx.check("buffered.data.in-order", conn.seen.received == data, "the bytes buffer_updated reported");
            ctx.check("buffered.eof.as-protocol", conn.seen.eof == 1 && conn.seen.lost == 1,
                      fmt::format("BufferedProtocol.eof_received returned false: eof_received {} time(s), "
                                  "connection_lost {} time(s)",
                                  conn.seen.eof, conn.seen.lost));
            ctx.check("buffered.get-buffer.unanswered-allowed", true,
                      fmt::format("{} get_buffer calls, {} buffer_updated calls", conn.seen.sizehints.size(),
                                  conn.seen.data_calls));
          }
          ctx.check("proto.order.lost-exactly-once", conn.seen.lost == 1,
                    fmt::format("connection_lost was called {} times", conn.seen.lost));
          ctx.check("proto.connection-lost.none-on-close", !conn.seen.lost_error,
                    lost_text(conn.seen) + " after a regular EOF");
          std::string sizes;
          for (std::size_t i = 0; i < conn.seen.chunk_sizes.size() && i < 8; ++i) {
            sizes += fmt::format("{}{}", i ? ", " : "", conn.seen.chunk_sizes[i]);
          }
          ctx.check("proto.data.chunking", true,
                    fmt::format("{} bytes sent in 4093-byte sends arrived in {} data_received calls (first: {})",
                                data.size(), conn.seen.data_calls, sizes));
          if (!conn.seen.sizehints.empty()) {
            ctx.check("buffered.get-buffer.sizehint", true,
                      fmt::format("first get_buffer sizehint: {}", conn.seen.sizehints.front()));
          }
        },
});

// The errors a connection the peer reset may end with (asyncio passes the OSError of the failed recv/send).
bool is_connection_error(const MaybeError& e) {
  return e && (e->type == "ConnectionResetError" || e->type == "BrokenPipeError" ||
               e->type == "ConnectionAbortedError" || e->type == "OSError");
}

LOOPSPEC_SCENARIO({
    .id = "stream.lifecycle.peer-reset",
    .title = "the peer resets the connection (RST): connection_lost gets a ConnectionResetError-class error, once",
    .rules = {"proto.connection-lost.error-on-failure", "proto.order.lost-once", "proto.order.lost-last"},
    .variants = {"tcp", "tcp-server", "tls", "tls-server"},
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          conn.peer_send(pattern(1000), 0);
          ctx.wait([&] { return conn.seen.received.size() >= 1000; }, "the peer's first bytes");
          conn.peer_reset();
          bool lost = ctx.expect_within("proto.connection-lost.error-on-failure", [&] { return conn.seen.lost > 0; },
                                        "connection_lost after the peer's reset");
          if (!lost) return;
          ctx.run_pending();
          ctx.check("proto.connection-lost.error-on-failure", is_connection_error(conn.seen.lost_error),
                    lost_text(conn.seen.lost_error) + " after the peer reset the connection");
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.lifecycle.reset-behind-unread-data",
    .title = "the peer resets the connection (RST) while bytes it sent wait unread (reading paused): after "
             "resume_reading the bytes that arrived may be delivered, then connection_lost gets a "
             "ConnectionResetError-class error, once; a reset is not an end of file",
    .rules = {"proto.connection-lost.error-on-failure", "proto.order.lost-once", "proto.order.lost-last",
              "proto.data.in-order"},
    .variants = {"tcp", "tcp-server"},
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          t.pause_reading();
          const std::string data = pattern(128 * 1024, 73);
          conn.peer_send(data, 0);
          ctx.wait([&] { return conn.peer().snapshot().bytes_sent >= data.size(); }, "the peer to send");
          conn.peer_reset();
          ctx.wait([&] { return conn.peer().snapshot().closed; }, "the peer's reset");
          t.resume_reading();
          bool lost = ctx.expect_within("proto.connection-lost.error-on-failure", [&] { return conn.seen.lost > 0; },
                                        "connection_lost after the peer's reset");
          if (!lost) return;
          ctx.run_pending();
          ctx.check("proto.data.in-order", data.compare(0, conn.seen.received.size(), conn.seen.received) == 0,
                    fmt::format("the {} bytes delivered before the reset are not the start of what was sent",
                                conn.seen.received.size()));
          ctx.check("proto.connection-lost.error-on-failure", is_connection_error(conn.seen.lost_error),
                    fmt::format("{} after the peer reset the connection behind {} unread bytes ({} delivered, "
                                "eof_received called {} time(s))",
                                lost_text(conn.seen.lost_error), data.size(), conn.seen.received.size(),
                                conn.seen.eof));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
