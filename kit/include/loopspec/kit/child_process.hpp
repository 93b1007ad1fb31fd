// What every in-process backend's SubprocessTransport shares, whatever
// starts the child and watches its exit: CPython's BaseSubprocessTransport
// (3.8 and later) as a state machine over the child's pipe transports.
//
// Lifecycle (states and the only transitions):
//   Starting --connection_made delivered--> Running
//   Running --the child reaped and every pipe lost--> Finishing
//   Finishing --connection_lost delivered--> Finished
// Promises:
// - The backend starts the child and its pipes; each pipe transport's
//   protocol is pipe_protocol(fd, ...) and set_pipe() records the transport.
//   announce() then schedules connection_made and `done`, after the pipes'
//   own connection_made (CPython's _connect_pipes).
// - pipe_data_received(fd, data) with the child's fd (1 or 2);
//   pipe_connection_lost(fd, exc) once per pipe as its transport got
//   connection_lost; process_exited once the backend reports the child
//   reaped (exited()), get_returncode() set before it. Callbacks that would
//   come before connection_made wait for it, in order.
// - connection_lost(None) exactly once, last, from a scheduled callback;
//   then on_finished() and the protocol is let go of.
// - get_pipe_transport(0/1/2): the pipe's transport (also once closed), or
//   null where that stream is not a pipe.
// - send_signal() signals a child still running (signal_child); once the
//   child was reaped it does nothing (the pid may be another process's by
//   then), and after connection_lost it raises ProcessLookupError.
//   terminate() is SIGTERM, kill() SIGKILL.
// - close(): is_closing() turns true, every pipe transport is closed (stdin
//   after its queue), and a child still running gets close_signal (SIGKILL
//   under 3.8, SIGTERM under 3.4.3).
// - Exceptions of the protocol's callbacks go to the loop's exception
//   handler; the transport goes on.
// - get_extra_info('subprocess') is {"pid": N}.
// - forget_loop(): the loop is gone: no callback runs any more.
#pragma once

#include <sys/types.h>

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/loop_base.hpp"

namespace loopspec::kit {

class ChildProcess : public SubprocessTransport, public std::enable_shared_from_this<ChildProcess> {
 public:
  ChildProcess(LoopBase& loop, std::shared_ptr<SubprocessProtocol> protocol, int close_signal);

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

 protected:
  // The protocol of the pipe transport of the child's fd; parent_fd: our end's descriptor.
  std::shared_ptr<StreamProtocol> pipe_protocol(int fd, int parent_fd);
  // The pipe transport of the child's fd (null: it could not start).
  void set_pipe(int fd, std::shared_ptr<BaseTransport> transport);
  void announce(Completion<SubprocessTransport> done);
  // The child was reaped: its exit status, or -signal.
  void exited(int returncode);
  void forget_loop();

  // Whether the child runs and was not reaped (signals reach it).
  virtual bool running() const = 0;
  virtual MaybeError signal_child(int signal) = 0;
  virtual void on_finished() {}

  LoopBase* loop_;  // null once the loop is destroyed
  const Faults faults_;
  int close_signal_;
  pid_t pid_ = 0;
  std::optional<int> returncode_;

 private:
  enum class Phase { Starting, Running, Finishing, Finished };
  class PipeProtocol;
  using Callback = std::function<void(SubprocessProtocol&)>;

  void made();
  // Runs a protocol callback now, or once connection_made was delivered.
  void deliver(const char* name, Callback callback);
  void run(const char* name, const Callback& callback);
  void pipe_lost(int fd, const MaybeError& exc);
  void finish_if_done();

  std::shared_ptr<SubprocessProtocol> protocol_;
  std::array<std::shared_ptr<BaseTransport>, 3> pipes_;  // by the child's fd; null: not a pipe
  std::array<bool, 3> pipe_open_{};                      // a pipe whose connection_lost has not come
  Phase phase_ = Phase::Starting;
  bool closed_ = false;
  std::deque<std::pair<const char*, Callback>> waiting_;  // callbacks before connection_made
};

}  // namespace loopspec::kit
