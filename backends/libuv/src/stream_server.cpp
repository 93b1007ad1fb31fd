#include "loopspec/libuv/stream_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>

#include "loopspec/kit/listening_socket.hpp"
#include "loopspec/kit/stream_setup.hpp"
#include "loopspec/libuv/stream_transport.hpp"
#include "loopspec/libuv/uv_address.hpp"
#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

namespace {

socklen_t inet_length(const sockaddr* address) {
  return address->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
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
    const auto* first = reinterpret_cast<const sockaddr*>(&resolved.addresses.front());
    finish(server->listen(first, inet_length(first), options, to_address(first)));
  });
}

StreamServer::StreamServer(Passkey, UvLoop& loop, StreamProtocolFactory factory)
    : loop_(&loop), factory_(std::move(factory)) {}

StreamServer::~StreamServer() { HandleBox::close(box_); }

MaybeError StreamServer::listen(const sockaddr* address, socklen_t length, const ServerOptions& options,
                                const Address& where) {
  family_ = address->sa_family;
  backlog_ = std::max(options.backlog, 1);
  Error error;
  int fd = kit::open_listening_socket(address, length, options, where, error);
  if (fd < 0) return error;
  box_ = HandleBox::make(shared_from_this());
  if (int status = uv_poll_init_socket(loop_->uv(), &box_->poll, fd); status < 0) {
    ::close(fd);
    HandleBox::discard(std::exchange(box_, nullptr));
    return error_from_status(status);
  }
  box_->adopt();
  box_->owned_fd = fd;  // closed with the handle
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) == 0) {
    addresses_.push_back(to_address(reinterpret_cast<const sockaddr*>(&bound)));
  }
  if (int status = uv_poll_start(&box_->poll, UV_READABLE, on_acceptable); status < 0) {
    return error_from_status(status);
  }
  return std::nullopt;
}

MaybeError StreamServer::listen_unix(const std::string& path, const ServerOptions& options) {
  auto address = unix_socket_address(path);
  if (!address) return unix_path_error(path);
  remove_stale_socket_file(path);
  auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (auto error = listen(reinterpret_cast<const sockaddr*>(&*address), length, options, UnixAddress{path})) {
    return error;
  }
  socket_file_.remember(path);
  return std::nullopt;
}

void StreamServer::on_acceptable(uv_poll_t* poll, int status, int /*events*/) {
  auto* server = static_cast<StreamServer*>(HandleBox::owner_of(reinterpret_cast<uv_handle_t*>(poll)));
  if (status < 0) return server->loop_->report_exception("socket.accept()", error_from_status(status));
  server->accept_pending();
}

void StreamServer::accept_pending() {
  int exhausted = kit::accept_ready(box_->owned_fd, backlog_, [this](int fd) {
    if (auto error = start_socket_connection(*loop_, fd, family_, factory_, nullptr)) {
      ::close(fd);
      loop_->report_exception("socket.accept()", *error);
    }
    return box_ != nullptr;  // the factory may have closed the server
  });
  if (exhausted != 0) {
    loop_->report_exception("socket.accept() out of system resource", Error::from_errno(exhausted));
    pause_accepting();
  }
}

void StreamServer::pause_accepting() {
  uv_poll_stop(&box_->poll);
  loop_->call_later(Duration(1.0), [weak = weak_from_this()] {
    auto server = weak.lock();
    if (server && server->box_ != nullptr && server->loop_ != nullptr) {
      uv_poll_start(&server->box_->poll, UV_READABLE, on_acceptable);
    }
  });
}

void StreamServer::close() {
  if (box_ == nullptr) return;
  // The socket goes at once, as asyncio closes it: a connection attempted
  // after close() is refused. Closing the handle stops the poll right away.
  int fd = std::exchange(box_->owned_fd, -1);
  HandleBox::close(std::exchange(box_, nullptr));
  ::close(fd);
  socket_file_.remove();
}

void StreamServer::on_loop_destroyed() {
  close();
  factory_ = nullptr;
  loop_ = nullptr;
}

}  // namespace loopspec::libuv
