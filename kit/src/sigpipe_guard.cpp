#include "loopspec/kit/sigpipe_guard.hpp"

#include <pthread.h>

#include <cerrno>
#include <csignal>
#include <ctime>

namespace loopspec::kit {
namespace {

thread_local int guard_depth = 0;

sigset_t sigpipe_only() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  return set;
}

bool sigpipe_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

}  // namespace

SigpipeGuard::SigpipeGuard() : outermost_(guard_depth++ == 0) {
  if (!outermost_) return;
  const sigset_t pipe = sigpipe_only();
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &pipe, &previous);
  was_blocked_ = sigismember(&previous, SIGPIPE) == 1;
  // An unblocked signal is never left pending: only a blocked one can have been waiting already.
  was_pending_ = was_blocked_ && sigpipe_pending();
}

SigpipeGuard::~SigpipeGuard() {
  --guard_depth;
  if (!outermost_) return;
  const int saved_errno = errno;
  const sigset_t pipe = sigpipe_only();
  if (!was_pending_ && sigpipe_pending()) {
    timespec now{0, 0};
    while (sigtimedwait(&pipe, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  if (!was_blocked_) pthread_sigmask(SIG_UNBLOCK, &pipe, nullptr);
  errno = saved_errno;
}

}  // namespace loopspec::kit
