// UvLoop's stream endpoints, after kit::TransportLoop's checks and TLS
// wrapping: each hands over to the class that owns the job.
#include <sys/socket.h>

#include "loopspec/libuv/stream_connector.hpp"
#include "loopspec/libuv/stream_server.hpp"
#include "loopspec/libuv/stream_transport.hpp"
#include "loopspec/libuv/uv_error.hpp"
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
  // connect_accepted_socket's fd as a libuv stream handle (libuv makes it
  // non-blocking): a uv_pipe_t for a Unix socket, a uv_tcp_t otherwise.
  HandleBox* box = HandleBox::make(nullptr);
  int status = 0;
  if (family == AF_UNIX) {
    uv_pipe_init(&loop_, &box->pipe, 0);
    box->adopt();
    status = uv_pipe_open(&box->pipe, fd);
  } else {
    uv_tcp_init(&loop_, &box->tcp);
    box->adopt();
    status = uv_tcp_open(&box->tcp, fd);
  }
  if (status != 0) {
    HandleBox::close(box);
    return error_from_status(status);
  }
  start_stream_connection(*this, box, factory, std::move(done));
  return std::nullopt;
}

}  // namespace loopspec::libuv
