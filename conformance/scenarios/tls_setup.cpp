// TLS connection setup: the handshake before connection_made, certificate
// verification on both sides, the handshake timeout, ALPN. (The stream
// scenarios run over TLS too, in their "tls" variants.)
#include <fmt/core.h>

#include "tls_support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "tls.setup.handshake-then-made",
    .title = "over TLS, connection_made comes after the handshake, the setup completes with that transport, and "
             "bytes cross both ways through the encryption",
    .rules = {"loop.tls.encrypted-stream", "proto.order.made-first"},
    .variants = variants::kTls,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          // The client finishes its handshake first: a backend's server can only have finished after the peer.
          if (ctx.variant() == "tls-server") {
            ctx.check("loop.tls.encrypted-stream", conn.peer().snapshot().tls_handshake_done,
                      "the server's connection_made came before its client (the peer) finished the TLS handshake");
          }
          ctx.expect_within("loop.tls.encrypted-stream", [&] { return conn.peer().snapshot().tls_handshake_done; },
                            "the peer to finish the TLS handshake");
          const std::string out = pattern(100000, 101);
          const std::string in = pattern(70000, 102);
          t.write(out);
          conn.peer_send(in, 0);
          ctx.expect_within("loop.tls.encrypted-stream",
                            [&] {
                              return conn.peer().snapshot().bytes_received >= out.size() &&
                                     conn.seen.received.size() >= in.size();
                            },
                            "bytes both ways through TLS");
          auto peer = conn.peer().snapshot();
          ctx.check("loop.tls.encrypted-stream",
                    peer.received_digest == Digest::of(out) && conn.seen.received == in && !peer.tls_error,
                    fmt::format("the TLS peer read {} of {} bytes written (intact: {}); the protocol got {} of the "
                                "peer's {} (intact: {}); peer TLS error: {}",
                                peer.bytes_received, out.size(), peer.received_digest == Digest::of(out),
                                conn.seen.received.size(), in.size(), conn.seen.received == in,
                                peer.tls_error.value_or("none")));
        },
});

void check_rejected(ScenarioContext& ctx, const TlsAttempt& attempt, const std::string& what) {
  ctx.run_pending();
  ctx.check("loop.tls.verifies-certificate", attempt.completed && !attempt.result.ok() && attempt.result.error,
            what + ": the setup completed with " + attempt.outcome_text());
  ctx.check("proto.setup.no-lost-without-made", attempt.seen.made == 0 && attempt.seen.lost == 0,
            fmt::format("{}: the failed setup called connection_made {} and connection_lost {} time(s)", what,
                        attempt.seen.made, attempt.seen.lost));
}

LOOPSPEC_SCENARIO({
    .id = "tls.setup.client-verifies",
    .title = "a verifying TLS client: with the trusted authority and the certificate's name the setup succeeds; a "
             "certificate from an untrusted authority, or for another name, fails it without protocol callbacks",
    .rules = {"loop.tls.verifies-certificate", "proto.setup.no-lost-without-made"},
    .variants = {"tls"},
    .body =
        [](ScenarioContext& ctx) {
          const TlsMaterial& material = ctx.tls_material();
          auto trusted = connect_tls(ctx, tls_connect_options(material), peer_tls_server(material));
          ctx.check("loop.tls.verifies-certificate", trusted->completed && trusted->result.ok(),
                    "the control setup (trusted authority, matching name) completed with " + trusted->outcome_text());

          PeerTls untrusted = peer_tls_server(material);
          untrusted.cert_file = material.untrusted_cert();
          untrusted.key_file = material.untrusted_key();
          auto stranger = connect_tls(ctx, tls_connect_options(material), untrusted);
          check_rejected(ctx, *stranger, "a certificate from an authority the client does not trust");

          ConnectOptions other_name = tls_connect_options(material);
          other_name.server_hostname = "not-localhost.invalid";
          auto mismatch = connect_tls(ctx, other_name, peer_tls_server(material));
          check_rejected(ctx, *mismatch, "server_hostname 'not-localhost.invalid' against a certificate for localhost");
        },
});

LOOPSPEC_SCENARIO({
    .id = "tls.setup.server-rejected",
    .title = "a TLS client rejects the server's certificate: the server's protocol, made for that connection, "
             "never gets a callback",
    .rules = {"proto.setup.no-lost-without-made"},
    .variants = {"tls-server"},
    .body =
        [](ScenarioContext& ctx) {
          const TlsMaterial& material = ctx.tls_material();
          StreamObservations seen;
          StreamHooks hooks;
          int factory_calls = 0;
          auto factory = [&]() -> std::shared_ptr<StreamProtocol> {
            ++factory_calls;
            return ctx.recorder().record_stream(std::make_shared<ObservingProtocol>(seen, hooks));
          };
          std::shared_ptr<Server> server;
          MaybeError failure;
          bool completed = false;
          ctx.loop().create_server(factory, InetAddress{"127.0.0.1", 0}, tls_server_options(material),
                                   [&](Outcome<Server> outcome) {
                                     completed = true;
                                     server = outcome.value;
                                     failure = outcome.error;
                                   });
          ctx.wait([&] { return completed; }, "create_server to complete");
          if (!server) throw ScenarioAbort("create_server failed: " + (failure ? failure->to_string() : "no server"));
          auto addresses = server->addresses();
          if (addresses.empty()) throw ScenarioAbort("the server reports no address");
          PeerTls distrustful = peer_tls_client(material);
          distrustful.ca_file = material.untrusted_ca();
          auto peer = Peer::connect(addresses.front(), ctx.wait_timeout(), distrustful);
          ctx.watch(*peer);
          ctx.expect_within("proto.setup.no-lost-without-made",
                            [&] {
                              auto s = peer->snapshot();
                              return s.tls_error && (s.eof_received || s.reset_received);
                            },
                            "the server to end the connection whose certificate the client rejected");
          ctx.run_pending();
          ctx.check("proto.setup.no-lost-without-made", seen.made == 0 && seen.lost == 0,
                    fmt::format("after the failed handshake ({} protocol(s) made by the factory) connection_made was "
                                "called {} and connection_lost {} time(s); the client's error: {}",
                                factory_calls, seen.made, seen.lost, peer->snapshot().tls_error.value_or("none")));
          server->close();
        },
});

LOOPSPEC_SCENARIO({
    .id = "tls.setup.handshake-timeout",
    .title = "create_connection with ssl_handshake_timeout=0.1 to a peer that never answers the TLS hello: the "
             "setup fails after the timeout, without protocol callbacks",
    .rules = {"loop.tls.handshake-timeout", "proto.setup.no-lost-without-made"},
    .variants = {"tls"},
    .body =
        [](ScenarioContext& ctx) {
          constexpr double kTimeout = 0.1;
          // The kernel completes the TCP connection; nobody ever reads the hello.
          PeerListener silent(InetAddress{"127.0.0.1", 0});
          StreamObservations seen;
          StreamHooks hooks;
          auto protocol = ctx.recorder().record_stream(std::make_shared<ObservingProtocol>(seen, hooks));
          ConnectOptions options = tls_connect_options(ctx.tls_material());
          options.ssl_handshake_timeout = Duration(kTimeout);
          bool completed = false;
          Outcome<Transport> result;
          const Duration started = ctx.loop().time();
          Duration finished{};
          ctx.loop().create_connection([protocol] { return protocol; }, silent.address(), options,
                                       [&](Outcome<Transport> outcome) {
                                         completed = true;
                                         finished = ctx.loop().time();
                                         result = std::move(outcome);
                                       });
          if (!ctx.expect_within("loop.tls.handshake-timeout", [&] { return completed; },
                                 "the TLS handshake to time out")) {
            return;
          }
          ctx.run_pending();
          const double elapsed = (finished - started).count();
          const auto& e = result.error;
          bool timeout_error = e && (e->type == "ConnectionAbortedError" || e->type == "TimeoutError" ||
                                     e->type == "OSError" || e->type == "SSLError");
          ctx.check("loop.tls.handshake-timeout", !result.ok() && timeout_error && elapsed >= kTimeout * 0.9,
                    fmt::format("the setup completed after {:.3f} s (timeout {} s) with {}", elapsed, kTimeout,
                                e ? e->to_string() : std::string("a transport")));
          ctx.check("proto.setup.no-lost-without-made", seen.made == 0 && seen.lost == 0,
                    fmt::format("the timed-out setup called connection_made {} and connection_lost {} time(s)",
                                seen.made, seen.lost));
        },
});

LOOPSPEC_SCENARIO({
    .id = "tls.setup.alpn",
    .title = "ALPN: the backend's client offers its protocols and its server picks from them; the TLS peer sees "
             "'http/1.1' selected",
    .rules = {"loop.tls.alpn"},
    .variants = variants::kTls,
    .body =
        [](ScenarioContext& ctx) {
          const TlsMaterial& material = ctx.tls_material();
          const std::vector<std::string> backend_alpn{"h2", "http/1.1"};
          const std::vector<std::string> peer_alpn{"spdy/3", "http/1.1"};
          std::unique_ptr<TlsAttempt> client;
          std::unique_ptr<Peer> client_peer;
          std::shared_ptr<Server> server;
          StreamObservations seen;
          StreamHooks hooks;
          Peer* peer = nullptr;
          if (ctx.variant() == "tls") {
            ConnectOptions options = tls_connect_options(material);
            options.ssl = with_alpn(options.ssl, backend_alpn);
            PeerTls peer_tls = peer_tls_server(material);
            peer_tls.alpn = peer_alpn;
            client = connect_tls(ctx, options, peer_tls);
            if (!client->result.ok() || !client->peer) {
              throw ScenarioAbort("the TLS setup failed: " + client->outcome_text());
            }
            peer = client->peer.get();
          } else {
            auto protocol = ctx.recorder().record_stream(std::make_shared<ObservingProtocol>(seen, hooks));
            ServerOptions options = tls_server_options(material);
            options.ssl = with_alpn(options.ssl, backend_alpn);
            bool completed = false;
            ctx.loop().create_server([protocol] { return protocol; }, InetAddress{"127.0.0.1", 0}, options,
                                     [&](Outcome<Server> outcome) {
                                       completed = true;
                                       server = outcome.value;
                                     });
            ctx.wait([&] { return completed; }, "create_server to complete");
            if (!server || server->addresses().empty()) throw ScenarioAbort("create_server failed");
            PeerTls peer_tls = peer_tls_client(material);
            peer_tls.alpn = peer_alpn;
            client_peer = Peer::connect(server->addresses().front(), ctx.wait_timeout(), peer_tls);
            ctx.watch(*client_peer);
            peer = client_peer.get();
            ctx.wait([&] { return seen.made > 0; }, "connection_made on the server's side");
          }
          ctx.expect_within("loop.tls.alpn", [&] { return peer->snapshot().tls_handshake_done; },
                            "the peer to finish the handshake");
          auto s = peer->snapshot();
          ctx.check("loop.tls.alpn", s.tls_alpn == "http/1.1",
                    fmt::format("the backend {} ALPN [h2, http/1.1], the peer [spdy/3, http/1.1]: the handshake "
                                "selected '{}'",
                                ctx.variant() == "tls" ? "offered" : "accepts", s.tls_alpn));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
