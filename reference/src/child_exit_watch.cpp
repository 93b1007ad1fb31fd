#include "loopspec/reference/child_exit_watch.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>

namespace loopspec::reference {

namespace {

// ---- the SIGCHLD handler and the eventfds it wakes ----

constexpr std::size_t kMaxSignalWatches = 256;
struct WakeTable {
  std::array<std::atomic<int>, kMaxSignalWatches> fds;
  WakeTable() {
    for (auto& fd : fds) fd.store(-1);
  }
};
WakeTable g_wake_table;  // -1: a free slot
auto& g_wake_fds = g_wake_table.fds;
struct sigaction g_previous_action {};

void on_sigchld(int signal, siginfo_t* info, void* context) {
  int saved = errno;
  for (auto& slot : g_wake_fds) {
    int fd = slot.load(std::memory_order_acquire);
    if (fd < 0) continue;
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(fd, &one, sizeof one);
  }
  errno = saved;
  // An earlier handler of the process still hears of its children.
  if ((g_previous_action.sa_flags & SA_SIGINFO) != 0 && g_previous_action.sa_sigaction != nullptr) {
    g_previous_action.sa_sigaction(signal, info, context);
  } else if (g_previous_action.sa_handler != SIG_DFL && g_previous_action.sa_handler != SIG_IGN &&
             g_previous_action.sa_handler != nullptr) {
    g_previous_action.sa_handler(signal);
  }
}

void install_sigchld_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigchld;
    action.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGCHLD, &action, &g_previous_action);
  });
}

int take_slot(int fd) {
  for (std::size_t i = 0; i < kMaxSignalWatches; ++i) {
    int empty = -1;
    if (g_wake_fds[i].compare_exchange_strong(empty, fd)) return static_cast<int>(i);
  }
  return -1;
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // close-on-exec by definition
#else
  errno = ENOSYS;
  return -1;
#endif
}

int returncode_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return status;
}

}  // namespace

std::shared_ptr<ChildExitWatch> ChildExitWatch::start(EpollLoop& loop, pid_t pid, std::function<void(int)> on_exit,
                                                      Mechanism mechanism) {
  auto watch = std::make_shared<ChildExitWatch>(Passkey{}, loop, pid, std::move(on_exit));
  if (mechanism != Mechanism::SigchldHandler) {
    watch->fd_ = open_pidfd(pid);
    if (watch->fd_ < 0 && (mechanism == Mechanism::Pidfd || (errno != ENOSYS && errno != EPERM))) {
      throw ContractError(Error::from_errno(errno, "pidfd_open"));
    }
  }
  if (watch->fd_ < 0) {
    watch->mechanism_ = Mechanism::SigchldHandler;
    install_sigchld_handler();
    watch->fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (watch->fd_ < 0) throw ContractError(Error::from_errno(errno, "eventfd"));
    watch->slot_ = take_slot(watch->fd_);
    if (watch->slot_ < 0) throw ContractError(Error{"OSError", 0, "too many child processes watched without pidfd"});
    // The child may have exited before the slot was taken: look once now.
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(watch->fd_, &one, sizeof one);
  }
  loop.watch_fd(watch->fd_, watch);
  loop.set_reading(watch->fd_, true);
  return watch;
}

ChildExitWatch::ChildExitWatch(Passkey, EpollLoop& loop, pid_t pid, std::function<void(int)> on_exit)
    : loop_(&loop), pid_(pid), on_exit_(std::move(on_exit)) {}

ChildExitWatch::~ChildExitWatch() {
  if (slot_ >= 0) g_wake_fds[static_cast<std::size_t>(slot_)].store(-1, std::memory_order_release);
  if (fd_ >= 0) ::close(fd_);
}

void ChildExitWatch::on_readable() {
  if (mechanism_ == Mechanism::SigchldHandler) {
    std::uint64_t count;
    [[maybe_unused]] auto got = ::read(fd_, &count, sizeof count);
  }
  try_reap();
}

bool ChildExitWatch::try_reap() {
  if (reaped_) return true;
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &status, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == 0) return false;  // still running
  // ECHILD: reaped elsewhere; its status is lost (CPython reports 255 then).
  int returncode = got < 0 ? 255 : returncode_of(status);
  reaped_ = true;
  stop_watching();
  auto self = shared_from_this();  // on_exit may drop the last owner
  auto on_exit = std::move(on_exit_);
  if (on_exit) on_exit(returncode);
  return true;
}

void ChildExitWatch::stop_watching() {
  if (slot_ >= 0) {
    g_wake_fds[static_cast<std::size_t>(slot_)].store(-1, std::memory_order_release);
    slot_ = -1;
  }
  if (fd_ >= 0) {
    if (loop_ != nullptr) loop_->unwatch_fd(fd_);
    ::close(fd_);
    fd_ = -1;
  }
}

void ChildExitWatch::on_loop_destroyed() {
  loop_ = nullptr;
  on_exit_ = nullptr;  // it may hold transports the loop is tearing down
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  stop_watching();
}

}  // namespace loopspec::reference
