#include "loopspec/asio/child_process.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/error.hpp>

#include <cerrno>

#include "loopspec/asio/pipe_transports.hpp"
#include "loopspec/kit/process_spawn.hpp"

namespace loopspec::asio {

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
    if (parent_fds[fd] >= 0) child->set_pipe(fd, start_pipe(loop, parent_fds[fd], fd, child->pipe_protocol(fd, parent_fds[fd])));
  }
  child->watch_exit();
  child->announce(std::move(done));
}

ChildProcess::ChildProcess(AsioLoop& loop, std::shared_ptr<SubprocessProtocol> protocol, pid_t pid, Descriptor exit_watch)
    : kit::ChildProcess(loop, std::move(protocol), loop.subprocess_close_signal()), asio_loop_(&loop),
      exit_watch_(std::move(exit_watch)) {
  pid_ = pid;
}

// ---- the child's exit ----

void ChildProcess::watch_exit() {
  auto self = std::static_pointer_cast<ChildProcess>(shared_from_this());
  exit_watch_->async_wait(Descriptor::wait_read, [self](const boost::system::error_code& ec) {
    if (self->asio_loop_ == nullptr) return;
    self->asio_loop_->call_soon([self, ec] { self->exit_news(ec); });
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
  exited(reaped < 0 ? 255 : WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status));
}

MaybeError ChildProcess::signal_child(int signal) {
  if (::kill(pid_, signal) < 0) return Error::from_errno(errno);
  return std::nullopt;
}

void ChildProcess::on_finished() {
  if (asio_loop_ != nullptr) asio_loop_->let_go(this);
}

void ChildProcess::on_loop_destroyed() {
  if (running()) kill_and_reap(pid_);  // the pidfd closes now: nobody else would reap it
  exit_watch_.reset();
  forget_loop();
  asio_loop_ = nullptr;
}

// kit::TransportLoop's subprocess_exec, once the protocol is made.
void AsioLoop::spawn(const std::vector<std::string>& argv, const SubprocessOptions& options,
                     std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done) {
  ChildProcess::spawn(*this, argv, options, std::move(protocol), std::move(done));
}

}  // namespace loopspec::asio
