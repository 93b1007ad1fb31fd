// A listening TCP or Unix socket behind EpollLoop::create_server.
//
// Promises:
// - Serving starts at once: every accepted connection (non-blocking,
//   close-on-exec) gets a protocol from the factory and a StreamTransport.
//   Up to `backlog` connections are accepted per readiness, as asyncio does.
// - TCP: SO_REUSEADDR, IPV6_V6ONLY on IPv6, SO_REUSEPORT when asked for.
//   Unix: a stale socket file at the path is removed before bind (asyncio),
//   and close() removes the file it created (asyncio 3.13's cleanup_socket).
// - Running out of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM) is reported
//   to the loop's exception handler and accepting pauses for one second.
// - close() stops listening and closes the socket; accepted connections stay
//   open. addresses() reports the real bound address (the real port for 0).
// - The loop keeps a serving server alive even when nobody else holds it.
#pragma once

#include <memory>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/socket_names.hpp"
#include "loopspec/reference/epoll_loop.hpp"

namespace loopspec::reference {

class StreamServer final : public Server, public FdWatcher, public std::enable_shared_from_this<StreamServer> {
  struct Passkey {};

 public:
  // Binds and listens now; `done` is scheduled with the server or the canonical error.
  static void start(EpollLoop& loop, StreamProtocolFactory factory, const Address& address,
                    const ServerOptions& options, Completion<Server> done);

  StreamServer(Passkey, EpollLoop& loop, StreamProtocolFactory factory, int fd, int backlog);
  ~StreamServer() override;

  void close() override;
  bool is_serving() override { return listen_fd_ >= 0; }
  std::vector<Address> addresses() override { return addresses_; }

  void on_readable() override;
  void on_writable() override {}
  void on_loop_destroyed() override;

 private:
  void pause_accepting();

  EpollLoop* loop_;
  StreamProtocolFactory factory_;
  int listen_fd_;
  int backlog_;
  std::vector<Address> addresses_;
  // The socket file this server created (Unix, not abstract): removed on close if still the same file.
  kit::ServerSocketFile socket_file_;
};

}  // namespace loopspec::reference
