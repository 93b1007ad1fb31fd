#include "loopspec/libuv/child_process.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <cerrno>
#include <utility>

#include "loopspec/libuv/endpoint_start.hpp"
#include "loopspec/libuv/pipe_transports.hpp"
#include "loopspec/libuv/uv_error.hpp"

namespace loopspec::libuv {

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
    HandleBox* pipe = pipes[static_cast<std::size_t>(fd)];
    if (pipe == nullptr) continue;
    uv_os_fd_t parent_fd = -1;
    uv_fileno(&pipe->handle, &parent_fd);
    child->set_pipe(fd, start_pipe(loop, pipe, fd, child->pipe_protocol(fd, parent_fd)));
  }
  child->announce(std::move(done));
}

ChildProcess::ChildProcess(UvLoop& loop, std::shared_ptr<SubprocessProtocol> protocol)
    : kit::ChildProcess(loop, std::move(protocol), loop.subprocess_close_signal()), uv_loop_(&loop) {}

ChildProcess::~ChildProcess() { HandleBox::close(box_); }

void ChildProcess::on_exit(uv_process_t* process, int64_t exit_status, int term_signal) {
  auto* child = static_cast<ChildProcess*>(HandleBox::owner_of(reinterpret_cast<uv_handle_t*>(process)));
  auto self = child->shared_from_this();  // closing the handle lets go of the box's reference
  HandleBox::close(std::exchange(child->box_, nullptr));
  child->exited(term_signal != 0 ? -term_signal : static_cast<int>(exit_status));
}

MaybeError ChildProcess::signal_child(int signal) {
  if (int status = uv_process_kill(&box_->process, signal); status < 0) return error_from_status(status);
  return std::nullopt;
}

void ChildProcess::on_loop_destroyed() {
  if (running()) {
    // Its handle closes now and libuv will never reap it: that is done here.
    uv_process_kill(&box_->process, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  HandleBox::close(std::exchange(box_, nullptr));
  forget_loop();
  uv_loop_ = nullptr;
}

// kit::TransportLoop's subprocess_exec, once the protocol is made.
void UvLoop::spawn(const std::vector<std::string>& argv, const SubprocessOptions& options,
                   std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done) {
  ChildProcess::spawn(*this, argv, options, std::move(protocol), std::move(done));
}

}  // namespace loopspec::libuv
