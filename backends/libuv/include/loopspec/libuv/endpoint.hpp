// What every transport of the libuv loop shares: its handle, its protocol,
// and the lifecycle from creation to connection_lost. The byte-stream
// transports add reading (stream_reading.hpp) and writing
// (stream_writing.hpp); test faults are consulted there, never here.
//
// Lifecycle (states and the only transitions):
//   Open --a derived class's close() with output still queued--> Closing
//   Open, Closing --lose()--> LostPending --connection_lost delivered--> Lost
//   any --the loop destroyed--> Lost (no connection_lost)
// Promises:
// - The handle (a HandleBox) is the transport's from construction on; its
//   box keeps the transport alive until libuv has closed it.
// - announce() (called by start_endpoint, endpoint_start.hpp): one scheduled callback delivers connection_made, then
//   on_connection_made() (when connection_made returned normally), then
//   `done` with the transport.
// - lose(exc) acts once, from Open or Closing: on_lose() lets the derived
//   class stop its reading and drop its output, the handle is closed at once
//   (libuv cancels a write in flight: nothing more reaches the peer), and
//   connection_lost(exc) follows from a scheduled callback, never inside a
//   transport method. An exception of connection_lost itself is only
//   reported. Then the protocol is let go of, which breaks the
//   transport <-> protocol cycle: get_protocol() is empty from then on and
//   set_protocol() is ignored.
// - get_extra_info: 'peername' and 'sockname' as they were at creation (None
//   when the socket had none then), 'socket' {fd, family, type}; a pipe
//   transport's answers 'pipe' {fd} alone. The fd is -1 once the transport
//   is lost.
// - call(name, fn) runs a protocol callback; one that throws is reported to
//   the loop's exception handler and loses the transport with the
//   exception's canonical error (kit/protocol_call.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/protocol_call.hpp"
#include "loopspec/libuv/handle_box.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

// Interface: the contract class it implements; P: the protocol class it drives.
template <class Interface, class P>
class Endpoint : public Interface, public LoopResident, public std::enable_shared_from_this<Endpoint<Interface, P>> {
 public:
  ~Endpoint() override;

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

  // box: an adopted, open handle, the transport's from now on.
  // wrong_protocol: set_protocol's TypeError message.
  Endpoint(UvLoop& loop, HandleBox* box, std::string wrong_protocol);

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

  // What a derived class adds to the lifecycle.
  virtual void on_connection_made() {}
  // Stop reading and drop the output that is not in flight (lose(), and the loop's end).
  virtual void on_lose() {}
  // Let go of what refers to the protocol.
  virtual void on_released() {}

  // libuv 1.44 calls read_cb right after an alloc_cb that lent no buffer,
  // and crashes if alloc_cb stopped reading (uv_read_stop clears read_cb):
  // while the handle is busy that way, closing it waits for end_busy().
  void begin_busy() { handle_busy_ = true; }
  void end_busy();
  bool handle_busy() const { return handle_busy_; }

  uv_handle_t* handle() const { return box_ == nullptr ? nullptr : &box_->handle; }
  uv_stream_t* stream() const { return box_ == nullptr ? nullptr : &box_->stream; }
  uv_udp_t* udp() const { return box_ == nullptr ? nullptr : &box_->udp; }
  uv_poll_t* poll() const { return box_ == nullptr ? nullptr : &box_->poll; }
  // A pipe transport's get_extra_info answers 'pipe' alone (asyncio's pipe transports).
  void describe_as_pipe() { as_pipe_ = true; }

  UvLoop* loop_;  // null once the loop is destroyed
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
  HandleBox* box_;  // null once closed
  bool handle_busy_ = false;
  bool close_waiting_ = false;  // close_handle() came while busy
  const std::string wrong_protocol_;
};

}  // namespace loopspec::libuv
