// One call_later callback on its own uv_timer_t.
//
// Promises:
// - start() arms the timer; once due, the callback goes to the loop
//   (UvLoop::timer_due), which runs it once with the next batch, behind the
//   callbacks already ready, in deadline order. Never before the deadline on
//   uv_hrtime()'s clock: libuv's loop clock is in whole milliseconds and lags
//   behind it (truncated, and coarse on some kernels), so the timer is armed
//   a millisecond late, and one that fires early all the same is re-armed for
//   what is left. The loop also takes every armed timer whose deadline has
//   passed when it fixes a batch (UvLoop::timer_armed), so a zero delay costs
//   one iteration, not libuv's minimum of a millisecond, and a timer armed
//   earlier is never overtaken by one libuv happens to fire first.
// - cancel() stops it for good, also once due but not yet run; cancel()
//   after the run, a second cancel() or one after the loop is gone does nothing.
// - The pending timer is kept alive by its handle (HandleBox), so the caller
//   may drop the TimerHandle without cancelling it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "loopspec/event_loop.hpp"
#include "loopspec/libuv/handle_box.hpp"

namespace loopspec::libuv {

class UvLoop;

class UvTimer final : public TimerHandle, public LoopResident, public std::enable_shared_from_this<UvTimer> {
  struct Passkey {};

 public:
  // deadline_ns: on uv_hrtime()'s clock.
  static std::shared_ptr<UvTimer> start(UvLoop& loop, std::uint64_t deadline_ns, std::function<void()> callback);
  UvTimer(Passkey, UvLoop& loop, std::function<void()> callback, std::uint64_t deadline_ns);

  void cancel() override;
  void on_loop_destroyed() override;
  // Its deadline has passed: hands the callback to the loop (UvLoop::timer_due) and lets go of the handle.
  void come_due();

 private:
  static void on_timer(uv_timer_t* handle);
  void arm();
  void fire();
  void disarm();
  void run();
  void close_handle();

  UvLoop* loop_;
  std::function<void()> callback_;
  std::uint64_t deadline_ns_;
  std::uint64_t sequence_;  // ties between equal deadlines go to the earlier call_later
  HandleBox* box_ = nullptr;
  bool armed_ = false;  // known to the loop as waiting (UvLoop::timer_armed)
};

}  // namespace loopspec::libuv
