#include "loopspec/reference/stream_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "loopspec/reference/socket_address.hpp"
#include "loopspec/reference/stream_transport.hpp"

namespace loopspec::reference {

namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Opens, binds and listens; the canonical error on failure (fd closed).
int listen_on(const SocketAddress& address, const ServerOptions& options) {
  int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ContractError(Error::from_errno(errno));
  auto fail = [&](int err, std::string message) {
    ::close(fd);
    throw ContractError(Error::from_errno(err, std::move(message)));
  };
  int one = 1;
  if (address.family() != AF_UNIX) {
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
      fail(errno, "reuse_port not supported by socket module");
    }
  }
  if (address.family() == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, address.get(), address.length) < 0) {
    int err = errno;
    fail(err, "error while attempting to bind on address '" + to_string(to_address(address.get(), address.length)) +
                  "': " + lowercase(std::strerror(err)));
  }
  if (::listen(fd, std::max(options.backlog, 1)) < 0) fail(errno, "listen failed");
  return fd;
}

bool is_filesystem_path(const Address& address) {
  const auto* unix_address = std::get_if<UnixAddress>(&address);
  return unix_address != nullptr && !unix_address->path.empty() && unix_address->path[0] != '\0';
}

}  // namespace

void StreamServer::start(EpollLoop& loop, StreamProtocolFactory factory, const Address& address,
                         const ServerOptions& options, Completion<Server> done) {
  auto fail = [&](const Error& error) {
    loop.call_soon([done = std::move(done), error] { done(Outcome<Server>{nullptr, error}); });
  };
  const std::string* path = is_filesystem_path(address) ? &std::get<UnixAddress>(address).path : nullptr;
  int fd = -1;
  try {
    SocketAddress bind_to = bind_address(address);
    if (path != nullptr) {
      // A socket file left by an earlier server would make bind fail (asyncio removes it too).
      struct stat st {};
      if (::stat(path->c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path->c_str());
    }
    fd = listen_on(bind_to, options);
  } catch (const ContractError& e) {
    return fail(e.error());
  }
  auto server = std::make_shared<StreamServer>(Passkey{}, loop, std::move(factory), fd, std::max(options.backlog, 1));
  if (path != nullptr) {
    struct stat st {};
    if (::stat(path->c_str(), &st) == 0) {
      server->unix_path_ = *path;
      server->unix_dev_ = st.st_dev;
      server->unix_ino_ = st.st_ino;
    }
  }
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
  for (int i = 0; i < backlog_ && listen_fd_ >= 0; ++i) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        loop_->report_exception("socket.accept() out of system resource", Error::from_errno(err));
        pause_accepting();
        return;
      }
      continue;  // ECONNABORTED, EPROTO, EINTR...: that connection is gone, try the next
    }
    start_stream_connection(*loop_, fd, factory_, nullptr);
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
  remove_unix_socket_file();
}

void StreamServer::remove_unix_socket_file() {
  if (unix_path_.empty()) return;
  struct stat st {};
  if (::stat(unix_path_.c_str(), &st) == 0 && st.st_dev == unix_dev_ && st.st_ino == unix_ino_) {
    ::unlink(unix_path_.c_str());
  }
  unix_path_.clear();
}

void StreamServer::on_loop_destroyed() {
  loop_ = nullptr;
  close();
  factory_ = nullptr;
}

}  // namespace loopspec::reference
