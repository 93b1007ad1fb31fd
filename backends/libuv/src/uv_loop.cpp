#include "loopspec/libuv/uv_loop.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/libuv/handle_box.hpp"
#include "loopspec/kit/sigpipe_guard.hpp"
#include "loopspec/libuv/uv_timer.hpp"

namespace loopspec::libuv {

namespace {

void check(int status, const char* what) {
  if (status < 0) throw std::runtime_error(std::string(what) + ": " + uv_strerror(status));
}

// NaN and negative delays mean "now"; absurdly long ones are capped at ~30 years.
std::uint64_t delay_ns(Duration delay) {
  double seconds = delay.count();
  if (!(seconds > 0)) return 0;
  return static_cast<std::uint64_t>(std::ceil(std::min(seconds, 1e9) * 1e9));
}

}  // namespace

UvLoop::UvLoop(kit::Faults faults) : TransportLoop("loopspec libuv loop", faults) {
  check(uv_loop_init(&loop_), "uv_loop_init");
  loop_.data = this;
  uv_prepare_init(&loop_, &batch_fixer_);
  uv_prepare_start(&batch_fixer_, [](uv_prepare_t* h) { of(reinterpret_cast<uv_handle_t*>(h)).fix_batch(); });
  uv_check_init(&loop_, &batch_runner_);
  uv_check_start(&batch_runner_, [](uv_check_t* h) { of(reinterpret_cast<uv_handle_t*>(h)).run_batch(); });
  uv_idle_init(&loop_, &no_wait_);
  // The callbacks it announces are taken when the next batch is fixed; waking is all it does.
  check(uv_async_init(&loop_, &wake_, [](uv_async_t*) {}), "uv_async_init");
}

UvLoop::~UvLoop() {
  resolver_.cancel_all();
  // Callbacks may own transports and timers: drop them first.
  ready_.clear();
  batch_.clear();
  due_timers_.clear();
  {
    std::lock_guard lock(threadsafe_mutex_);
    threadsafe_.clear();
  }
  // Every owner of a handle hears once that the loop is gone; it closes its
  // handles and lets go of its protocol (which breaks protocol cycles).
  std::vector<std::shared_ptr<LoopResident>> residents;
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void* found) {
        auto* box = static_cast<HandleBox*>(handle->data);
        if (box != nullptr && box->owner && !uv_is_closing(handle)) {
          static_cast<std::vector<std::shared_ptr<LoopResident>>*>(found)->push_back(box->owner);
        }
      },
      &residents);
  std::sort(residents.begin(), residents.end());
  residents.erase(std::unique(residents.begin(), residents.end()), residents.end());
  for (auto& resident : residents) resident->on_loop_destroyed();
  // What is still open now: the loop's own handles and boxes without an owner.
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        if (uv_is_closing(handle)) return;
        if (handle->data != nullptr) return HandleBox::close(static_cast<HandleBox*>(handle->data));
        uv_close(handle, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks only: every handle is closing
  residents.clear();
  uv_loop_close(&loop_);
}

// ---- running ----

void UvLoop::run_guarded(std::string_view context, const std::function<void()>& callback) {
  try {
    callback();
  } catch (...) {
    report_exception(context, kit::error_from_current_exception());
  }
}

void UvLoop::run_forever() {
  if (running_) throw ContractError(Error{"RuntimeError", 0, "This event loop is already running"});
  // Nothing throws out of uv_run: every callback the loop or a transport
  // hands to libuv catches what its user code throws.
  running_ = true;
  kit::SigpipeGuard no_sigpipe;
  do {
    uv_run(&loop_, UV_RUN_ONCE);
  } while (!stopping_);
  running_ = stopping_ = false;
}

void UvLoop::stop() { stopping_ = true; }

Duration UvLoop::time() { return Duration(static_cast<double>(uv_hrtime()) / 1e9); }

void UvLoop::fix_batch() {
  take_threadsafe_callbacks();
  const std::uint64_t now = uv_hrtime();
  while (!armed_timers_.empty() && armed_timers_.begin()->first.first <= now) {
    armed_timers_.begin()->second->come_due();  // disarms: leaves armed_timers_
  }
  for (auto& [when, run] : due_timers_) ready_.push_back(std::move(run));
  due_timers_.clear();
  batch_.swap(ready_);
  if (!batch_.empty() || stopping_) {
    uv_idle_start(&no_wait_, [](uv_idle_t*) {});
  } else {
    uv_idle_stop(&no_wait_);
  }
}

void UvLoop::run_batch() {
  // Moved out: a callback may destroy what another one of the batch needs,
  // but never the batch itself.
  auto batch = std::exchange(batch_, {});
  for (auto& callback : batch) run_guarded("callback", callback);
  batch.clear();
  if (batch_.empty()) batch_.swap(batch);  // keep the capacity
}

// ---- scheduling ----

void UvLoop::call_soon(std::function<void()> callback) { ready_.push_back(std::move(callback)); }

void UvLoop::call_soon_threadsafe(std::function<void()> callback) {
  {
    std::lock_guard lock(threadsafe_mutex_);
    threadsafe_.push_back(std::move(callback));
  }
  uv_async_send(&wake_);  // coalesced by libuv; safe from any thread
}

void UvLoop::take_threadsafe_callbacks() {
  std::lock_guard lock(threadsafe_mutex_);
  for (auto& callback : threadsafe_) ready_.push_back(std::move(callback));
  threadsafe_.clear();
}

void UvLoop::timer_armed(std::uint64_t deadline_ns, std::uint64_t sequence, UvTimer* timer) {
  armed_timers_.emplace(std::pair{deadline_ns, sequence}, timer);
}

void UvLoop::timer_disarmed(std::uint64_t deadline_ns, std::uint64_t sequence) {
  armed_timers_.erase(std::pair{deadline_ns, sequence});
}

void UvLoop::timer_due(std::uint64_t deadline_ns, std::uint64_t sequence, std::function<void()> run) {
  due_timers_.emplace(std::pair{deadline_ns, sequence}, std::move(run));
}

std::shared_ptr<TimerHandle> UvLoop::call_later(Duration delay, std::function<void()> callback) {
  return UvTimer::start(*this, uv_hrtime() + delay_ns(delay), std::move(callback));
}

}  // namespace loopspec::libuv
