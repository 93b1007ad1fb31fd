#include "loopspec/kit/tls_setup.hpp"

#include <fmt/core.h>

namespace loopspec::kit {

namespace {

Duration positive_timeout(const std::optional<Duration>& given, Duration fallback, const char* name) {
  if (!given) return fallback;
  if (given->count() <= 0) {
    throw ContractError(Error{"ValueError", 0, fmt::format("{} should be a positive number, got {}", name, given->count())});
  }
  return *given;
}

// The side and both timeouts, from ConnectOptions or ServerOptions.
template <class Options>
TlsSetup setup_with_timeouts(const Options& options, bool server_side) {
  TlsSetup setup;
  setup.options.server_side = server_side;
  setup.options.handshake_timeout =
      positive_timeout(options.ssl_handshake_timeout, setup.options.handshake_timeout, "ssl_handshake_timeout");
  setup.options.shutdown_timeout =
      positive_timeout(options.ssl_shutdown_timeout, setup.options.shutdown_timeout, "ssl_shutdown_timeout");
  return setup;
}

// The context of one side, with the chosen faults applied.
std::shared_ptr<const TlsContext> context_for(const LoopBase& loop, TlsConfig config, bool server_side) {
  // Fault: tls-skips-verification
  if (!server_side && loop.faults().tls_skips_verification) config.verify_peer = false;
  // Fault: tls-ignores-alpn
  if (loop.faults().tls_ignores_alpn) config.alpn.clear();
  return TlsContext::create(config, server_side);
}

}  // namespace

TlsSetup tls_client_setup(const LoopBase& loop, const ConnectOptions& options, const Address& address) {
  TlsSetup setup = setup_with_timeouts(options, false);
  setup.options.server_hostname = options.server_hostname;
  if (setup.options.server_hostname.empty()) {
    const auto* inet = std::get_if<InetAddress>(&address);
    if (inet == nullptr) {
      throw ContractError(Error{"ValueError", 0, "You must set server_hostname when using ssl without a host"});
    }
    setup.options.server_hostname = inet->host;
  }
  setup.context = context_for(loop, *options.ssl, false);
  return setup;
}

TlsSetup tls_server_setup(const LoopBase& loop, const ServerOptions& options) {
  TlsSetup setup = setup_with_timeouts(options, true);
  setup.context = context_for(loop, *options.ssl, true);
  return setup;
}

TlsWrapped wrap_for_tls(LoopBase& loop, StreamProtocolFactory app_factory, TlsSetup setup,
                        Completion<Transport> app_done) {
  // Shared by the connect/factory error path and the TlsProtocol: whoever runs it first takes it.
  auto done = app_done ? std::make_shared<Completion<Transport>>(std::move(app_done)) : nullptr;
  TlsWrapped wrapped;
  wrapped.factory = [&loop, app_factory = std::move(app_factory), setup = std::move(setup),
                     done]() -> std::shared_ptr<StreamProtocol> {
    auto app = app_factory();
    if (!app) throw ContractError(Error{"TypeError", 0, "the protocol factory returned no protocol"});
    return TlsProtocol::create(loop, setup.context, setup.options, std::move(app), done);
  };
  wrapped.done = [done](Outcome<Transport> raw) {
    // Success is the raw connection only: the TlsProtocol completes after the handshake.
    if (raw.ok() || !done || !*done) return;
    auto complete = std::exchange(*done, nullptr);
    complete(Outcome<Transport>{nullptr, raw.error});
  };
  return wrapped;
}

MaybeError wrap_server_if_tls(LoopBase& loop, const ServerOptions& options, StreamProtocolFactory& factory) {
  if (!options.ssl) return std::nullopt;
  try {
    factory = wrap_for_tls(loop, factory, tls_server_setup(loop, options), nullptr).factory;
  } catch (const ContractError& e) {
    return e.error();
  }
  return std::nullopt;
}

}  // namespace loopspec::kit
