#include "loopspec/kit/child_process.hpp"

#include <signal.h>

#include <cerrno>

#include "loopspec/kit/exception_error.hpp"

namespace loopspec::kit {

// The protocol of one pipe transport: what it hears goes to the child's
// transport under the child's fd. It holds that transport, as CPython's pipe
// protocols do, until its pipe's connection_lost.
class ChildProcess::PipeProtocol final : public Protocol {
 public:
  PipeProtocol(std::shared_ptr<ChildProcess> child, int fd, int parent_fd)
      : child_(std::move(child)), fd_(fd), parent_fd_(parent_fd) {}

  void data_received(std::string_view data) override {
    int reported = fd_;
    // Fault: proc-parent-fd
    if (child_->faults_.proc_parent_fd) reported = parent_fd_;
    if (child_->phase_ != Phase::Starting) {
      return child_->run("pipe_data_received", [&](SubprocessProtocol& p) { p.pipe_data_received(reported, data); });
    }
    child_->deliver("pipe_data_received", [fd = reported, copy = std::string(data)](SubprocessProtocol& p) {
      p.pipe_data_received(fd, copy);
    });
  }
  void connection_lost(const MaybeError& exc) override { std::exchange(child_, nullptr)->pipe_lost(fd_, exc); }
  void pause_writing() override { child_->deliver("pause_writing", [](SubprocessProtocol& p) { p.pause_writing(); }); }
  void resume_writing() override {
    child_->deliver("resume_writing", [](SubprocessProtocol& p) { p.resume_writing(); });
  }

 private:
  std::shared_ptr<ChildProcess> child_;
  int fd_;
  int parent_fd_;  // our end's descriptor (test faults only)
};

ChildProcess::ChildProcess(LoopBase& loop, std::shared_ptr<SubprocessProtocol> protocol, int close_signal)
    : loop_(&loop), faults_(loop.faults()), close_signal_(close_signal), protocol_(std::move(protocol)) {}

// ---- creation ----

std::shared_ptr<StreamProtocol> ChildProcess::pipe_protocol(int fd, int parent_fd) {
  return std::make_shared<PipeProtocol>(shared_from_this(), fd, parent_fd);
}

void ChildProcess::set_pipe(int fd, std::shared_ptr<BaseTransport> transport) {
  auto index = static_cast<std::size_t>(fd);
  pipe_open_[index] = transport != nullptr;
  pipes_[index] = std::move(transport);
}

void ChildProcess::announce(Completion<SubprocessTransport> done) {
  loop_->call_soon([self = shared_from_this(), done = std::move(done)] {
    self->made();
    if (done) done(Outcome<SubprocessTransport>{self, std::nullopt});
  });
}

void ChildProcess::made() {
  if (phase_ != Phase::Starting) return;
  run("connection_made", [&](SubprocessProtocol& p) { p.connection_made(shared_from_this()); });
  phase_ = Phase::Running;
  for (; !waiting_.empty(); waiting_.pop_front()) run(waiting_.front().first, waiting_.front().second);
  finish_if_done();
}

// ---- protocol callbacks ----

void ChildProcess::run(const char* name, const Callback& callback) {
  auto protocol = protocol_;  // set_protocol inside the callback must not free it mid-call
  if (!protocol) return;
  try {
    callback(*protocol);
  } catch (...) {
    if (loop_ != nullptr) loop_->report_exception(name, error_from_current_exception());
  }
}

void ChildProcess::deliver(const char* name, Callback callback) {
  if (phase_ == Phase::Starting) {
    waiting_.emplace_back(name, std::move(callback));
  } else {
    run(name, callback);
  }
}

void ChildProcess::pipe_lost(int fd, const MaybeError& exc) {
  pipe_open_[static_cast<std::size_t>(fd)] = false;
  deliver("pipe_connection_lost", [fd, exc](SubprocessProtocol& p) { p.pipe_connection_lost(fd, exc); });
  finish_if_done();
}

void ChildProcess::exited(int returncode) {
  returncode_ = returncode;  // set before process_exited, as CPython does
  deliver("process_exited", [](SubprocessProtocol& p) { p.process_exited(); });
  // Fault: proc-exited-twice
  if (faults_.proc_exited_twice) deliver("process_exited", [](SubprocessProtocol& p) { p.process_exited(); });
  finish_if_done();
}

void ChildProcess::finish_if_done() {
  if (phase_ != Phase::Running || !returncode_ || loop_ == nullptr) return;
  for (bool open : pipe_open_) {
    if (open) return;
  }
  phase_ = Phase::Finishing;
  loop_->call_soon([self = shared_from_this()] {
    if (self->phase_ != Phase::Finishing) return;
    self->run("connection_lost", [](SubprocessProtocol& p) { p.connection_lost(std::nullopt); });
    self->phase_ = Phase::Finished;
    self->protocol_.reset();
    self->on_finished();
  });
}

void ChildProcess::forget_loop() {
  phase_ = Phase::Finished;  // no callback runs any more
  closed_ = true;
  waiting_.clear();
  protocol_.reset();
  pipes_ = {};
  loop_ = nullptr;
}

// ---- the transport's methods ----

std::optional<nlohmann::json> ChildProcess::get_extra_info(std::string_view name) {
  if (name == "subprocess") return nlohmann::json{{"pid", pid_}};
  return std::nullopt;
}

void ChildProcess::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  auto subprocess = std::dynamic_pointer_cast<SubprocessProtocol>(std::move(protocol));
  if (!subprocess) throw ContractError(Error{"TypeError", 0, "a subprocess transport needs a SubprocessProtocol"});
  if (phase_ != Phase::Finished) protocol_ = std::move(subprocess);
}

std::shared_ptr<BaseTransport> ChildProcess::get_pipe_transport(int fd) {
  return fd >= 0 && fd <= 2 ? pipes_[static_cast<std::size_t>(fd)] : nullptr;
}

void ChildProcess::send_signal(int signal) {
  if (phase_ == Phase::Finished) throw ContractError(Error{"ProcessLookupError", ESRCH, "the process is gone"});
  if (!running()) return;  // reaped: the pid may name another process by now
  if (auto error = signal_child(signal)) throw ContractError(*error);
}

void ChildProcess::terminate() {
  // Fault: proc-terminate-kills
  send_signal(faults_.proc_terminate_kills ? SIGKILL : SIGTERM);
}

void ChildProcess::kill() { send_signal(SIGKILL); }

void ChildProcess::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& pipe : pipes_) {
    if (pipe) pipe->close();
  }
  // Fault: proc-close-no-kill
  if (faults_.proc_close_no_kill) return;
  if (running()) signal_child(close_signal_);
}

}  // namespace loopspec::kit
