// Ending a TLS stream: close_notify after the buffered data, and the shutdown
// timeout for a peer that never answers it.
#include <fmt/core.h>

#include "tls_support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "tls.close.close-notify",
    .title = "close() right after a 300 KB write: the TLS peer receives every byte, then close_notify; "
             "connection_lost(None) follows",
    .rules = {"loop.tls.close-notify", "transport.close.flushes-buffer", "proto.connection-lost.none-on-close"},
    .variants = variants::kTls,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          Digest written;
          std::uint64_t total = 0;
          write_tracked(conn, pattern(300000, 121), written, total);
          t.close();
          if (!ctx.expect_within("loop.tls.close-notify",
                                 [&] { return conn.peer().snapshot().tls_close_notify_received; },
                                 "the peer to receive close_notify")) {
            return;
          }
          // The peer reads in order: what came before close_notify is all it has now.
          auto peer = conn.peer().snapshot();
          ctx.check("loop.tls.close-notify", peer.bytes_received == total && peer.received_digest == written.hex(),
                    fmt::format("close_notify arrived after {} of the {} bytes written", peer.bytes_received, total));
          check_peer_received(ctx, conn, total, written, "transport.close.flushes-buffer");
          if (!ctx.expect_within("loop.tls.close-notify", [&] { return conn.seen.lost > 0; },
                                 "connection_lost after the close_notify exchange")) {
            return;
          }
          ctx.check("proto.connection-lost.none-on-close", !conn.seen.lost_error,
                    lost_text(conn.seen) + " after close()");
        },
});

LOOPSPEC_SCENARIO({
    .id = "tls.close.shutdown-timeout",
    .title = "close() with ssl_shutdown_timeout=0.15 while the TLS peer reads nothing, so never answers "
             "close_notify: connection_lost still comes, after the timeout",
    .rules = {"loop.tls.shutdown-timeout"},
    .variants = {"tls"},
    .body =
        [](ScenarioContext& ctx) {
          constexpr double kTimeout = 0.15;
          const TlsMaterial& material = ctx.tls_material();
          ConnectOptions options = tls_connect_options(material);
          options.ssl_shutdown_timeout = Duration(kTimeout);
          auto attempt = connect_tls(ctx, options, peer_tls_server(material));
          if (!attempt->result.ok() || !attempt->peer || !attempt->seen.transport) {
            throw ScenarioAbort("the TLS setup failed: " + attempt->outcome_text());
          }
          attempt->peer->stop_reading();
          ctx.wait([&] { return !attempt->peer->snapshot().reading; }, "the peer to stop reading");
          const Duration started = ctx.loop().time();
          Duration lost_at{};
          attempt->hooks.on_lost = [&](const MaybeError&) { lost_at = ctx.loop().time(); };
          attempt->seen.transport->close();
          if (!ctx.expect_within("loop.tls.shutdown-timeout", [&] { return attempt->seen.lost > 0; },
                                 "connection_lost after the shutdown timeout")) {
            return;
          }
          const double elapsed = (lost_at - started).count();
          ctx.check("loop.tls.shutdown-timeout", elapsed >= kTimeout * 0.9 && attempt->seen.lost == 1,
                    fmt::format("connection_lost({}) {:.3f} s after close() (timeout {} s)",
                                attempt->seen.lost_error ? attempt->seen.lost_error->to_string() : "None", elapsed,
                                kTimeout));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
