// What every transport of the Asio loop shares: its I/O object (a generic
// stream or datagram socket, or a posix::stream_descriptor), its protocol,
// and the lifecycle from creation to connection_lost. The byte-stream
// transports add reading (stream_reading.hpp) and writing
// (stream_writing.hpp); test faults are consulted there, never here.
//
// Lifecycle (states and the only transitions):
//   Open --a derived class's close() with output still queued--> Closing
//   Open, Closing --lose()--> LostPending --connection_lost delivered--> Lost
//   any --the loop destroyed--> Lost (no connection_lost)
// Promises:
// - The I/O object is the transport's from construction on, put in
//   non-blocking mode (reads and writes are tried at once and never block).
//   The loop holds the transport from announce() until connection_lost was
//   delivered (asio_loop.hpp).
// - announce() (by start_endpoint): one scheduled callback delivers
//   connection_made, then on_connection_made() (when connection_made returned
//   normally), then `done` with the transport.
// - lose(exc) acts once, from Open or Closing: on_lose() lets the derived
//   class drop its output, the I/O object is closed at once (Asio cancels
//   every operation on it: a wait completes with operation_aborted, a write
//   in flight stops and nothing more reaches the peer), and
//   connection_lost(exc) follows from a scheduled callback, never inside a
//   transport method. An exception of connection_lost itself is only
//   reported. Then the protocol is let go of, which breaks the transport <->
//   protocol cycle: get_protocol() is empty from then on and set_protocol()
//   is ignored.
// - Every Asio completion of a transport comes back through call_soon (the
//   loop's ready queue, as asyncio's selector callbacks) and checks the
//   state first: a completion for an operation the transport no longer
//   wants does nothing.
// - get_extra_info: 'peername' and 'sockname' as they were at creation (None
//   when the socket had none then), 'socket' {fd, family, type}; a pipe
//   transport's answers 'pipe' {fd} alone. The fd is -1 once the transport
//   is lost.
// - call(name, fn) runs a protocol callback; one that throws is reported to
//   the loop's exception handler and loses the transport with the
//   exception's canonical error (kit/protocol_call.hpp).
#pragma once

#include <boost/asio/generic/datagram_protocol.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <memory>
#include <optional>
#include <string>

#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/event_loop.hpp"
#include "loopspec/kit/exception_error.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/protocol_call.hpp"

namespace loopspec::asio {

using StreamSocket = net::generic::stream_protocol::socket;
using DatagramSocket = net::generic::datagram_protocol::socket;
using Descriptor = net::posix::stream_descriptor;

// Interface: the contract class it implements; P: the protocol class it
// drives; Handle: the Asio I/O object.
template <class Interface, class P, class Handle>
class Endpoint : public Interface, public LoopResident, public std::enable_shared_from_this<Endpoint<Interface, P, Handle>> {
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

  // handle: open, the transport's from now on. wrong_protocol: set_protocol's TypeError message.
  Endpoint(AsioLoop& loop, Handle handle, std::string wrong_protocol);

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
    return kit::call_protocol(loop_, name, std::forward<F>(callback), [this](const Error& error) { lose(error); });
  }

  // A completion handler for an Asio operation: schedules fn(self, args...)
  // through the loop's ready queue, unless the loop is gone by then.
  template <class Self, class F>
  static auto completion(std::shared_ptr<Self> self, F fn) {
    return [self = std::move(self), fn = std::move(fn)](auto... args) {
      if (self->loop_ == nullptr) return;
      self->loop_->call_soon([self, fn, args...] { fn(*self, args...); });
    };
  }

  // What a derived class adds to the lifecycle.
  virtual void on_connection_made() {}
  // Drop the output that is not in flight (lose(), and the loop's end).
  virtual void on_lose() {}
  // Let go of what refers to the protocol.
  virtual void on_released() {}

  // The open I/O object, or null once closed.
  Handle* handle() { return handle_ && handle_->is_open() ? &*handle_ : nullptr; }
  int fd() const { return socket_.fd; }
  // A pipe transport's get_extra_info answers 'pipe' alone (asyncio's pipe transports).
  void describe_as_pipe() { as_pipe_ = true; }

  AsioLoop* loop_;  // null once the loop is destroyed
  const kit::Faults faults_;
  Phase phase_ = Phase::Open;
  bool made_ = false;  // connection_made delivered
  std::shared_ptr<P> protocol_;

 private:
  void deliver_connection_made();
  void deliver_connection_lost(const MaybeError& exc);
  void close_handle();
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
  std::optional<Handle> handle_;  // destroyed only with the transport or the loop
  const std::string wrong_protocol_;
};

// The start every endpoint shares: a protocol from the factory, then the
// transport around the I/O object.
//
// Promise: start_endpoint<T>(loop, handle, factory, done, args...) calls the
// factory, makes a T(loop, handle, args...), gives it the protocol and
// announces it (connection_made, then done). If the factory throws or returns
// no protocol, or the T refuses the protocol (TypeError), the I/O object is
// closed and the canonical error goes to done (scheduled), or to the loop's
// exception handler when done is empty (a server's connections). It returns
// the endpoint, or null after a failure.
template <class T, class Handle, class Factory, class Done, class... Args>
std::shared_ptr<T> start_endpoint(AsioLoop& loop, Handle handle, const Factory& factory, Done done, Args&&... args) {
  Error error;
  try {
    auto protocol = factory();
    if (!protocol) throw ContractError(Error{"TypeError", 0, "the protocol factory returned no protocol"});
    auto endpoint = std::make_shared<T>(loop, std::move(handle), std::forward<Args>(args)...);
    endpoint->set_protocol(std::move(protocol));  // on TypeError the endpoint's destructor closes the handle
    endpoint->announce(std::move(done));
    return endpoint;
  } catch (...) {
    error = kit::error_from_current_exception();
  }
  if (done) {
    loop.complete_with_error(std::move(done), std::move(error));
  } else {
    loop.report_exception("protocol factory", error);
  }
  return nullptr;  // the handle, if still here, closes as it goes
}

}  // namespace loopspec::asio
