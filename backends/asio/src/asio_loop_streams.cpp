// AsioLoop's stream endpoints, after kit::TransportLoop's checks and TLS
// wrapping: each hands over to the class that owns the job.
#include <sys/socket.h>

#include "loopspec/asio/asio_error.hpp"
#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/asio/stream_connector.hpp"
#include "loopspec/asio/stream_server.hpp"
#include "loopspec/asio/stream_transport.hpp"

namespace loopspec::asio {

void AsioLoop::connect_stream(StreamProtocolFactory factory, const Address& address, Completion<Transport> done) {
  StreamConnector::start(*this, std::move(factory), address, std::move(done));
}

void AsioLoop::serve_stream(StreamProtocolFactory factory, const Address& address, const ServerOptions& options,
                            Completion<Server> done) {
  StreamServer::start(*this, std::move(factory), address, options, std::move(done));
}

MaybeError AsioLoop::start_accepted_socket(const StreamProtocolFactory& factory, int fd, int family,
                                           Completion<Transport>& done) {
  // connect_accepted_socket's fd as a generic stream socket.
  boost::system::error_code ec;
  StreamSocket socket(context());
  socket.assign(net::generic::stream_protocol(family, SOCK_STREAM), fd, ec);
  if (ec) return error_from_code(ec);
  start_stream_connection(*this, std::move(socket), factory, std::move(done));
  return std::nullopt;
}

}  // namespace loopspec::asio
