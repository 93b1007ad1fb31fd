#include "peer_thread.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>

namespace loopspec::scenarios {

PeerThread::PeerThread(int fd) : fd_(fd) {
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0 || ::fcntl(fd_, F_SETFD, FD_CLOEXEC) < 0) {
    ::close(fd_);
    throw ScenarioAbort("the peer's descriptor cannot be made non-blocking");
  }
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    ::close(fd_);
    throw ScenarioAbort("eventfd failed");
  }
}

PeerThread::~PeerThread() {
  stop();
  if (fd_ >= 0) ::close(fd_);
  ::close(wake_fd_);
}

void PeerThread::start() { thread_ = std::thread([this] { run(); }); }

void PeerThread::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake();
  thread_.join();
}

void PeerThread::watch_with(ScenarioContext& ctx) {
  std::lock_guard lock(mutex_);
  // The context's loop runs the hook-wrapped no-op, which re-checks the wait.
  notify_ = [loop = &ctx.loop()] { loop->call_soon_threadsafe([] {}); };
}

void PeerThread::post(std::function<void()> command) {
  {
    std::lock_guard lock(mutex_);
    commands_.push_back(std::move(command));
  }
  wake();
}

void PeerThread::close_fd() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
}

void PeerThread::wait_for_commands(ScenarioContext& ctx, std::string_view what, std::function<void()> last) {
  std::uint64_t token;
  {
    std::lock_guard lock(mutex_);
    token = ++syncs_posted_;
  }
  post([this, token, last = std::move(last)] {
    last();
    syncs_done_ = token;
  });
  ctx.wait(
      [&] {
        std::lock_guard lock(mutex_);
        return syncs_done_ >= token;
      },
      what);
}

void PeerThread::wake() {
  std::uint64_t one = 1;
  while (::write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void PeerThread::run() {
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  std::vector<std::function<void()>> batch;
  for (;;) {
    short events = 0;
    std::function<void()> notify;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      batch.swap(commands_);
      for (auto& command : batch) command();
      events = fd_ >= 0 ? wanted() : 0;
      notify = notify_;
    }
    if (!batch.empty() && notify) notify();
    batch.clear();
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {events != 0 ? fd_ : -1, events, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) {
      std::uint64_t count;
      while (::read(wake_fd_, &count, sizeof count) < 0 && errno == EINTR) {
      }
    }
    if (fds[1].revents == 0) continue;
    {
      std::lock_guard lock(mutex_);
      if (fd_ >= 0) on_ready(fds[1].revents);
      notify = notify_;
    }
    if (notify) notify();
  }
}

}  // namespace loopspec::scenarios
