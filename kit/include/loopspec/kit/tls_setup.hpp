// create_connection, create_server and connect_accepted_socket with ssl: the
// plain stream machinery (StreamConnector, StreamServer, StreamTransport)
// with a TlsProtocol as every connection's protocol.
//
// Promises:
// - The options are checked as asyncio checks them, before any socket is
//   made: a timeout that is not positive is a ValueError; a client without a
//   host to check (a Unix address) needs server_hostname (ValueError); the
//   context's own errors (tls_context.hpp) come as they are.
// - The application's factory runs when the connection is made or accepted,
//   before the handshake (as asyncio does); the application's completion
//   runs once: after connection_made, or with the first error (connect,
//   factory, handshake).
#pragma once

#include <memory>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/loop_base.hpp"
#include "loopspec/kit/tls_context.hpp"
#include "loopspec/kit/tls_protocol.hpp"

namespace loopspec::kit {

struct TlsSetup {
  std::shared_ptr<const TlsContext> context;
  TlsOptions options;
};

// Throw ContractError (see above).
TlsSetup tls_client_setup(const LoopBase& loop, const ConnectOptions& options, const Address& address);
TlsSetup tls_server_setup(const LoopBase& loop, const ServerOptions& options);

// The raw connection's factory and completion: each raw connection's
// protocol is a TlsProtocol around a protocol from app_factory. app_done
// may be empty (servers).
struct TlsWrapped {
  StreamProtocolFactory factory;
  Completion<Transport> done;
};
TlsWrapped wrap_for_tls(LoopBase& loop, StreamProtocolFactory app_factory, TlsSetup setup,
                        Completion<Transport> app_done);

// What a loop's create_server does with ssl: the factory becomes the TLS
// layer's around the application's; the settings' error when they are
// refused (nothing changed then).
MaybeError wrap_server_if_tls(LoopBase& loop, const ServerOptions& options, StreamProtocolFactory& factory);

// What a loop's create_connection and connect_accepted_socket do with ssl:
// when `ssl` is set, factory and done become the TLS layer's around the
// application's (make_setup() gives the TlsSetup) and true is returned;
// without ssl they stay as they are. False when make_setup refused the
// settings: done was handed the error (scheduled) and is empty now.
template <class MakeSetup>
bool wrap_if_tls(LoopBase& loop, bool ssl, MakeSetup make_setup, StreamProtocolFactory& factory,
                 Completion<Transport>& done) {
  if (!ssl) return true;
  try {
    auto tls = wrap_for_tls(loop, std::move(factory), make_setup(), std::move(done));
    factory = std::move(tls.factory);
    done = std::move(tls.done);
    return true;
  } catch (const ContractError& e) {
    loop.complete_with_error(std::move(done), e.error());
    return false;
  }
}

}  // namespace loopspec::kit
