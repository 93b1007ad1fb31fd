#include "tls_support.hpp"

namespace loopspec::scenarios {

std::string TlsAttempt::outcome_text() const {
  if (!completed) return "nothing (not completed)";
  return result.ok() ? std::string("a transport") : (result.error ? result.error->to_string() : "no transport");
}

std::unique_ptr<TlsAttempt> connect_tls(ScenarioContext& ctx, ConnectOptions options, const PeerTls& peer) {
  auto attempt = std::make_unique<TlsAttempt>();
  TlsAttempt* a = attempt.get();
  PeerListener listener(InetAddress{"127.0.0.1", 0});
  auto protocol = ctx.recorder().record_stream(std::make_shared<ObservingProtocol>(a->seen, a->hooks));
  ctx.loop().create_connection([protocol] { return protocol; }, listener.address(), std::move(options),
                               [a](Outcome<Transport> outcome) {
                                 a->completed = true;
                                 a->result = std::move(outcome);
                               });
  a->peer = ctx.accept_tls_while(listener, peer, [a] { return a->completed; }, "the TLS setup to complete");
  if (a->peer) ctx.watch(*a->peer);
  return attempt;
}

std::shared_ptr<const TlsConfig> with_alpn(const std::shared_ptr<const TlsConfig>& config,
                                           std::vector<std::string> alpn) {
  auto copy = std::make_shared<TlsConfig>(*config);
  copy->alpn = std::move(alpn);
  return copy;
}

}  // namespace loopspec::scenarios
