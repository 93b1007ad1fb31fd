#include "loopspec/libuv/child_process.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/libuv/endpoint_start.hpp"
#include "loopspec/libuv/pipe_transports.hpp"
#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

// The protocol of one pipe transport: what it hears goes to the child's
// transport under the child's fd. It holds that transport, as CPython's pipe
// protocols do, until its pipe's connection_lost.
class ChildProcess::PipeProtocol final : public Protocol {
 public:
  PipeProtocol(std::shared_ptr<ChildProcess> child, int fd) : child_(std::move(child)), fd_(fd) {}

  void data_received(std::string_view data) override {
    if (child_->phase_ != Phase::Starting) {
      return child_->run("pipe_data_received", [&](SubprocessProtocol& p) { p.pipe_data_received(fd_, data); });
    }
    child_->deliver("pipe_data_received", [fd = fd_, copy = std::string(data)](SubprocessProtocol& p) {
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
};

namespace {

// The pipe transport of the child's fd (0: its stdin, written by us).
std::shared_ptr<BaseTransport> start_pipe(UvLoop& loop, HandleBox* box, int fd, std::shared_ptr<StreamProtocol> protocol) {
  auto factory = [&protocol] { return protocol; };
  if (fd == 0) return start_endpoint<WritePipeTransport>(loop, box, factory, Completion<WriteTransport>{});
  return start_endpoint<ReadPipeTransport>(loop, box, factory, Completion<ReadTransport>{});
}

}  // namespace

// ---- creation ----

void ChildProcess::spawn(UvLoop& loop, const std::vector<std::string>& argv, const SubprocessOptions& options,
                         std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done) {
  if (argv.empty()) throw ContractError(Error{"ValueError", 0, "program arguments must be a non-empty sequence"});
  auto child = std::make_shared<ChildProcess>(loop, std::move(protocol));
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  std::array<HandleBox*, 3> pipes{};
  uv_stdio_container_t stdio[3];
  const StdioSpec* specs[3] = {&options.stdin_spec, &options.stdout_spec, &options.stderr_spec};
  for (int fd = 0; fd < 3; ++fd) {
    auto& container = stdio[fd];
    switch (specs[fd]->mode) {
      case Stdio::Pipe: {
        HandleBox* box = pipes[static_cast<std::size_t>(fd)] = HandleBox::make(nullptr);
        uv_pipe_init(loop.uv(), &box->pipe, 0);
        box->adopt();
        // Readable or writable as the child sees it. Its stdin is both: libuv's
        // pipe is a socketpair, and reading our end is how the write pipe
        // transport learns that the child closed its stdin (pipe_transports.hpp).
        auto direction = fd == 0 ? UV_READABLE_PIPE | UV_WRITABLE_PIPE : UV_WRITABLE_PIPE;
        container.flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | direction);
        container.data.stream = &box->stream;
        break;
      }
      case Stdio::DevNull: container.flags = UV_IGNORE; break;  // libuv gives fds 0-2 /dev/null
      case Stdio::Inherit:
      case Stdio::Fd:
        container.flags = UV_INHERIT_FD;
        container.data.fd = specs[fd]->mode == Stdio::Fd ? specs[fd]->fd : fd;
        break;
    }
  }
  uv_process_options_t spawn_options{};
  spawn_options.exit_cb = on_exit;
  spawn_options.file = args[0];
  spawn_options.args = args.data();
  spawn_options.stdio_count = 3;
  spawn_options.stdio = stdio;
  child->box_ = HandleBox::make(child);
  int status = uv_spawn(loop.uv(), &child->box_->process, &spawn_options);
  child->box_->adopt();
  if (status < 0) {
    // uv_spawn initialised every handle it was given: all of them are closed.
    HandleBox::close(std::exchange(child->box_, nullptr));
    for (HandleBox* box : pipes) HandleBox::close(box);
    throw ContractError(error_from_status(status));
  }
  child->pid_ = child->box_->process.pid;
  for (int fd = 0; fd < 3; ++fd) {
    auto index = static_cast<std::size_t>(fd);
    if (pipes[index] == nullptr) continue;
    child->pipes_[index] = start_pipe(loop, pipes[index], fd, std::make_shared<PipeProtocol>(child, fd));
    child->pipe_open_[index] = child->pipes_[index] != nullptr;
  }
  // After the pipes' own connection_made, as CPython's _connect_pipes.
  loop.call_soon([child, done = std::move(done)] {
    child->made();
    if (done) done(Outcome<SubprocessTransport>{child, std::nullopt});
  });
}

ChildProcess::ChildProcess(UvLoop& loop, std::shared_ptr<SubprocessProtocol> protocol)
    : loop_(&loop), faults_(loop.faults()), close_signal_(loop.subprocess_close_signal()),
      protocol_(std::move(protocol)) {}

ChildProcess::~ChildProcess() { HandleBox::close(box_); }

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
    if (loop_ != nullptr) loop_->report_exception(name, kit::error_from_current_exception());
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

void ChildProcess::on_exit(uv_process_t* process, int64_t exit_status, int term_signal) {
  auto* child = static_cast<ChildProcess*>(HandleBox::owner_of(reinterpret_cast<uv_handle_t*>(process)));
  child->exited(term_signal != 0 ? -term_signal : static_cast<int>(exit_status));
}

void ChildProcess::exited(int returncode) {
  auto self = shared_from_this();  // closing the handle lets go of the box's reference
  HandleBox::close(std::exchange(box_, nullptr));
  returncode_ = returncode;  // set before process_exited, as CPython does
  deliver("process_exited", [](SubprocessProtocol& p) { p.process_exited(); });
  // Fault: proc-exited-twice
  if (faults_.proc_exited_twice) deliver("process_exited", [](SubprocessProtocol& p) { p.process_exited(); });
  finish_if_done();
}

void ChildProcess::finish_if_done() {
  if (phase_ != Phase::Running || !returncode_) return;
  for (bool open : pipe_open_) {
    if (open) return;
  }
  phase_ = Phase::Finishing;
  loop_->call_soon([self = shared_from_this()] {
    if (self->phase_ != Phase::Finishing) return;
    self->run("connection_lost", [](SubprocessProtocol& p) { p.connection_lost(std::nullopt); });
    self->phase_ = Phase::Finished;
    self->protocol_.reset();
  });
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
  if (int status = uv_process_kill(&box_->process, signal); status < 0) throw ContractError(error_from_status(status));
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
  if (running()) uv_process_kill(&box_->process, close_signal_);
}

void ChildProcess::on_loop_destroyed() {
  if (running()) {
    // Its handle closes now and libuv will never reap it: that is done here.
    uv_process_kill(&box_->process, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  HandleBox::close(std::exchange(box_, nullptr));
  phase_ = Phase::Finished;  // no callback runs any more
  closed_ = true;
  waiting_.clear();
  protocol_.reset();
  pipes_ = {};
  loop_ = nullptr;
}

}  // namespace loopspec::libuv
