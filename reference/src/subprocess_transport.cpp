#include "loopspec/reference/subprocess_transport.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/kit/process_spawn.hpp"
#include "loopspec/reference/pipe_descriptor.hpp"
#include "loopspec/reference/read_pipe_transport.hpp"
#include "loopspec/reference/write_pipe_transport.hpp"

namespace loopspec::reference {

// The protocol of one pipe transport: it forwards everything to the
// subprocess transport, under the child's fd number. It holds the subprocess
// transport strongly, as CPython's pipe protocols do; the pipe transport lets
// go of it with connection_lost.
class ChildProcessTransport::PipeProtocol final : public Protocol {
 public:
  PipeProtocol(std::shared_ptr<ChildProcessTransport> owner, int fd) : owner_(std::move(owner)), fd_(fd) {}
  void data_received(std::string_view data) override { owner_->on_pipe_data(fd_, data); }
  void connection_lost(const MaybeError& exc) override { owner_->on_pipe_lost(fd_, exc); }
  void pause_writing() override { owner_->on_pipe_pause_writing(); }
  void resume_writing() override { owner_->on_pipe_resume_writing(); }

 private:
  std::shared_ptr<ChildProcessTransport> owner_;
  int fd_;
};

// ---- creation ----

std::shared_ptr<ChildProcessTransport> ChildProcessTransport::start(EpollLoop& loop, const std::vector<std::string>& argv,
                                                                    const SubprocessOptions& options,
                                                                    std::shared_ptr<SubprocessProtocol> protocol,
                                                                    Completion<SubprocessTransport> done) {
  kit::SpawnedProcess child = kit::spawn_process(argv, options);
  auto transport = std::make_shared<ChildProcessTransport>(Passkey{}, loop, child.pid, std::move(protocol));
  const int parent_fds[3] = {child.stdin_fd, child.stdout_fd, child.stderr_fd};
  for (int fd = 0; fd < 3; ++fd) {
    int parent_fd = parent_fds[fd];
    if (parent_fd < 0) continue;
    auto index = static_cast<std::size_t>(fd);
    auto pipe_protocol = std::make_shared<PipeProtocol>(transport, fd);
    PipeKind kind = adopt_pipe_descriptor(parent_fd);  // a pipe of our own: cannot fail
    if (fd == 0) {
      transport->pipes_[index] = WritePipeTransport::start(loop, parent_fd, kind, pipe_protocol, nullptr);
    } else {
      transport->pipes_[index] = ReadPipeTransport::start(loop, parent_fd, kind, pipe_protocol, nullptr);
    }
    transport->parent_fds_[index] = parent_fd;
    transport->pipe_lost_[index] = false;
  }
  try {
    transport->exit_watch_ = ChildExitWatch::start(loop, child.pid, [transport](int code) { transport->on_exit(code); });
  } catch (...) {
    // Nothing would ever learn of the child's exit: take it back now.
    ::kill(child.pid, SIGKILL);
    while (::waitpid(child.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    for (auto& pipe : transport->pipes_) {
      if (pipe) pipe->close();
    }
    throw;
  }
  loop.add_resident(transport);
  // Scheduled after the pipes' own connection_made, as CPython's _connect_pipes.
  loop.call_soon([transport, done = std::move(done)] {
    transport->deliver_connection_made();
    if (done) done(Outcome<SubprocessTransport>{transport, std::nullopt});
  });
  return transport;
}

ChildProcessTransport::ChildProcessTransport(Passkey, EpollLoop& loop, pid_t pid,
                                             std::shared_ptr<SubprocessProtocol> protocol)
    : loop_(loop), faults_(loop.faults()), pid_(pid), protocol_(std::move(protocol)) {}

void ChildProcessTransport::deliver_connection_made() {
  if (phase_ != Phase::Starting) return;
  run_protocol("connection_made", [&](SubprocessProtocol& p) { p.connection_made(shared_from_this()); });
  phase_ = Phase::Running;
  while (!pending_.empty()) {
    auto [name, callback] = std::move(pending_.front());
    pending_.pop_front();
    run_protocol(name, callback);
  }
  try_finish();
}

// ---- protocol callbacks ----

void ChildProcessTransport::run_protocol(const char* name, const std::function<void(SubprocessProtocol&)>& callback) {
  auto protocol = protocol_;  // set_protocol inside the callback must not free it mid-call
  if (!protocol) return;
  try {
    callback(*protocol);
  } catch (...) {
    loop_.report_exception(name, kit::error_from_current_exception());
  }
}

void ChildProcessTransport::deliver(const char* name, std::function<void(SubprocessProtocol&)> callback) {
  if (phase_ == Phase::Starting) {
    pending_.emplace_back(name, std::move(callback));
  } else {
    run_protocol(name, callback);
  }
}

void ChildProcessTransport::on_pipe_data(int fd, std::string_view data) {
  int reported = fd;
  // Fault: proc-parent-fd
  if (faults_.proc_parent_fd) reported = parent_fds_[static_cast<std::size_t>(fd)];
  if (phase_ == Phase::Starting) {
    deliver("pipe_data_received", [reported, copy = std::string(data)](SubprocessProtocol& p) {
      p.pipe_data_received(reported, copy);
    });
  } else {
    run_protocol("pipe_data_received", [&](SubprocessProtocol& p) { p.pipe_data_received(reported, data); });
  }
}

void ChildProcessTransport::on_pipe_lost(int fd, const MaybeError& exc) {
  pipe_lost_[static_cast<std::size_t>(fd)] = true;
  deliver("pipe_connection_lost", [fd, exc](SubprocessProtocol& p) { p.pipe_connection_lost(fd, exc); });
  try_finish();
}

void ChildProcessTransport::on_pipe_pause_writing() {
  deliver("pause_writing", [](SubprocessProtocol& p) { p.pause_writing(); });
}

void ChildProcessTransport::on_pipe_resume_writing() {
  deliver("resume_writing", [](SubprocessProtocol& p) { p.resume_writing(); });
}

void ChildProcessTransport::on_exit(int returncode) {
  returncode_ = returncode;  // set before process_exited, as CPython does
  deliver("process_exited", [](SubprocessProtocol& p) { p.process_exited(); });
  // Fault: proc-exited-twice
  if (faults_.proc_exited_twice) deliver("process_exited", [](SubprocessProtocol& p) { p.process_exited(); });
  try_finish();
}

void ChildProcessTransport::try_finish() {
  if (phase_ != Phase::Running) return;
  // Fault: proc-lost-before-exit
  if (!returncode_ && !faults_.proc_lost_before_exit) return;
  for (bool lost : pipe_lost_) {
    if (!lost) return;
  }
  phase_ = Phase::Finishing;
  loop_.call_soon([self = shared_from_this()] { self->deliver_connection_lost(); });
}

void ChildProcessTransport::deliver_connection_lost() {
  if (phase_ != Phase::Finishing) return;
  run_protocol("connection_lost", [](SubprocessProtocol& p) { p.connection_lost(std::nullopt); });
  phase_ = Phase::Finished;
  // Fault: proc-lost-before-exit (the protocol is kept so that process_exited still reaches it)
  if (!faults_.proc_lost_before_exit) protocol_.reset();
}

// ---- the transport's methods ----

std::optional<nlohmann::json> ChildProcessTransport::get_extra_info(std::string_view name) {
  if (name == "subprocess") return nlohmann::json{{"pid", pid_}};
  return std::nullopt;
}

void ChildProcessTransport::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto subprocess = std::dynamic_pointer_cast<SubprocessProtocol>(protocol);
  if (!subprocess) throw ContractError(Error{"TypeError", 0, "a subprocess transport needs a SubprocessProtocol"});
  if (phase_ == Phase::Finished) return;
  protocol_ = std::move(subprocess);
}

std::shared_ptr<BaseTransport> ChildProcessTransport::get_pipe_transport(int fd) {
  if (fd < 0 || fd > 2) return nullptr;
  return pipes_[static_cast<std::size_t>(fd)];
}

void ChildProcessTransport::send_signal(int signal) {
  if (phase_ == Phase::Finished) throw ContractError(Error{"ProcessLookupError", ESRCH, "the process is gone"});
  if (reaped()) return;  // the pid may name another process by now
  if (::kill(pid_, signal) < 0) throw ContractError(Error::from_errno(errno));
}

void ChildProcessTransport::terminate() {
  // Fault: proc-terminate-kills
  send_signal(faults_.proc_terminate_kills ? SIGKILL : SIGTERM);
}

void ChildProcessTransport::kill() { send_signal(SIGKILL); }

void ChildProcessTransport::on_loop_destroyed() {
  phase_ = Phase::Finished;  // no callback runs any more
  closed_ = true;            // and close() must not reach the loop
  pending_.clear();
  protocol_.reset();
  pipes_ = {};
}

void ChildProcessTransport::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& pipe : pipes_) {
    if (pipe) pipe->close();
  }
  // Fault: proc-close-no-kill
  if (faults_.proc_close_no_kill) return;
  // A child that exited but was not reaped yet is a zombie: the signal is harmless.
  if (!reaped()) ::kill(pid_, loop_.subprocess_close_signal());
}

}  // namespace loopspec::reference
