// The non-blocking connect behind EpollLoop::create_connection.
//
// Promises:
// - The candidate addresses (socket_address.hpp) are tried in order: a
//   non-blocking, close-on-exec socket, connect(), then SO_ERROR once it is
//   writable. The first that connects gets its protocol from the factory and a
//   StreamTransport; `done` follows connection_made.
// - If none connects, `done` gets the canonical error (the error when there is
//   one candidate or all failed alike, else OSError "Multiple exceptions: ...")
//   and the factory is never called, so no protocol callback runs at all.
// - `done` never runs inside create_connection itself.
#pragma once

#include <memory>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/socket_address.hpp"

namespace loopspec::reference {

class StreamConnector final : public FdWatcher, public std::enable_shared_from_this<StreamConnector> {
  struct Passkey {};

 public:
  static void start(EpollLoop& loop, StreamProtocolFactory factory, const Address& address, Completion<Transport> done);

  StreamConnector(Passkey, EpollLoop& loop, StreamProtocolFactory factory, std::vector<SocketAddress> candidates,
                  Completion<Transport> done);
  ~StreamConnector() override;

  void on_readable() override {}
  void on_writable() override;
  void on_loop_destroyed() override;

 private:
  void try_next();
  void connected();
  void failed_attempt(int err);
  void fail(Error error);

  EpollLoop* loop_;
  StreamProtocolFactory factory_;
  std::vector<SocketAddress> candidates_;
  std::size_t next_ = 0;
  Completion<Transport> done_;
  int fd_ = -1;
  std::vector<Error> errors_;
};

}  // namespace loopspec::reference
