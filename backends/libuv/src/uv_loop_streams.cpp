// UvLoop's stream endpoints, after kit::TransportLoop's checks and TLS
// wrapping: each hands over to the class that owns the job.
#include "loopspec/libuv/stream_connector.hpp"
#include "loopspec/libuv/stream_server.hpp"
#include "loopspec/libuv/stream_transport.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

void UvLoop::connect_stream(StreamProtocolFactory factory, const Address& address, Completion<Transport> done) {
  StreamConnector::start(*this, std::move(factory), address, std::move(done));
}

void UvLoop::serve_stream(StreamProtocolFactory factory, const Address& address, const ServerOptions& options,
                          Completion<Server> done) {
  StreamServer::start(*this, std::move(factory), address, options, std::move(done));
}

MaybeError UvLoop::start_accepted_socket(const StreamProtocolFactory& factory, int fd, int family,
                                         Completion<Transport>& done) {
  return start_socket_connection(*this, fd, family, factory, std::move(done));
}

}  // namespace loopspec::libuv
