// What every transport of the reference loop that owns one descriptor shares:
// the descriptor, the protocol, and the lifecycle from creation to
// connection_lost. The stream socket, pipe and datagram transports derive
// from it and add their own reading and writing (stream_reading_transport.hpp
// and stream_writing.hpp for byte streams). Test faults are consulted in the
// derived classes, never here.
//
// Lifecycle (states and the only transitions):
//   Open --a derived class's close() with output still queued--> Closing
//   Open, Closing --lose()--> LostPending --connection_lost delivered--> Lost
//   any --release(): the loop destroyed, or a fault (no connection_lost)--> Lost
// Promises:
// - The descriptor is the transport's from construction on: release() stops
//   watching and closes it; the destructor closes it when the transport never
//   got that far (its start threw before the loop watched it).
// - create()/announce(): the loop watches the descriptor, then one scheduled
//   callback delivers connection_made and completes `done` with the transport.
//   on_connection_made() runs once connection_made returned normally.
// - lose(exc) acts once, from Open or Closing: reading and writing interest
//   go off at once, the queued output is dropped, and connection_lost(exc)
//   follows from a scheduled callback, never inside a transport method. An
//   exception of connection_lost itself is only reported. Then release().
// - release(): Lost; the descriptor is closed and the protocol let go of,
//   which breaks the transport <-> protocol cycle: get_protocol() is empty
//   from then on and set_protocol() is ignored.
// - call(name, fn) runs a protocol callback; one that throws is reported to
//   the loop's exception handler and loses the transport with the exception's
//   canonical error (protocol_call.hpp).
// - Flow control of a write buffer, for the derived classes that have one
//   (they own its WriteFlow): pause_writing and resume_writing come only
//   between connection_made and connection_lost, when WriteFlow says so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/protocol_call.hpp"
#include "loopspec/kit/write_flow.hpp"

namespace loopspec::reference {

// Interface: the contract transport class it implements; P: the protocol
// class it drives.
template <class Interface, class P>
class DescriptorTransport : public Interface,
                            public FdWatcher,
                            public std::enable_shared_from_this<DescriptorTransport<Interface, P>> {
 public:
  ~DescriptorTransport() override;

  // BaseTransport
  bool is_closing() override { return phase_ != Phase::Open; }
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override { return protocol_; }
  // FdWatcher
  void on_loop_destroyed() final;

 protected:
  enum class Phase { Open, Closing, LostPending, Lost };

  // wrong_protocol: set_protocol's TypeError message.
  DescriptorTransport(EpollLoop& loop, int fd, std::string wrong_protocol);

  // The start of every such transport: a T made of args, with protocol,
  // announced (below). The fd among args is the T's from the call on.
  template <class T, class... Args>
  static std::shared_ptr<T> create(std::shared_ptr<BaseProtocol> protocol, Completion<Interface> done, Args&&... args) {
    auto transport = std::make_shared<T>(std::forward<Args>(args)...);
    transport->set_protocol(std::move(protocol));
    transport->announce(std::move(done));
    return transport;
  }
  // Keeps protocol unless connection_lost was delivered; false when ignored.
  bool adopt_protocol(std::shared_ptr<P> protocol);
  // set_protocol's TypeError for a protocol of the wrong kind.
  Error wrong_protocol() const { return Error{"TypeError", 0, wrong_protocol_}; }

  // connection_lost scheduled or delivered.
  bool ending() const { return phase_ == Phase::LostPending || phase_ == Phase::Lost; }
  // Still writing what it queued (Open or Closing).
  bool active() const { return phase_ == Phase::Open || phase_ == Phase::Closing; }
  // Ends the transport now; connection_lost(exc) follows (see the top comment).
  void lose(const MaybeError& exc);
  // Lost at once, without connection_lost (see the top comment).
  void release();

  template <class F>
  bool call(const char* name, F&& callback) {
    return kit::call_protocol(loop_, name, std::forward<F>(callback), [this](const Error& error) { lose(error); });
  }

  // Flow control (see the top comment): pause_if_over after the buffer grew,
  // resume_if_drained after it drained, both when the limits changed.
  void pause_if_over(kit::WriteFlow& flow, std::size_t buffered);
  void resume_if_drained(kit::WriteFlow& flow, std::size_t buffered);

  // What a derived class adds to the lifecycle.
  virtual void on_connection_made() {}
  // Drop what was queued for writing (on lose() and release()).
  virtual void drop_queued_output() {}
  // Let go of what refers to the protocol (on release()).
  virtual void on_released() {}

  EpollLoop* loop_;  // null once the loop is destroyed
  const kit::Faults faults_;
  int fd_;
  Phase phase_ = Phase::Open;
  bool made_ = false;  // connection_made delivered
  std::shared_ptr<P> protocol_;

 private:
  // Watches the descriptor and schedules connection_made, then done(this).
  void announce(Completion<Interface> done);
  void deliver_connection_made();
  void deliver_connection_lost(const MaybeError& exc);

  const std::string wrong_protocol_;
};

}  // namespace loopspec::reference
