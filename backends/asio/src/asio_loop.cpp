#include "loopspec/asio/asio_loop.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/kit/sigpipe_guard.hpp"

namespace loopspec::asio {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// NaN and negative delays mean "now"; absurdly long ones are capped at ~30 years.
std::int64_t delay_ns(Duration delay) {
  double seconds = delay.count();
  if (!(seconds > 0)) return 0;
  return static_cast<std::int64_t>(std::ceil(std::min(seconds, 1e9) * 1e9));
}

// One call_later callback on its own steady_timer; held by the loop while pending.
class AsioTimer final : public TimerHandle, public LoopResident, public std::enable_shared_from_this<AsioTimer> {
 public:
  AsioTimer(AsioLoop& loop, std::int64_t deadline_ns, std::function<void()> callback)
      : loop_(&loop), callback_(std::move(callback)), deadline_ns_(deadline_ns),
        sequence_(loop.next_timer_sequence()),
        timer_(std::in_place, loop.context(), Clock::time_point(std::chrono::nanoseconds(deadline_ns))) {}

  void start() {
    loop_->hold(shared_from_this());
    timer_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->loop_ == nullptr || !self->callback_) return;  // cancelled
      self->loop_->timer_due(self->deadline_ns_, self->sequence_, [self] { self->run(); });
    });
  }

  void cancel() override {
    if (loop_ == nullptr || !callback_) return;
    callback_ = nullptr;
    timer_->cancel();
    finish();
  }

  void on_loop_destroyed() override {
    callback_ = nullptr;
    timer_.reset();
    loop_ = nullptr;
  }

 private:
  void run() {
    if (loop_ == nullptr || !callback_) return;  // cancelled while due
    auto self = shared_from_this();
    auto callback = std::exchange(callback_, nullptr);
    finish();
    callback();  // the loop's batch reports what it throws
  }

  void finish() { loop_->let_go(this); }

  AsioLoop* loop_;  // null once the loop is destroyed
  std::function<void()> callback_;  // empty once run or cancelled
  std::int64_t deadline_ns_;
  std::uint64_t sequence_;  // ties between equal deadlines go to the earlier call_later
  std::optional<net::steady_timer> timer_;
};

}  // namespace

AsioLoop::AsioLoop(kit::Faults faults) : TransportLoop("loopspec asio loop", faults) {}

AsioLoop::~AsioLoop() {
  // Callbacks may own transports and timers: drop them first.
  ready_.clear();
  due_timers_.clear();
  // Every resident hears once that the loop is gone; it closes its I/O
  // objects (while the io_context still exists) and lets go of its protocol.
  auto residents = std::exchange(residents_, {});
  for (auto& [raw, resident] : residents) resident->on_loop_destroyed();
  residents.clear();
  keep_running_.reset();
  // ~io_context destroys the completions still queued (cancelled waits,
  // posts) without running them.
}

void AsioLoop::hold(std::shared_ptr<LoopResident> resident) {
  LoopResident* raw = resident.get();
  residents_.emplace(raw, std::move(resident));
}

void AsioLoop::let_go(LoopResident* resident) { residents_.erase(resident); }

// ---- running ----

void AsioLoop::run_forever() {
  if (running_) throw ContractError(Error{"RuntimeError", 0, "This event loop is already running"});
  running_ = true;
  kit::SigpipeGuard no_sigpipe;
  do {
    run_once();
  } while (!stopping_);
  running_ = stopping_ = false;
}

void AsioLoop::run_once() {
  // Completions never throw: each only appends to ready_ or due_timers_.
  if (ready_.empty() && !stopping_) io_.run_one();
  io_.poll();
  auto batch = std::exchange(ready_, {});
  for (auto& [when, run] : due_timers_) batch.push_back(std::move(run));
  due_timers_.clear();
  // A callback may destroy what another one of the batch needs, but never the batch itself.
  for (auto& callback : batch) {
    try {
      callback();
    } catch (...) {
      report_exception("callback", kit::error_from_current_exception());
    }
  }
}

Duration AsioLoop::time() { return Duration(static_cast<double>(now_ns()) / 1e9); }

// ---- scheduling ----

void AsioLoop::call_soon_threadsafe(std::function<void()> callback) {
  net::post(io_, [this, callback = std::move(callback)]() mutable { ready_.push_back(std::move(callback)); });
}

void AsioLoop::timer_due(std::int64_t deadline_ns, std::uint64_t sequence, std::function<void()> run) {
  due_timers_.emplace(std::pair{deadline_ns, sequence}, std::move(run));
}

std::shared_ptr<TimerHandle> AsioLoop::call_later(Duration delay, std::function<void()> callback) {
  auto timer = std::make_shared<AsioTimer>(*this, now_ns() + delay_ns(delay), std::move(callback));
  timer->start();
  return timer;
}

}  // namespace loopspec::asio
