// The connect behind AsioLoop::create_connection: async_connect on a
// generic stream socket.
//
// Promises:
// - A TCP host is resolved first (address.hpp); the addresses are tried in
//   order, each on a fresh socket. A Unix path is one candidate (a path
//   sockaddr_un cannot hold is asyncio's OSError). The first that connects
//   becomes a StreamTransport with a protocol from the factory; `done`
//   follows connection_made.
// - If none connects, `done` gets the canonical error (the error when there
//   is one candidate or all failed alike, else OSError "Multiple exceptions:
//   ...") and the factory is never called, so no protocol callback runs.
// - `done` never runs inside create_connection itself. The loop's
//   destruction closes the attempt and drops `done` unrun.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "loopspec/asio/address.hpp"
#include "loopspec/asio/endpoint.hpp"

namespace loopspec::asio {

class StreamConnector final : public LoopResident, public std::enable_shared_from_this<StreamConnector> {
  struct Passkey {};

 public:
  static void start(AsioLoop& loop, StreamProtocolFactory factory, const Address& address, Completion<Transport> done);

  StreamConnector(Passkey, AsioLoop& loop, StreamProtocolFactory factory, Completion<Transport> done);

  void on_loop_destroyed() override;

 private:
  void try_next();
  void connected(const boost::system::error_code& ec);
  void fail(Error error);

  AsioLoop* loop_;
  StreamProtocolFactory factory_;
  Completion<Transport> done_;
  std::vector<GenericEndpoint> candidates_;
  std::size_t next_ = 0;
  std::optional<StreamSocket> attempt_;  // the socket of the attempt in progress
  std::vector<Error> errors_;
};

}  // namespace loopspec::asio
