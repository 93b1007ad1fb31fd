// A child process and its pipes as an asyncio SubprocessTransport; the
// behaviour is CPython's BaseSubprocessTransport (3.8 and later) unless
// stated otherwise.
//
// Lifecycle (states and the only transitions):
//   Starting --connection_made delivered--> Running
//   Running --the child reaped and every pipe lost--> Finishing
//   Finishing --connection_lost delivered--> Finished
// Promises:
// - The child is started at once (kit/process_spawn.hpp); its pipes become pipe
//   transports of this loop (stdin a WritePipeTransport, stdout and stderr
//   ReadPipeTransports); connection_made, then `done`, from a callback
//   scheduled after theirs.
// - pipe_data_received(fd, data) with the child's fd (1 or 2) and non-empty
//   data; pipe_connection_lost(fd, exc) once per pipe when it closes (exc as
//   that pipe's connection_lost got it); process_exited once the child
//   exited and was reaped (child_exit_watch.hpp: no zombie, no race), with
//   get_returncode() already set. Callbacks that would come before
//   connection_made wait for it, in order. process_exited and the pipe
//   callbacks come in the order the loop learns of them (INFO rule
//   subprocess.exited.order-vs-pipes).
// - connection_lost(None) exactly once, last: after process_exited and every
//   pipe_connection_lost, from a scheduled callback.
// - get_pipe_transport(0/1/2) is the pipe's transport (also once closed), or
//   null where that stream was not a pipe; any other fd gives null.
// - send_signal() signals the child; once it was reaped it does nothing (the
//   pid may be another process's by then), and after connection_lost it
//   raises ProcessLookupError (as CPython, whose process object is gone).
//   terminate() is SIGTERM, kill() SIGKILL.
// - close(): is_closing() turns true; every pipe transport is closed (stdin
//   after writing what it has queued); a child that has not exited is killed
//   with SIGKILL, as the 3.8 page says (3.4.3 says terminate(): see the rules
//   subprocess.close.kills and subprocess.close.terminates).
// - Exceptions of the protocol's callbacks go to the loop's exception
//   handler; the transport goes on (CPython schedules these callbacks).
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

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/child_exit_watch.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/kit/faults.hpp"

namespace loopspec::reference {

class ChildProcessTransport final : public SubprocessTransport,
                                    public LoopResident,
                                    public std::enable_shared_from_this<ChildProcessTransport> {
  struct Passkey {};

 public:
  // Starts argv; throws ContractError when the child cannot be started.
  static std::shared_ptr<ChildProcessTransport> start(EpollLoop& loop, const std::vector<std::string>& argv,
                                                      const SubprocessOptions& options,
                                                      std::shared_ptr<SubprocessProtocol> protocol,
                                                      Completion<SubprocessTransport> done);

  ChildProcessTransport(Passkey, EpollLoop& loop, pid_t pid, std::shared_ptr<SubprocessProtocol> protocol);

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  // Also true once connection_lost was delivered (rule transport.closing.after-lost; CPython's
  // subprocess transport answers true only after close()).
  bool is_closing() override { return closed_ || phase_ == Phase::Finished; }
  void close() override;
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override { return protocol_; }
  // SubprocessTransport
  int get_pid() override { return static_cast<int>(pid_); }
  std::shared_ptr<BaseTransport> get_pipe_transport(int fd) override;
  std::optional<int> get_returncode() override { return returncode_; }
  void send_signal(int signal) override;
  void terminate() override;
  void kill() override;

  // LoopResident: the exit watch kills and reaps a running child; this lets go
  // of the protocol and the pipes, so a protocol holding the transport is freed.
  void on_loop_destroyed() override;

  // From the pipes' protocols (child fd 0, 1, 2).
  void on_pipe_data(int fd, std::string_view data);
  void on_pipe_lost(int fd, const MaybeError& exc);
  void on_pipe_pause_writing();
  void on_pipe_resume_writing();

 private:
  enum class Phase { Starting, Running, Finishing, Finished };
  class PipeProtocol;

  void deliver_connection_made();
  void on_exit(int returncode);
  // Runs a protocol callback now, or queues it until connection_made was delivered.
  void deliver(const char* name, std::function<void(SubprocessProtocol&)> callback);
  void run_protocol(const char* name, const std::function<void(SubprocessProtocol&)>& callback);
  void try_finish();
  void deliver_connection_lost();
  // Reaped already (also when the loop went first): its pid may be another process's now.
  bool reaped() const { return returncode_.has_value() || (exit_watch_ && exit_watch_->reaped()); }

  EpollLoop& loop_;
  const kit::Faults faults_;
  pid_t pid_;
  std::shared_ptr<SubprocessProtocol> protocol_;
  std::array<std::shared_ptr<BaseTransport>, 3> pipes_;  // by child fd; null: not a pipe
  std::array<int, 3> parent_fds_{-1, -1, -1};            // the parent's descriptor of each pipe
  std::array<bool, 3> pipe_lost_{true, true, true};      // a missing pipe counts as lost
  std::shared_ptr<ChildExitWatch> exit_watch_;
  Phase phase_ = Phase::Starting;
  std::optional<int> returncode_;
  bool closed_ = false;
  std::deque<std::pair<const char*, std::function<void(SubprocessProtocol&)>>> pending_;
};

}  // namespace loopspec::reference
