// Building blocks of the TLS scenarios: a TLS connection set up with
// settings of the scenario's own (the TLS variants of the stream scenarios
// use ScenarioContext::open_stream instead).
#pragma once

#include <memory>

#include "loopspec/conformance/tls_settings.hpp"
#include "support.hpp"

namespace loopspec::scenarios {

// One create_connection to a TLS peer listening on 127.0.0.1, its protocol
// recorded. Owns what the protocol observes, so keep it for the scenario's life.
struct TlsAttempt {
  StreamObservations seen;
  StreamHooks hooks;
  bool completed = false;
  Outcome<Transport> result;
  std::unique_ptr<Peer> peer;  // null when the backend never connected

  std::string outcome_text() const;  // "a transport" or the error
};

// Waits (bounded) until create_connection completed; the peer is watched.
std::unique_ptr<TlsAttempt> connect_tls(ScenarioContext& ctx, ConnectOptions options, const PeerTls& peer);

// Returns the given settings with another ALPN list.
std::shared_ptr<const TlsConfig> with_alpn(const std::shared_ptr<const TlsConfig>& config,
                                           std::vector<std::string> alpn);

}  // namespace loopspec::scenarios
