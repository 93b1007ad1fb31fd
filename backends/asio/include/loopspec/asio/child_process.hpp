// A child process and its pipes as an asyncio SubprocessTransport; the
// behaviour is CPython's BaseSubprocessTransport (3.8 and later) unless
// stated otherwise.
//
// Lifecycle (states and the only transitions):
//   Starting --connection_made delivered--> Running
//   Running --the child reaped and every pipe lost--> Finishing
//   Finishing --connection_lost delivered--> Finished
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
// - pipe_data_received(fd, data) with the child's fd (1 or 2);
//   pipe_connection_lost(fd, exc) once per pipe as its transport got
//   connection_lost; process_exited once the child was reaped,
//   get_returncode() set before it (the exit status, or -signal). Callbacks
//   that would come before connection_made wait for it, in order.
// - connection_lost(None) exactly once, last, from a scheduled callback.
// - get_pipe_transport(0/1/2): the pipe's transport (also once closed), or
//   null where that stream is not a pipe.
// - send_signal() signals the child; once the child was reaped it does
//   nothing (the pid may be another process's by then), and after
//   connection_lost it raises ProcessLookupError. terminate() is SIGTERM,
//   kill() SIGKILL.
// - close(): is_closing() turns true, every pipe transport is closed (stdin
//   after its queue), and a child still running gets the loop's
//   subprocess_close_signal() (SIGKILL under 3.8, SIGTERM under 3.4.3).
// - Exceptions of the protocol's callbacks go to the loop's exception
//   handler; the transport goes on.
// - The loop's destruction kills a child still running and reaps it, so
//   nothing outlives the loop, not even a zombie.
// - get_extra_info('subprocess') is {"pid": N}.
#pragma once

#include <sys/types.h>

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/asio/endpoint.hpp"
#include "loopspec/event_loop.hpp"
#include "loopspec/kit/faults.hpp"

namespace loopspec::asio {

class ChildProcess final : public SubprocessTransport, public LoopResident, public std::enable_shared_from_this<ChildProcess> {
 public:
  // Throws ContractError when the child cannot be started.
  static void spawn(AsioLoop& loop, const std::vector<std::string>& argv, const SubprocessOptions& options,
                    std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done);

  ChildProcess(AsioLoop& loop, std::shared_ptr<SubprocessProtocol> protocol, pid_t pid, Descriptor exit_watch);

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  bool is_closing() override { return closed_ || phase_ == Phase::Finished; }
  void close() override;
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override { return protocol_; }
  // SubprocessTransport
  int get_pid() override { return pid_; }
  std::shared_ptr<BaseTransport> get_pipe_transport(int fd) override;
  std::optional<int> get_returncode() override { return returncode_; }
  void send_signal(int signal) override;
  void terminate() override;
  void kill() override;
  // LoopResident
  void on_loop_destroyed() override;

 private:
  enum class Phase { Starting, Running, Finishing, Finished };
  class PipeProtocol;
  using Callback = std::function<void(SubprocessProtocol&)>;

  void watch_exit();
  void exit_news(const boost::system::error_code& ec);
  void made();
  // Runs a protocol callback now, or once connection_made was delivered.
  void deliver(const char* name, Callback callback);
  void run(const char* name, const Callback& callback);
  void pipe_lost(int fd, const MaybeError& exc);
  void finish_if_done();
  bool running() const { return !returncode_ && loop_ != nullptr; }

  AsioLoop* loop_;  // null once the loop is destroyed
  const kit::Faults faults_;
  int close_signal_;
  pid_t pid_;
  std::optional<Descriptor> exit_watch_;  // the pidfd, until the child was reaped
  std::shared_ptr<SubprocessProtocol> protocol_;
  std::array<std::shared_ptr<BaseTransport>, 3> pipes_;  // by the child's fd; null: not a pipe
  std::array<bool, 3> pipe_open_{};                      // a pipe whose connection_lost has not come
  Phase phase_ = Phase::Starting;
  std::optional<int> returncode_;
  bool closed_ = false;
  std::deque<std::pair<const char*, Callback>> waiting_;  // callbacks before connection_made
};

}  // namespace loopspec::asio
