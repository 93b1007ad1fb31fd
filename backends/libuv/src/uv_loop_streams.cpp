// UvLoop's stream endpoints: each hands over to the class that owns the job;
// with ssl, every connection's protocol is the kit's TlsProtocol.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

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
  int type = 0;
  int family = 0;
  socklen_t length = sizeof type;
  socklen_t family_length = sizeof family;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &family_length) < 0) {
    error = Error::from_errno(errno);
    return nullptr;
  }
  if (type != SOCK_STREAM) {
    error = Error{"ValueError", 0, "A Stream Socket was expected, got socket type " + std::to_string(type)};
    return nullptr;
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // libuv makes it non-blocking; close-on-exec is ours to add
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
  if (options.ssl) {
    try {
      factory = kit::wrap_for_tls(*this, std::move(factory), kit::tls_server_setup(*this, options), nullptr).factory;
    } catch (const ContractError& e) {
      return complete_with_error(std::move(done), e.error());
    }
  }
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
