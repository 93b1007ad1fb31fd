#include "loopspec/reference/timer_queue.hpp"

#include <algorithm>
#include <tuple>

namespace loopspec::reference {

void TimerQueue::Timer::cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  callback_ = nullptr;
}

void TimerQueue::Timer::run() {
  if (cancelled_) return;
  auto callback = std::move(callback_);
  callback_ = nullptr;
  cancelled_ = true;  // ran: a later cancel() has nothing to do
  callback();
}

bool TimerQueue::runs_later(const std::shared_ptr<Timer>& a, const std::shared_ptr<Timer>& b) {
  return std::tie(a->when_, a->order_) > std::tie(b->when_, b->order_);
}

std::shared_ptr<TimerHandle> TimerQueue::schedule(Clock::time_point when, std::function<void()> callback) {
  if (heap_.size() >= purge_at_) purge_cancelled();
  auto timer = std::make_shared<Timer>(when, next_order_++, std::move(callback));
  heap_.push_back(timer);
  std::push_heap(heap_.begin(), heap_.end(), runs_later);
  return timer;
}

std::optional<TimerQueue::Clock::time_point> TimerQueue::next_deadline() {
  drop_cancelled_top();
  if (heap_.empty()) return std::nullopt;
  return heap_.front()->when_;
}

void TimerQueue::take_due(Clock::time_point now, std::vector<std::shared_ptr<Timer>>& due) {
  for (drop_cancelled_top(); !heap_.empty() && heap_.front()->when_ <= now; drop_cancelled_top()) {
    std::pop_heap(heap_.begin(), heap_.end(), runs_later);
    due.push_back(std::move(heap_.back()));
    heap_.pop_back();
  }
}

void TimerQueue::drop_cancelled_top() {
  while (!heap_.empty() && heap_.front()->cancelled_) {
    std::pop_heap(heap_.begin(), heap_.end(), runs_later);
    heap_.pop_back();
  }
}

void TimerQueue::purge_cancelled() {
  std::erase_if(heap_, [](const std::shared_ptr<Timer>& timer) { return timer->cancelled_; });
  std::make_heap(heap_.begin(), heap_.end(), runs_later);
  purge_at_ = std::max<std::size_t>(64, 2 * heap_.size());
}

}  // namespace loopspec::reference
