// Keeping SIGPIPE from the process while a loop writes, without touching the
// process's signal dispositions.
//
// Promises:
// - While a SigpipeGuard lives, SIGPIPE is blocked on this thread, so a write
//   (write(2), writev(2), send(2) without MSG_NOSIGNAL) to a pipe or socket
//   whose reader is gone fails with EPIPE and the signal it raises stays
//   pending on the thread instead of killing the process.
// - When the thread's outermost guard ends, a SIGPIPE that became pending
//   meanwhile is consumed (one already pending when it began is left alone),
//   the thread's mask is as it was, and errno is as the guarded code left it.
// - Guards nest: only the outermost of a thread makes system calls (at most
//   four: block, look for a pending SIGPIPE, consume it, restore), so a loop
//   that guards its whole run pays nothing per write.
// - Dispositions are never changed: a program that keeps SIGPIPE's default
//   action, or handles it, still gets the SIGPIPEs its own writes raise
//   outside a guard. Children started while a guard lives must reset their
//   mask (kit::spawn_process and libuv's uv_spawn do).
#pragma once

namespace loopspec::kit {

class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  bool outermost_;
  bool was_blocked_ = false;
  bool was_pending_ = false;
};

}  // namespace loopspec::kit
