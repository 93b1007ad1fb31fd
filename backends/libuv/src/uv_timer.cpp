#include "loopspec/libuv/uv_timer.hpp"

#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

std::shared_ptr<UvTimer> UvTimer::start(UvLoop& loop, std::uint64_t deadline_ns, std::function<void()> callback) {
  auto timer = std::make_shared<UvTimer>(Passkey{}, loop, std::move(callback), deadline_ns);
  timer->box_ = HandleBox::make(timer);
  uv_timer_init(loop.uv(), &timer->box_->timer);  // cannot fail on Unix
  timer->box_->adopt();
  timer->arm();
  return timer;
}

UvTimer::UvTimer(Passkey, UvLoop& loop, std::function<void()> callback, std::uint64_t deadline_ns)
    : loop_(&loop), callback_(std::move(callback)), deadline_ns_(deadline_ns),
      sequence_(loop.next_timer_sequence()) {}

void UvTimer::arm() {
  if (!armed_) {
    loop_->timer_armed(deadline_ns_, sequence_, this);
    armed_ = true;
  }
  // The loop clock is read fresh: a cached one from before a long callback
  // would make the timer fire early.
  uv_update_time(loop_->uv());
  std::uint64_t now = uv_hrtime();
  std::uint64_t left_ns = deadline_ns_ > now ? deadline_ns_ - now : 0;
  std::uint64_t left_ms = (left_ns + 999'999) / 1'000'000 + 1;  // + the loop clock's lag
  uv_timer_start(&box_->timer, on_timer, left_ms, 0);
}

void UvTimer::on_timer(uv_timer_t* handle) {
  auto* timer = static_cast<UvTimer*>(HandleBox::owner_of(reinterpret_cast<uv_handle_t*>(handle)));
  if (timer != nullptr) timer->fire();
}

void UvTimer::fire() {
  if (uv_hrtime() < deadline_ns_) return arm();
  come_due();
}

void UvTimer::come_due() {
  disarm();
  loop_->timer_due(deadline_ns_, sequence_, [self = shared_from_this()] { self->run(); });
  close_handle();
}

void UvTimer::disarm() {
  if (!armed_ || loop_ == nullptr) return;
  loop_->timer_disarmed(deadline_ns_, sequence_);
  armed_ = false;
}

void UvTimer::run() {
  auto callback = std::move(callback_);
  if (callback && loop_ != nullptr) loop_->run_guarded("timer", callback);
}

void UvTimer::cancel() {
  disarm();
  callback_ = nullptr;
  close_handle();
}

void UvTimer::close_handle() {
  HandleBox::close(box_);
  box_ = nullptr;
}

void UvTimer::on_loop_destroyed() {
  cancel();
  loop_ = nullptr;
}

}  // namespace loopspec::libuv
