#include "loopspec/reference/stream_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "loopspec/kit/listening_socket.hpp"
#include "loopspec/kit/socket_names.hpp"
#include "loopspec/reference/socket_address.hpp"
#include "loopspec/reference/stream_transport.hpp"

namespace loopspec::reference {

void StreamServer::start(EpollLoop& loop, StreamProtocolFactory factory, const Address& address,
                         const ServerOptions& options, Completion<Server> done) {
  auto fail = [&](const Error& error) {
    loop.call_soon([done = std::move(done), error] { done(Outcome<Server>{nullptr, error}); });
  };
  const std::string* path = std::holds_alternative<UnixAddress>(address) ? &std::get<UnixAddress>(address).path : nullptr;
  int fd = -1;
  try {
    SocketAddress bind_to = bind_address(address);
    if (path != nullptr) kit::remove_stale_socket_file(*path);
    Error error;
    fd = kit::open_listening_socket(bind_to.get(), bind_to.length, options, to_address(bind_to.get(), bind_to.length),
                                    error);
    if (fd < 0) return fail(error);
  } catch (const ContractError& e) {
    return fail(e.error());
  }
  auto server = std::make_shared<StreamServer>(Passkey{}, loop, std::move(factory), fd, std::max(options.backlog, 1));
  if (path != nullptr) server->socket_file_.remember(*path);
  loop.watch_fd(fd, server);
  loop.set_reading(fd, true);
  loop.call_soon([server, done = std::move(done)] { done(Outcome<Server>{server, std::nullopt}); });
}

StreamServer::StreamServer(Passkey, EpollLoop& loop, StreamProtocolFactory factory, int fd, int backlog)
    : loop_(&loop), factory_(std::move(factory)), listen_fd_(fd), backlog_(backlog) {
  if (auto address = local_address(fd)) addresses_.push_back(*address);
}

StreamServer::~StreamServer() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void StreamServer::on_readable() {
  int exhausted = kit::accept_ready(listen_fd_, backlog_, [this](int fd) {
    start_stream_connection(*loop_, fd, factory_, nullptr);
    return listen_fd_ >= 0;  // the factory may have closed the server
  });
  if (exhausted != 0) {
    loop_->report_exception("socket.accept() out of system resource", Error::from_errno(exhausted));
    pause_accepting();
  }
}

void StreamServer::pause_accepting() {
  loop_->set_reading(listen_fd_, false);
  loop_->call_later(Duration(1.0), [weak = weak_from_this()] {
    auto server = weak.lock();
    if (server && server->listen_fd_ >= 0 && server->loop_ != nullptr) {
      server->loop_->set_reading(server->listen_fd_, true);
    }
  });
}

void StreamServer::close() {
  if (listen_fd_ < 0) return;
  auto self = shared_from_this();  // unwatching drops the loop's reference
  if (loop_ != nullptr) loop_->unwatch_fd(listen_fd_);
  ::close(listen_fd_);
  listen_fd_ = -1;
  socket_file_.remove();
}

void StreamServer::on_loop_destroyed() {
  loop_ = nullptr;
  close();
  factory_ = nullptr;
}

}  // namespace loopspec::reference
