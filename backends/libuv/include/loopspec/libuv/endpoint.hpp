// What every transport of the libuv loop adds to kit::Endpoint (the
// lifecycle from creation to connection_lost, kit/endpoint.hpp): its handle.
//
// Promises:
// - The handle (a HandleBox) is the transport's from construction on; from
//   announce() on its box keeps the transport alive until libuv has closed it.
// - Losing the transport closes the handle at once (libuv cancels a write in
//   flight: nothing more reaches the peer), unless libuv is inside a read of
//   it (begin_busy): then the close waits for end_busy().
#pragma once

#include <memory>
#include <string>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/endpoint.hpp"
#include "loopspec/libuv/handle_box.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

// Interface: the contract class it implements; P: the protocol class it drives.
template <class Interface, class P>
class Endpoint : public kit::Endpoint<Interface, P> {
 public:
  ~Endpoint() override;

 protected:
  // box: an adopted, open handle, the transport's from now on.
  // wrong_protocol: set_protocol's TypeError message.
  Endpoint(UvLoop& loop, HandleBox* box, std::string wrong_protocol);

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

 private:
  void hold_until_lost() override { box_->owner = this->shared_from_this(); }
  void close_io() override;

  HandleBox* box_;  // null once closed
  bool handle_busy_ = false;
  bool close_waiting_ = false;  // close_io() came while busy
};

}  // namespace loopspec::libuv
