// Test support for the reference loop's TLS: settings from the build's
// throwaway material, and a TLS server with a client of it on one loop.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loop_test_support.hpp"
#include "loopspec/peer.hpp"
#include "loopspec/tls_material.hpp"

namespace loopspec::reference::testing {

inline const TlsMaterial& tls_material() {
  static const TlsMaterial material = TlsMaterial::locate();
  return material;
}

// A client that verifies the server against the trusted authority.
inline ConnectOptions tls_client_options(std::vector<std::string> alpn = {}) {
  auto config = std::make_shared<TlsConfig>();
  config->ca_file = tls_material().ca();
  config->alpn = std::move(alpn);
  ConnectOptions options;
  options.ssl = config;
  options.server_hostname = "localhost";
  return options;
}

// A server presenting the trusted certificate (or the untrusted one), asking for no client certificate.
inline ServerOptions tls_server_options(bool trusted = true, std::vector<std::string> alpn = {}) {
  auto config = std::make_shared<TlsConfig>();
  config->cert_file = trusted ? tls_material().server_cert() : tls_material().untrusted_cert();
  config->key_file = trusted ? tls_material().server_key() : tls_material().untrusted_key();
  config->verify_peer = false;
  config->alpn = std::move(alpn);
  ServerOptions options;
  options.ssl = config;
  return options;
}

// A TLS server of the loop under test and one client of it, also of that loop.
struct TlsPair {
  explicit TlsPair(kit::Faults faults = {}) : rig(faults) {}

  Rig rig;
  std::shared_ptr<RecordingProtocol> client = std::make_shared<RecordingProtocol>(&rig.runner);
  std::shared_ptr<RecordingProtocol> server = std::make_shared<RecordingProtocol>(&rig.runner);
  std::shared_ptr<Server> listener;
  std::optional<Outcome<Transport>> client_outcome;
  int server_factory_calls = 0;

  // Starts the server, then the client's create_connection (without waiting for it).
  void start(ConnectOptions client_options = tls_client_options(),
             ServerOptions server_options = tls_server_options()) {
    std::optional<Outcome<Server>> served;
    rig.loop.create_server(
        [this]() -> std::shared_ptr<StreamProtocol> {
          ++server_factory_calls;
          return server;
        },
        InetAddress{"127.0.0.1", 0}, std::move(server_options), [&](Outcome<Server> o) {
          served = std::move(o);
          rig.runner.notify();
        });
    if (!rig.run_until([&] { return served.has_value(); }) || !served->ok()) {
      throw std::runtime_error("the TLS server did not start");
    }
    listener = served->value;
    rig.loop.create_connection([this] { return client; }, listener->addresses().front(), std::move(client_options),
                               [this](Outcome<Transport> o) {
                                 client_outcome = std::move(o);
                                 rig.runner.notify();
                               });
  }

  // start(), then waits until both sides have connection_made.
  bool establish(ConnectOptions client_options = tls_client_options(),
                 ServerOptions server_options = tls_server_options()) {
    start(std::move(client_options), std::move(server_options));
    return rig.run_until([&] { return client->made_count == 1 && server->made_count == 1 && client_outcome; });
  }
};

// Wakes the runner from the peer's thread whenever the peer sees something.
inline void watch_peer(Rig& rig, Peer& peer) {
  peer.set_notify([&rig] { rig.loop.call_soon_threadsafe([&rig] { rig.runner.notify(); }); });
}

}  // namespace loopspec::reference::testing
