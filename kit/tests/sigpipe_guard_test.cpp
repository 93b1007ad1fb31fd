// Machinery: SigpipeGuard keeps the SIGPIPE of a write to a reader that went
// away from the process, with SIGPIPE at its default (killing) disposition,
// and leaves the thread's mask, a SIGPIPE already pending and errno alone.
#include "loopspec/kit/sigpipe_guard.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <gtest/gtest.h>

namespace loopspec::kit {
namespace {

bool sigpipe_blocked() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

bool sigpipe_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

// SIGPIPE kills while this lives, as in a program that never touched it.
class DefaultSigpipe {
 public:
  DefaultSigpipe() { previous_ = std::signal(SIGPIPE, SIG_DFL); }
  ~DefaultSigpipe() { std::signal(SIGPIPE, previous_); }

 private:
  void (*previous_)(int);
};

// A pipe whose reader is gone: every write is EPIPE and raises SIGPIPE.
struct WidowedPipe {
  WidowedPipe() {
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    ::close(fds[0]);
  }
  ~WidowedPipe() { ::close(fds[1]); }
  ssize_t write() const { return ::write(fds[1], "x", 1); }
  int fds[2];
};

TEST(SigpipeGuard, AWriteToAReaderGoneIsEpipeAndTheProcessLives) {
  DefaultSigpipe killing;
  WidowedPipe pipe;
  {
    SigpipeGuard guard;
    EXPECT_EQ(pipe.write(), -1);
    EXPECT_EQ(errno, EPIPE);
    EXPECT_TRUE(sigpipe_pending());
  }
  EXPECT_EQ(errno, EPIPE);  // as the write left it
  EXPECT_FALSE(sigpipe_pending());
  EXPECT_FALSE(sigpipe_blocked());
  EXPECT_EQ(std::signal(SIGPIPE, SIG_DFL), SIG_DFL);  // the disposition was never changed
}

TEST(SigpipeGuard, OnlyTheOutermostGuardRestoresTheMask) {
  DefaultSigpipe killing;
  WidowedPipe pipe;
  {
    SigpipeGuard outer;
    {
      SigpipeGuard inner;
      EXPECT_EQ(pipe.write(), -1);
    }
    EXPECT_TRUE(sigpipe_blocked());
    EXPECT_TRUE(sigpipe_pending());  // still held: unblocking now would kill
    EXPECT_EQ(pipe.write(), -1);
  }
  EXPECT_FALSE(sigpipe_blocked());
  EXPECT_FALSE(sigpipe_pending());
}

TEST(SigpipeGuard, ASigpipeAlreadyPendingAndAMaskAlreadyBlockingAreLeftAlone) {
  DefaultSigpipe killing;
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
  pthread_kill(pthread_self(), SIGPIPE);  // the caller's own, waiting for it
  {
    SigpipeGuard guard;
    WidowedPipe pipe;
    EXPECT_EQ(pipe.write(), -1);
  }
  EXPECT_TRUE(sigpipe_blocked());
  EXPECT_TRUE(sigpipe_pending());
  timespec now{0, 0};
  EXPECT_EQ(sigtimedwait(&pipe_only, nullptr, &now), SIGPIPE);
  pthread_sigmask(SIG_UNBLOCK, &pipe_only, nullptr);
}

}  // namespace
}  // namespace loopspec::kit
