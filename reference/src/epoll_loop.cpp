#include "loopspec/reference/epoll_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "loopspec/kit/exception_error.hpp"

namespace loopspec::reference {

namespace {

constexpr std::uint64_t kWakeTag = UINT64_MAX;
constexpr int kMaxEventsPerWait = 256;

std::uint64_t event_tag(int fd, std::uint32_t serial) {
  return (std::uint64_t{serial} << 32) | static_cast<std::uint32_t>(fd);
}

TimerQueue::Clock::duration to_clock_duration(Duration seconds) {
  // NaN and negative delays mean "now"; absurdly long ones are capped at ~30 years.
  double s = seconds.count();
  if (!(s > 0)) s = 0;
  if (s > 1e9) s = 1e9;
  return std::chrono::duration_cast<TimerQueue::Clock::duration>(Duration(s));
}

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

EpollLoop::EpollLoop(kit::Faults faults) : LoopBase("loopspec reference loop", faults), events_(kMaxEventsPerWait) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    ::close(epoll_fd_);
    throw_errno("eventfd");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) < 0) {
    ::close(wake_fd_);
    ::close(epoll_fd_);
    throw_errno("epoll_ctl(eventfd)");
  }
}

EpollLoop::~EpollLoop() {
  // Callbacks and timers may own transports: drop them first, then let every
  // watcher close its fd, which also breaks transport <-> protocol cycles.
  ready_.clear();
  running_batch_.clear();
  due_timers_.clear();
  timers_.clear();
  {
    std::lock_guard lock(threadsafe_mutex_);
    threadsafe_.clear();
  }
  std::vector<std::shared_ptr<FdWatcher>> watchers;
  for (auto& watch : watches_) {
    if (watch.watcher) watchers.push_back(std::move(watch.watcher));
  }
  watches_.clear();
  for (auto& watcher : watchers) watcher->on_loop_destroyed();
  watchers.clear();
  for (auto& weak : std::exchange(residents_, {})) {
    if (auto resident = weak.lock()) resident->on_loop_destroyed();
  }
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

// ---- running ----

template <class F>
void EpollLoop::run_guarded(std::string_view context, F&& callback) {
  try {
    callback();
  } catch (...) {
    report_exception(context, kit::error_from_current_exception());
  }
}

void EpollLoop::run_forever() {
  if (running_) throw ContractError(Error{"RuntimeError", 0, "This event loop is already running"});
  running_ = true;
  struct Reset {
    EpollLoop& loop;
    ~Reset() {
      loop.running_ = false;
      loop.stopping_ = false;
    }
  } reset{*this};
  for (;;) {
    run_once();
    if (stopping_) break;
  }
}

void EpollLoop::stop() { stopping_ = true; }

bool EpollLoop::idle() {
  if (running_ || !ready_.empty() || !running_batch_.empty() || !due_timers_.empty() || !timers_.empty()) return false;
  {
    std::lock_guard lock(threadsafe_mutex_);
    if (!threadsafe_.empty()) return false;
  }
  for (const Watch& watch : watches_) {
    if (watch.serial != 0) return false;
  }
  for (const auto& resident : residents_) {
    if (!resident.expired()) return false;
  }
  return true;
}

Duration EpollLoop::time() { return std::chrono::duration_cast<Duration>(TimerQueue::Clock::now().time_since_epoch()); }

void EpollLoop::run_once() {
  take_threadsafe_callbacks();
  int n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), poll_timeout_ms());
  if (n < 0) {
    if (errno != EINTR) throw_errno("epoll_wait");
    n = 0;
  }
  take_threadsafe_callbacks();

  // This iteration's work is fixed now; whatever it schedules waits for the next.
  running_batch_.swap(ready_);
  timers_.take_due(TimerQueue::Clock::now(), due_timers_);

  for (auto& callback : running_batch_) run_guarded("callback", callback);
  running_batch_.clear();
  for (int i = 0; i < n; ++i) dispatch(events_[i]);
  for (auto& timer : due_timers_) run_guarded("timer", [&timer] { timer->run(); });
  due_timers_.clear();
}

int EpollLoop::poll_timeout_ms() {
  if (!ready_.empty() || stopping_) return 0;
  auto deadline = timers_.next_deadline();
  if (!deadline) return -1;
  auto wait = *deadline - TimerQueue::Clock::now();
  if (wait <= TimerQueue::Clock::duration::zero()) return 0;
  // Rounded up so that the loop never wakes just before the deadline and spins.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

// ---- scheduling ----

void EpollLoop::call_soon(std::function<void()> callback) { ready_.push_back(std::move(callback)); }

void EpollLoop::call_soon_threadsafe(std::function<void()> callback) {
  {
    std::lock_guard lock(threadsafe_mutex_);
    threadsafe_.push_back(std::move(callback));
  }
  if (!wake_pending_.exchange(true)) {
    std::uint64_t one = 1;
    // EAGAIN only when the counter is saturated: the loop is awake anyway.
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
  }
}

void EpollLoop::take_threadsafe_callbacks() {
  // Cleared before taking, so that a callback added after the take always
  // writes the eventfd again.
  wake_pending_.store(false);
  std::lock_guard lock(threadsafe_mutex_);
  for (auto& callback : threadsafe_) ready_.push_back(std::move(callback));
  threadsafe_.clear();
}

std::shared_ptr<TimerHandle> EpollLoop::call_later(Duration delay, std::function<void()> callback) {
  return timers_.schedule(TimerQueue::Clock::now() + to_clock_duration(delay), std::move(callback));
}

std::shared_ptr<TimerHandle> EpollLoop::call_at(Duration when, std::function<void()> callback) {
  return timers_.schedule(TimerQueue::Clock::time_point(to_clock_duration(when)), std::move(callback));
}

// ---- fd watching ----

void EpollLoop::watch_fd(int fd, std::shared_ptr<FdWatcher> watcher) {
  if (fd < 0) throw std::invalid_argument("watch_fd: negative fd");
  if (static_cast<std::size_t>(fd) >= watches_.size()) watches_.resize(static_cast<std::size_t>(fd) + 1);
  Watch& watch = watches_[static_cast<std::size_t>(fd)];
  if (watch.serial != 0) throw std::logic_error("watch_fd: fd " + std::to_string(fd) + " is already watched");
  watch = Watch{std::move(watcher), next_serial_++, false, false, 0};
  if (next_serial_ == 0) next_serial_ = 1;
}

void EpollLoop::set_reading(int fd, bool on) {
  Watch* watch = find_watch(fd, 0);
  if (watch == nullptr || watch->reading == on) return;
  watch->reading = on;
  update_interest(fd);
}

void EpollLoop::set_writing(int fd, bool on) {
  Watch* watch = find_watch(fd, 0);
  if (watch == nullptr || watch->writing == on) return;
  watch->writing = on;
  update_interest(fd);
}

void EpollLoop::unwatch_fd(int fd) {
  Watch* watch = find_watch(fd, 0);
  if (watch == nullptr) return;
  if (watch->registered != 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  auto watcher = std::move(watch->watcher);  // released after the entry is reset
  *watch = Watch{};
}

bool EpollLoop::is_reading_fd(int fd) {
  Watch* watch = find_watch(fd, 0);
  return watch != nullptr && watch->reading;
}

void EpollLoop::add_resident(std::weak_ptr<LoopResident> resident) {
  // Forget the residents already gone whenever the list would grow, so it stays
  // proportional to the live ones.
  if (residents_.size() == residents_.capacity()) {
    std::erase_if(residents_, [](const std::weak_ptr<LoopResident>& r) { return r.expired(); });
  }
  residents_.push_back(std::move(resident));
}

EpollLoop::Watch* EpollLoop::find_watch(int fd, std::uint32_t serial) {
  if (fd < 0 || static_cast<std::size_t>(fd) >= watches_.size()) return nullptr;
  Watch& watch = watches_[static_cast<std::size_t>(fd)];
  if (watch.serial == 0 || (serial != 0 && watch.serial != serial)) return nullptr;
  return &watch;
}

void EpollLoop::update_interest(int fd) {
  Watch& watch = watches_[static_cast<std::size_t>(fd)];
  std::uint32_t wanted = (watch.reading ? EPOLLIN : 0u) | (watch.writing ? EPOLLOUT : 0u);
  if (wanted == watch.registered) return;
  // An fd without interest leaves the epoll set, so that a hung-up socket
  // nobody reads does not wake the loop over and over.
  int op = wanted == 0 ? EPOLL_CTL_DEL : watch.registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  epoll_event event{};
  event.events = wanted;
  event.data.u64 = event_tag(fd, watch.serial);
  if (::epoll_ctl(epoll_fd_, op, fd, &event) < 0) throw_errno("epoll_ctl");
  watch.registered = wanted;
}

void EpollLoop::dispatch(const epoll_event& event) {
  if (event.data.u64 == kWakeTag) {
    std::uint64_t count;
    [[maybe_unused]] auto got = ::read(wake_fd_, &count, sizeof count);
    return;  // the callbacks it announced are taken at the next iteration's start
  }
  int fd = static_cast<int>(event.data.u64 & 0xffffffffu);
  auto serial = static_cast<std::uint32_t>(event.data.u64 >> 32);
  // epoll reports errors and hang-ups whatever was asked for; like asyncio's
  // selectors, they wake the reader and the writer.
  bool readable = (event.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
  bool writable = (event.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;

  Watch* watch = find_watch(fd, serial);
  if (watch == nullptr) return;
  std::shared_ptr<FdWatcher> watcher = watch->watcher;  // alive through both calls
  if (readable && watch->reading) run_guarded("fd reader", [&] { watcher->on_readable(); });
  watch = find_watch(fd, serial);  // the reader may have changed interest or unwatched
  if (watch != nullptr && writable && watch->writing) run_guarded("fd writer", [&] { watcher->on_writable(); });
}

}  // namespace loopspec::reference
