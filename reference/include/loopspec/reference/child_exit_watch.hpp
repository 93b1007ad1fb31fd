// Learning, on the loop, that one child process exited — and reaping it.
//
// Promises:
// - on_exit(returncode) runs once, from the loop, after the child exited and
//   was reaped with waitpid(pid): no zombie is left. returncode is
//   subprocess.Popen's: the exit status, or -N for a death by signal N (255
//   when the child was reaped by someone else, as CPython reports it).
// - Pidfd (Linux 5.3 and later, the default where pidfd_open works): a pidfd
//   in the loop's epoll set becomes readable when the child exits. No signal
//   handler, no race: a pidfd of a child that already exited is readable at
//   once, and the pid cannot be reused before this watch reaps it.
// - SigchldHandler (where pidfd_open is missing): a SIGCHLD handler,
//   installed once for the process and chaining to any earlier handler,
//   wakes every such watch through its eventfd; each then tries
//   waitpid(pid, WNOHANG) for its own child only (never waitpid(-1), so
//   other children of the process are left alone). A check right after the
//   watch starts covers a child that exited before.
// - When the loop is destroyed with the child still running, the child is
//   killed (SIGKILL) and reaped, so nothing outlives the loop.
// - The descriptor is close-on-exec.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>

#include "loopspec/reference/epoll_loop.hpp"

namespace loopspec::reference {

class ChildExitWatch final : public FdWatcher, public std::enable_shared_from_this<ChildExitWatch> {
  struct Passkey {};

 public:
  enum class Mechanism { Auto, Pidfd, SigchldHandler };

  // Throws ContractError when no mechanism can watch the child (Pidfd asked
  // for on a kernel without it; too many SigchldHandler watches at once).
  static std::shared_ptr<ChildExitWatch> start(EpollLoop& loop, pid_t pid, std::function<void(int)> on_exit,
                                               Mechanism mechanism = Mechanism::Auto);

  ChildExitWatch(Passkey, EpollLoop& loop, pid_t pid, std::function<void(int)> on_exit);
  ~ChildExitWatch() override;

  pid_t pid() const { return pid_; }
  Mechanism mechanism() const { return mechanism_; }
  bool reaped() const { return reaped_; }

  // FdWatcher
  void on_readable() override;
  void on_writable() override {}
  void on_loop_destroyed() override;

 private:
  // waitpid(pid, WNOHANG); true once the child was reaped (on_exit then ran).
  bool try_reap();
  void stop_watching();

  EpollLoop* loop_;
  pid_t pid_;
  std::function<void(int)> on_exit_;
  Mechanism mechanism_ = Mechanism::Pidfd;
  int fd_ = -1;    // the pidfd, or the eventfd the SIGCHLD handler writes
  int slot_ = -1;  // SigchldHandler: this watch's place in the handler's table
  bool reaped_ = false;
};

}  // namespace loopspec::reference
