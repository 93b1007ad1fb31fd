// A child process and its pipes as an asyncio SubprocessTransport: the
// kit's (kit/child_process.hpp: lifecycle, callbacks, signals, close), with
// the child started and watched on the Asio loop.
//
// Promises:
// - spawn() starts the child at once (kit::spawn_process: posix_spawnp, the
//   child gets only its three standard streams and default signal
//   dispositions); each stdio stream asked as a pipe becomes a pipe
//   transport of this loop on a posix::stream_descriptor (stdin a
//   WritePipeTransport, stdout and stderr ReadPipeTransports). A child that
//   cannot start is the canonical error of its errno (FileNotFoundError, ...).
//   connection_made, then `done`, come from a callback scheduled after the
//   pipes' own.
// - The child's exit is watched through a pidfd (pidfd_open, Linux 5.3) on a
//   posix::stream_descriptor: async_wait(wait_read) completes when the child
//   has exited, and waitpid reaps it. No SIGCHLD handler is installed, so
//   children that others started are never reaped here. Where pidfd_open is
//   missing, spawn() fails with its error after killing and reaping the child.
// - The loop's destruction kills a child still running and reaps it, so
//   nothing outlives the loop, not even a zombie.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/asio/endpoint.hpp"
#include "loopspec/kit/child_process.hpp"

namespace loopspec::asio {

class ChildProcess final : public kit::ChildProcess, public LoopResident {
 public:
  // Throws ContractError when the child cannot be started.
  static void spawn(AsioLoop& loop, const std::vector<std::string>& argv, const SubprocessOptions& options,
                    std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done);

  ChildProcess(AsioLoop& loop, std::shared_ptr<SubprocessProtocol> protocol, pid_t pid, Descriptor exit_watch);

  // LoopResident
  void on_loop_destroyed() override;

 private:
  void watch_exit();
  void exit_news(const boost::system::error_code& ec);
  bool running() const override { return exit_watch_.has_value() && asio_loop_ != nullptr; }
  MaybeError signal_child(int signal) override;
  void on_finished() override;

  AsioLoop* asio_loop_;                   // null once the loop is destroyed
  std::optional<Descriptor> exit_watch_;  // the pidfd, until the child was reaped
};

}  // namespace loopspec::asio
