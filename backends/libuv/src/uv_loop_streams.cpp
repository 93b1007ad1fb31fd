// UvLoop's stream endpoints: each hands over to the class that owns the job;
// with ssl, every connection's protocol is the kit's TlsProtocol.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/kit/socket_names.hpp"
#include "loopspec/kit/tls_setup.hpp"
#include "loopspec/libuv/stream_connector.hpp"
#include "loopspec/libuv/stream_server.hpp"
#include "loopspec/libuv/stream_transport.hpp"
#include "loopspec/libuv/uv_error.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

namespace {

// connect_accepted_socket's fd as a libuv stream handle: a uv_pipe_t for a
// Unix socket, a uv_tcp_t otherwise; the canonical error (fd left to the
// caller) when it is no stream socket or libuv refuses it.
HandleBox* adopt_stream_socket(uv_loop_t* loop, int fd, Error& error) {
  int family = kit::stream_socket_family(fd, error);  // libuv makes it non-blocking
  if (family < 0) return nullptr;
  HandleBox* box = HandleBox::make(nullptr);
  int status = 0;
  if (family == AF_UNIX) {
    uv_pipe_init(loop, &box->pipe, 0);
    box->adopt();
    status = uv_pipe_open(&box->pipe, fd);
  } else {
    uv_tcp_init(loop, &box->tcp);
    box->adopt();
    status = uv_tcp_open(&box->tcp, fd);
  }
  if (status == 0) return box;
  HandleBox::close(box);
  error = error_from_status(status);
  return nullptr;
}

}  // namespace

void UvLoop::create_connection(StreamProtocolFactory factory, Address address, ConnectOptions options,
                               Completion<Transport> done) {
  auto setup = [&] { return kit::tls_client_setup(*this, options, address); };
  if (!kit::wrap_if_tls(*this, options.ssl != nullptr, setup, factory, done)) return;
  StreamConnector::start(*this, std::move(factory), address, std::move(done));
}

void UvLoop::create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                           Completion<Server> done) {
  if (auto error = kit::wrap_server_if_tls(*this, options, factory)) return complete_with_error(std::move(done), *error);
  StreamServer::start(*this, std::move(factory), address, options, std::move(done));
}

void UvLoop::connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                                     Completion<Transport> done) {
  // The fd is ours from the call on: closed on every failure.
  auto setup = [&] { return kit::tls_server_setup(*this, options); };
  if (!kit::wrap_if_tls(*this, options.ssl != nullptr, setup, factory, done)) {
    ::close(fd);
    return;
  }
  Error error;
  HandleBox* box = adopt_stream_socket(&loop_, fd, error);
  if (box == nullptr) {
    ::close(fd);
    return complete_with_error(std::move(done), std::move(error));
  }
  start_stream_connection(*this, box, factory, std::move(done));
}

}  // namespace loopspec::libuv
