// The connect behind UvLoop::create_connection: uv_tcp_connect or
// uv_pipe_connect.
//
// Promises:
// - A TCP host is resolved first (resolver.hpp); the addresses are tried in
//   order, each on a fresh uv_tcp_t. A Unix path is one candidate on a
//   uv_pipe_t (a path sockaddr_un cannot hold is asyncio's OSError). The
//   first that connects becomes a StreamTransport with a protocol from the
//   factory; `done` follows connection_made.
// - If none connects, `done` gets the canonical error (the error when there
//   is one candidate or all failed alike, else OSError "Multiple exceptions:
//   ...") and the factory is never called, so no protocol callback runs.
// - `done` never runs inside create_connection itself. The loop's
//   destruction drops `done` unrun.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <memory>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/libuv/handle_box.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

class StreamConnector final : public LoopResident, public std::enable_shared_from_this<StreamConnector> {
  struct Passkey {};

 public:
  static void start(UvLoop& loop, StreamProtocolFactory factory, const Address& address, Completion<Transport> done);

  StreamConnector(Passkey, UvLoop& loop, StreamProtocolFactory factory, Completion<Transport> done);
  ~StreamConnector() override;

  void on_loop_destroyed() override;

 private:
  struct Candidate {
    sockaddr_storage inet{};  // TCP
    std::string path;         // Unix, when not empty
  };

  void try_next();
  static void on_connect(uv_connect_t* request, int status);
  void connected(int status);
  void fail(Error error);

  UvLoop* loop_;
  StreamProtocolFactory factory_;
  Completion<Transport> done_;
  std::vector<Candidate> candidates_;
  std::size_t next_ = 0;
  HandleBox* box_ = nullptr;  // the attempt in progress
  uv_connect_t request_{};
  std::vector<Error> errors_;
};

}  // namespace loopspec::libuv
