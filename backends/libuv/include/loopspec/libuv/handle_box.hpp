// A libuv handle on the heap, and the object it works for.
//
// libuv owns a handle's memory from uv_*_init until its close callback, and
// cancels the handle's requests (their callbacks see UV_ECANCELED) just
// before that callback; the C++ object using the handle may be dropped by
// everyone else at any moment. A HandleBox bridges the two lifetimes.
//
// Promises:
// - HandleBox::make(owner): a box whose handle's `data` points back to the
//   box once `adopt` ran (call it right after uv_*_init succeeded). The box
//   holds its owner (a shared_ptr) until the handle is closed: the loop keeps
//   an open transport, a serving server, a pending timer alive, as asyncio's
//   loop keeps what it watches alive. The owner may change (a connecting
//   socket becomes a transport's) or be empty.
// - close(box) closes an adopted handle once (later calls do nothing); the box, and with
//   it the reference to its owner, is freed in the close callback, so every
//   cancelled request's callback still finds its owner alive.
// - discard(box) frees a box whose handle libuv never adopted (uv_*_init failed).
// - owner(handle) is the owner of a boxed handle, or null for a handle that
//   is not in a box (the loop's own handles keep data null).
// - owned_fd: a descriptor libuv watches but does not own (a uv_poll_t's);
//   the box closes it once libuv has closed the handle.
#pragma once

#include <uv.h>

#include <memory>

#include "loopspec/kit/loop_resident.hpp"

namespace loopspec::libuv {

// What lives on a UvLoop (kit/loop_resident.hpp): the owner of a boxed handle.
using kit::LoopResident;

struct HandleBox {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_timer_t timer;
    uv_udp_t udp;
    uv_process_t process;
    uv_poll_t poll;
  };
  std::shared_ptr<LoopResident> owner;
  int owned_fd = -1;

  static HandleBox* make(std::shared_ptr<LoopResident> owner);
  void adopt() { handle.data = this; }
  static void close(HandleBox* box);
  static void discard(HandleBox* box);
  static LoopResident* owner_of(const uv_handle_t* handle);

 private:
  explicit HandleBox(std::shared_ptr<LoopResident> who) : owner(std::move(who)) {}
  ~HandleBox();
  static void on_closed(uv_handle_t* handle);
};

}  // namespace loopspec::libuv
