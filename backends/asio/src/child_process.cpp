#include "loopspec/asio/child_process.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/error.hpp>

#include <cerrno>

#include "loopspec/asio/pipe_transports.hpp"
#include "loopspec/kit/exception_error.hpp"
#include "loopspec/kit/process_spawn.hpp"

namespace loopspec::asio {

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

namespace {

// The pipe transport of the child's fd (0: its stdin, written by us); null if it could not start.
std::shared_ptr<BaseTransport> start_pipe(AsioLoop& loop, int parent_fd, int fd, std::shared_ptr<StreamProtocol> protocol) {
  Descriptor descriptor(loop.context());
  boost::system::error_code ec;
  descriptor.assign(parent_fd, ec);
  if (ec) {
    ::close(parent_fd);
    return nullptr;
  }
  auto factory = [&protocol] { return protocol; };
  if (fd == 0) return start_endpoint<WritePipeTransport>(loop, std::move(descriptor), factory, Completion<WriteTransport>{});
  return start_endpoint<ReadPipeTransport>(loop, std::move(descriptor), factory, Completion<ReadTransport>{});
}

// Kills and reaps a child this loop will not watch.
void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

// ---- creation ----

void ChildProcess::spawn(AsioLoop& loop, const std::vector<std::string>& argv, const SubprocessOptions& options,
                         std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done) {
  if (argv.empty()) throw ContractError(Error{"ValueError", 0, "program arguments must be a non-empty sequence"});
  kit::SpawnedProcess spawned = kit::spawn_process(argv, options);
  const int parent_fds[3] = {spawned.stdin_fd, spawned.stdout_fd, spawned.stderr_fd};
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, spawned.pid, 0));
  Descriptor exit_watch(loop.context());
  boost::system::error_code ec;
  if (pidfd >= 0) exit_watch.assign(pidfd, ec);
  if (pidfd < 0 || ec) {
    Error error = pidfd < 0 ? Error::from_errno(errno, "pidfd_open") : Error::from_errno(ec.value(), "pidfd");
    if (pidfd >= 0 && ec) ::close(pidfd);
    for (int fd : parent_fds) {
      if (fd >= 0) ::close(fd);
    }
    kill_and_reap(spawned.pid);
    throw ContractError(error);
  }
  auto child = std::make_shared<ChildProcess>(loop, std::move(protocol), spawned.pid, std::move(exit_watch));
  loop.hold(child);
  for (int fd = 0; fd < 3; ++fd) {
    auto index = static_cast<std::size_t>(fd);
    if (parent_fds[fd] < 0) continue;
    child->pipes_[index] = start_pipe(loop, parent_fds[fd], fd, std::make_shared<PipeProtocol>(child, fd, parent_fds[fd]));
    child->pipe_open_[index] = child->pipes_[index] != nullptr;
  }
  child->watch_exit();
  // After the pipes' own connection_made, as CPython's _connect_pipes.
  loop.call_soon([child, done = std::move(done)] {
    child->made();
    if (done) done(Outcome<SubprocessTransport>{child, std::nullopt});
  });
}

ChildProcess::ChildProcess(AsioLoop& loop, std::shared_ptr<SubprocessProtocol> protocol, pid_t pid, Descriptor exit_watch)
    : loop_(&loop), faults_(loop.faults()), close_signal_(loop.subprocess_close_signal()), pid_(pid),
      exit_watch_(std::move(exit_watch)), protocol_(std::move(protocol)) {}

void ChildProcess::made() {
  if (phase_ != Phase::Starting) return;
  run("connection_made", [&](SubprocessProtocol& p) { p.connection_made(shared_from_this()); });
  phase_ = Phase::Running;
  for (; !waiting_.empty(); waiting_.pop_front()) run(waiting_.front().first, waiting_.front().second);
  finish_if_done();
}

// ---- the child's exit ----

void ChildProcess::watch_exit() {
  exit_watch_->async_wait(Descriptor::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
    if (self->loop_ == nullptr) return;
    self->loop_->call_soon([self, ec] { self->exit_news(ec); });
  });
}

void ChildProcess::exit_news(const boost::system::error_code& ec) {
  if (ec == net::error::operation_aborted || !exit_watch_) return;
  int status = 0;
  pid_t reaped;
  do {
    reaped = ::waitpid(pid_, &status, WNOHANG);
  } while (reaped < 0 && errno == EINTR);
  if (reaped == 0) return watch_exit();  // not yet (the wait said so early)
  exit_watch_.reset();  // closes the pidfd
  int returncode = reaped < 0 ? 255 : WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
  returncode_ = returncode;  // set before process_exited, as CPython does
  deliver("process_exited", [](SubprocessProtocol& p) { p.process_exited(); });
  // Fault: proc-exited-twice
  if (faults_.proc_exited_twice) deliver("process_exited", [](SubprocessProtocol& p) { p.process_exited(); });
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
    if (self->loop_ != nullptr) self->loop_->let_go(self.get());
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
  if (::kill(pid_, signal) < 0) throw ContractError(Error::from_errno(errno));
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
  if (running()) ::kill(pid_, close_signal_);
}

void ChildProcess::on_loop_destroyed() {
  if (running()) kill_and_reap(pid_);  // the pidfd closes now: nobody else would reap it
  exit_watch_.reset();
  phase_ = Phase::Finished;  // no callback runs any more
  closed_ = true;
  waiting_.clear();
  protocol_.reset();
  pipes_ = {};
  loop_ = nullptr;
}

}  // namespace loopspec::asio
