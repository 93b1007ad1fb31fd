// The timers of one loop: a binary heap ordered by (deadline, scheduling order).
//
// Promises:
// - Timers with equal deadlines run in the order they were scheduled.
// - A cancelled timer never runs, even when it was already due in the same
//   loop iteration; cancelling releases its callback at once. Cancelling a
//   timer that ran or was cancelled is a no-op, also from inside its own
//   callback.
// - Cancelled timers do not pile up: the heap is purged of them whenever it
//   has doubled since the last purge.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "loopspec/event_loop.hpp"

namespace loopspec::reference {

class TimerQueue {
 public:
  using Clock = std::chrono::steady_clock;

  class Timer final : public TimerHandle {
   public:
    Timer(Clock::time_point when, std::uint64_t order, std::function<void()> callback)
        : when_(when), order_(order), callback_(std::move(callback)) {}
    void cancel() override;
    bool cancelled() const { return cancelled_; }
    // Runs the callback unless cancelled; the callback is moved out first so
    // that cancel() from inside it is harmless.
    void run();

   private:
    friend class TimerQueue;
    Clock::time_point when_;
    std::uint64_t order_;
    std::function<void()> callback_;
    bool cancelled_ = false;
  };

  std::shared_ptr<TimerHandle> schedule(Clock::time_point when, std::function<void()> callback);
  // The earliest deadline of a timer not cancelled, if any.
  std::optional<Clock::time_point> next_deadline();
  // Appends every timer due at `now` to `due`, in running order.
  void take_due(Clock::time_point now, std::vector<std::shared_ptr<Timer>>& due);
  void clear() { heap_.clear(); }
  bool empty() const { return heap_.empty(); }

 private:
  // Heap order: std heap functions build a max-heap, so "less" is "runs later".
  static bool runs_later(const std::shared_ptr<Timer>& a, const std::shared_ptr<Timer>& b);
  void drop_cancelled_top();
  void purge_cancelled();

  std::vector<std::shared_ptr<Timer>> heap_;
  std::uint64_t next_order_ = 0;
  std::size_t purge_at_ = 64;
};

}  // namespace loopspec::reference
