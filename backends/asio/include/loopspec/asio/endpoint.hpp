// What every transport of the Asio loop adds to kit::Endpoint (the lifecycle
// from creation to connection_lost, kit/endpoint.hpp): its I/O object, a
// generic stream or datagram socket, or a posix::stream_descriptor.
//
// Promises:
// - The I/O object is the transport's from construction on, put in
//   non-blocking mode (reads and writes are tried at once and never block).
//   The loop holds the transport from announce() until connection_lost was
//   delivered (asio_loop.hpp).
// - Losing the transport closes the I/O object at once: Asio cancels every
//   operation on it (a wait completes with operation_aborted, a write in
//   flight stops and nothing more reaches the peer).
// - Every Asio completion of a transport comes back through call_soon (the
//   loop's ready queue, as asyncio's selector callbacks) and checks the
//   state first: a completion for an operation the transport no longer
//   wants does nothing.
#pragma once

#include <boost/asio/generic/datagram_protocol.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <memory>
#include <optional>
#include <string>

#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/kit/endpoint.hpp"
#include "loopspec/kit/endpoint_start.hpp"

namespace loopspec::asio {

using StreamSocket = net::generic::stream_protocol::socket;
using DatagramSocket = net::generic::datagram_protocol::socket;
using Descriptor = net::posix::stream_descriptor;

// Interface: the contract class it implements; P: the protocol class it
// drives; Handle: the Asio I/O object.
template <class Interface, class P, class Handle>
class Endpoint : public kit::Endpoint<Interface, P> {
 protected:
  // handle: open, the transport's from now on. wrong_protocol: set_protocol's TypeError message.
  Endpoint(AsioLoop& loop, Handle handle, std::string wrong_protocol);

  // A completion handler for an Asio operation: schedules fn(self, args...)
  // through the loop's ready queue, unless the loop is gone by then.
  template <class Self, class F>
  static auto completion(std::shared_ptr<Self> self, F fn) {
    return [self = std::move(self), fn = std::move(fn)](auto... args) {
      if (self->loop_ == nullptr) return;
      self->loop_->call_soon([self, fn, args...] { fn(*self, args...); });
    };
  }

  // The open I/O object, or null once closed.
  Handle* handle() { return handle_ && handle_->is_open() ? &*handle_ : nullptr; }

 private:
  void hold_until_lost() override;
  void close_io() override;
  void on_lost() override;
  void on_loop_gone() override { handle_.reset(); }  // while the io_context exists

  std::optional<Handle> handle_;  // destroyed only with the transport or the loop
};

// kit::start_endpoint (kit/endpoint_start.hpp) for a T(loop, handle, args...);
// the handle, if the T did not take it, closes as it goes.
template <class T, class Handle, class Factory, class Done, class... Args>
std::shared_ptr<T> start_endpoint(AsioLoop& loop, Handle handle, const Factory& factory, Done done, Args&&... args) {
  return kit::start_endpoint<T>(
      loop, factory, std::move(done),
      [&] { return std::make_shared<T>(loop, std::move(handle), std::forward<Args>(args)...); }, [] {});
}

}  // namespace loopspec::asio
