#include "loopspec/libuv/stream_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "loopspec/kit/stream_setup.hpp"
#include "loopspec/libuv/stream_transport.hpp"
#include "loopspec/libuv/uv_address.hpp"
#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

namespace {

Error bind_error(int status, const Address& where) {
  return error_from_status(status, kit::bind_error_message(where, uv_strerror(status)));
}

}  // namespace

void StreamServer::start(UvLoop& loop, StreamProtocolFactory factory, const Address& address,
                         const ServerOptions& options, Completion<Server> done) {
  auto server = std::make_shared<StreamServer>(Passkey{}, loop, std::move(factory));
  auto finish = [&loop, server, done](MaybeError error) mutable {
    kit::finish_server_start(loop, server, std::move(done), std::move(error));
  };
  if (const auto* unix_address = std::get_if<UnixAddress>(&address)) {
    return finish(server->listen_unix(unix_address->path, options));
  }
  InetAddress inet = std::get<InetAddress>(address);
  if (inet.host.empty()) inet.host = "0.0.0.0";
  loop.resolver().resolve(inet, true, [server, options, finish](Resolved resolved) mutable {
    if (resolved.error) return finish(resolved.error);
    finish(server->listen_tcp(reinterpret_cast<const sockaddr*>(&resolved.addresses.front()), options));
  });
}

StreamServer::StreamServer(Passkey, UvLoop& loop, StreamProtocolFactory factory)
    : loop_(&loop), factory_(std::move(factory)) {}

StreamServer::~StreamServer() { HandleBox::close(box_); }

MaybeError StreamServer::listen_tcp(const sockaddr* address, const ServerOptions& options) {
  box_ = HandleBox::make(shared_from_this());
  // The socket exists from init on, so options can be set before bind.
  int status = uv_tcp_init_ex(loop_->uv(), &box_->tcp, address->sa_family);
  if (status < 0) {
    HandleBox::discard(std::exchange(box_, nullptr));
    return error_from_status(status);
  }
  box_->adopt();
  Address where = to_address(address);
  if (options.reuse_port) {
    uv_os_fd_t fd = -1;
    uv_fileno(&box_->handle, &fd);
    int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
      return Error::from_errno(errno, "reuse_port not supported by socket module");
    }
  }
  unsigned flags = address->sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
  status = uv_tcp_bind(&box_->tcp, address, flags);
  if (status < 0) return bind_error(status, where);
  return listen(options.backlog, where);
}

MaybeError StreamServer::listen_unix(const std::string& path, const ServerOptions& options) {
  if (auto error = unix_path_error(path)) return error;
  remove_stale_socket_file(path);
  box_ = HandleBox::make(shared_from_this());
  uv_pipe_init(loop_->uv(), &box_->pipe, 0);
  box_->adopt();
  int status = uv_pipe_bind(&box_->pipe, path.c_str());
  if (status < 0) return bind_error(status, UnixAddress{path});
  socket_file_.remember(path);
  return listen(options.backlog, UnixAddress{path});
}

MaybeError StreamServer::listen(int backlog, const Address& where) {
  // libuv reports some bind errors (EADDRINUSE) only here.
  int status = uv_listen(&box_->stream, std::max(backlog, 1), on_connection);
  if (status == UV_EADDRINUSE) return bind_error(status, where);
  if (status < 0) return error_from_status(status, "listen failed");
  if (auto address = local_address(&box_->handle)) addresses_.push_back(*address);
  return std::nullopt;
}

void StreamServer::on_connection(uv_stream_t* server, int status) {
  static_cast<StreamServer*>(HandleBox::owner_of(reinterpret_cast<uv_handle_t*>(server)))->accept_one(status);
}

void StreamServer::accept_one(int status) {
  if (status < 0) return loop_->report_exception("socket.accept()", error_from_status(status));
  HandleBox* client = HandleBox::make(nullptr);
  if (box_->handle.type == UV_TCP) {
    uv_tcp_init(loop_->uv(), &client->tcp);
  } else {
    uv_pipe_init(loop_->uv(), &client->pipe, 0);
  }
  client->adopt();
  status = uv_accept(&box_->stream, &client->stream);
  if (status < 0) {
    // That connection is gone (ECONNABORTED, ...); the next one may be fine.
    HandleBox::close(client);
    return;
  }
  start_stream_connection(*loop_, client, factory_, nullptr);
}

void StreamServer::close() {
  if (box_ == nullptr) return;
  HandleBox::close(std::exchange(box_, nullptr));
  socket_file_.remove();
}

void StreamServer::on_loop_destroyed() {
  close();
  factory_ = nullptr;
  loop_ = nullptr;
}

}  // namespace loopspec::libuv
