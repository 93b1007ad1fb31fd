// AsioLoop's stream endpoints: each hands over to the class that owns the
// job; with ssl, every connection's protocol is the kit's TlsProtocol.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/asio/asio_error.hpp"
#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/asio/stream_connector.hpp"
#include "loopspec/asio/stream_server.hpp"
#include "loopspec/asio/stream_transport.hpp"
#include "loopspec/kit/socket_names.hpp"
#include "loopspec/kit/tls_setup.hpp"

namespace loopspec::asio {

namespace {

// connect_accepted_socket's fd as a generic stream socket; the canonical
// error (fd left to the caller) when it is no stream socket.
std::optional<StreamSocket> adopt_stream_socket(AsioLoop& loop, int fd, Error& error) {
  int family = kit::stream_socket_family(fd, error);
  if (family < 0) return std::nullopt;
  boost::system::error_code ec;
  StreamSocket socket(loop.context());
  socket.assign(net::generic::stream_protocol(family, SOCK_STREAM), fd, ec);
  if (ec) {
    error = error_from_code(ec);
    return std::nullopt;
  }
  return socket;
}

}  // namespace

void AsioLoop::create_connection(StreamProtocolFactory factory, Address address, ConnectOptions options,
                                 Completion<Transport> done) {
  auto setup = [&] { return kit::tls_client_setup(*this, options, address); };
  if (!kit::wrap_if_tls(*this, options.ssl != nullptr, setup, factory, done)) return;
  StreamConnector::start(*this, std::move(factory), address, std::move(done));
}

void AsioLoop::create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                             Completion<Server> done) {
  if (auto error = kit::wrap_server_if_tls(*this, options, factory)) return complete_with_error(std::move(done), *error);
  StreamServer::start(*this, std::move(factory), address, options, std::move(done));
}

void AsioLoop::connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                                       Completion<Transport> done) {
  // The fd is ours from the call on: closed on every failure.
  auto setup = [&] { return kit::tls_server_setup(*this, options); };
  if (!kit::wrap_if_tls(*this, options.ssl != nullptr, setup, factory, done)) {
    ::close(fd);
    return;
  }
  Error error;
  auto socket = adopt_stream_socket(*this, fd, error);
  if (!socket) {
    ::close(fd);
    return complete_with_error(std::move(done), std::move(error));
  }
  start_stream_connection(*this, std::move(*socket), factory, std::move(done));
}

}  // namespace loopspec::asio
