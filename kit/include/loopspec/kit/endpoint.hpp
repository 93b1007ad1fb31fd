// What every transport of an in-process loop shares, whatever its I/O object
// (a libuv handle, an Asio socket or descriptor): its protocol and the
// lifecycle from creation to connection_lost. The byte-stream transports add
// reading and writing (stream_writing.hpp); test faults are consulted there,
// never here. The backend's subclass owns the I/O object and answers the
// hooks below.
//
// Lifecycle (states and the only transitions):
//   Open --a derived class's close() with output still queued--> Closing
//   Open, Closing --lose()--> LostPending --connection_lost delivered--> Lost
//   any --the loop destroyed--> Lost (no connection_lost)
// Promises:
// - announce() (by start_endpoint, endpoint_start.hpp): hold_until_lost(),
//   then one scheduled callback delivers connection_made, then
//   on_connection_made() (when connection_made returned normally), then
//   `done` with the transport.
// - lose(exc) acts once, from Open or Closing: on_lose() lets the derived
//   class stop reading and drop its output, close_io() closes the I/O object
//   at once (nothing more reaches the peer), and connection_lost(exc)
//   follows from a scheduled callback, never inside a transport method. An
//   exception of connection_lost itself is only reported. Then the protocol
//   is let go of, which breaks the transport <-> protocol cycle:
//   get_protocol() is empty from then on and set_protocol() is ignored; then
//   on_lost().
// - The loop's end (on_loop_destroyed): the same release without
//   connection_lost, then on_loop_gone(); loop_ is null from then on.
// - get_extra_info: 'peername' and 'sockname' as describe() was given them
//   (None when the socket had none), 'socket' {fd, family, type}; a pipe
//   transport's answers 'pipe' {fd} alone. The fd is -1 once the transport
//   is lost.
// - call(name, fn) runs a protocol callback; one that throws is reported to
//   the loop's exception handler and loses the transport with the
//   exception's canonical error (protocol_call.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/loop_base.hpp"
#include "loopspec/kit/loop_resident.hpp"
#include "loopspec/kit/protocol_call.hpp"

namespace loopspec::kit {

// Interface: the contract class it implements; P: the protocol class it drives.
template <class Interface, class P>
class Endpoint : public Interface, public LoopResident, public std::enable_shared_from_this<Endpoint<Interface, P>> {
 public:
  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  bool is_closing() override { return phase_ != Phase::Open; }
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override { return protocol_; }
  // LoopResident
  void on_loop_destroyed() final;

  // Schedules connection_made and `done` (see the top comment); once, by start_endpoint.
  void announce(Completion<Interface> done);

 protected:
  enum class Phase { Open, Closing, LostPending, Lost };

  // wrong_protocol: set_protocol's TypeError message.
  Endpoint(LoopBase& loop, std::string wrong_protocol);

  // What get_extra_info answers: fd's family and type (asked now), and its names.
  void describe(int fd, std::optional<nlohmann::json> sockname, std::optional<nlohmann::json> peername);
  // A pipe transport's get_extra_info answers 'pipe' alone (asyncio's pipe transports).
  void describe_as_pipe() { as_pipe_ = true; }
  int fd() const { return socket_.fd; }

  // Keeps protocol unless connection_lost was delivered; false when ignored.
  bool adopt_protocol(std::shared_ptr<P> protocol);
  Error wrong_protocol() const { return Error{"TypeError", 0, wrong_protocol_}; }

  // connection_lost scheduled or delivered.
  bool ending() const { return phase_ == Phase::LostPending || phase_ == Phase::Lost; }
  // Still writing what it queued (Open or Closing).
  bool active() const { return phase_ == Phase::Open || phase_ == Phase::Closing; }
  void lose(const MaybeError& exc);

  template <class F>
  bool call(const char* name, F&& callback) {
    return call_protocol(loop_, name, std::forward<F>(callback), [this](const Error& error) { lose(error); });
  }

  // The backend's part: keep this transport alive until connection_lost (announce).
  virtual void hold_until_lost() = 0;
  // Close the I/O object now; a no-op once closed.
  virtual void close_io() = 0;
  // connection_lost was delivered and the transport released.
  virtual void on_lost() {}
  // The loop is being destroyed; the transport is released.
  virtual void on_loop_gone() {}

  // What a derived class adds to the lifecycle.
  virtual void on_connection_made() {}
  // Stop reading and drop the output that is not in flight (lose(), and the loop's end).
  virtual void on_lose() {}
  // Let go of what refers to the protocol.
  virtual void on_released() {}

  LoopBase* loop_;  // null once the loop is destroyed
  const Faults faults_;
  Phase phase_ = Phase::Open;
  bool made_ = false;  // connection_made delivered
  std::shared_ptr<P> protocol_;

 private:
  void deliver_connection_made();
  void deliver_connection_lost(const MaybeError& exc);
  void release();

  struct SocketInfo {
    int fd = -1;
    int family = 0;
    int type = 0;
    std::optional<nlohmann::json> sockname;
    std::optional<nlohmann::json> peername;
  };
  SocketInfo socket_;
  bool as_pipe_ = false;
  const std::string wrong_protocol_;
};

extern template class Endpoint<Transport, StreamProtocol>;          // stream sockets
extern template class Endpoint<DatagramTransport, DatagramProtocol>;  // datagram sockets
extern template class Endpoint<ReadTransport, StreamProtocol>;      // read pipes
extern template class Endpoint<WriteTransport, BaseProtocol>;       // write pipes

}  // namespace loopspec::kit
