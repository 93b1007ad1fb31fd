#include "loopspec/remote/driver_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loopspec/remote/wire.hpp"

extern char** environ;

namespace loopspec::remote {

namespace {

constexpr int kChannelFd = 3;

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

struct FileActions {
  posix_spawn_file_actions_t actions;
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

}  // namespace

std::string DriverCommand::describe() const {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + arg;
  return text;
}

DriverProcess::DriverProcess(const DriverCommand& command) {
  if (command.argv.empty()) throw DriverFailure("the driver command is empty");
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    throw DriverFailure(std::string("socketpair: ") + std::strerror(errno));
  }
  // dup2 onto fd 3 clears close-on-exec, unless the descriptor already is 3.
  int child_end = pair[1];
  if (child_end == kChannelFd) {
    child_end = ::fcntl(pair[1], F_DUPFD_CLOEXEC, kChannelFd + 1);
    ::close(pair[1]);
  }
  if (command.capture_stderr) {
    // Append-only, so reading the tail never moves where the driver writes.
    stderr_fd_ = ::memfd_create("loopspec-driver-stderr", MFD_CLOEXEC);
    if (stderr_fd_ >= 0) ::fcntl(stderr_fd_, F_SETFL, O_APPEND);
  }

  FileActions files;
  posix_spawn_file_actions_adddup2(&files.actions, child_end, kChannelFd);
  if (stderr_fd_ >= 0) posix_spawn_file_actions_adddup2(&files.actions, stderr_fd_, STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&files.actions, kChannelFd + 1);
#endif
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // The driver starts with default signal dispositions and an empty mask, whatever the harness uses.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  for (const auto& arg : command.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int rc = ::posix_spawn(&pid_, argv[0], &files.actions, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  ::close(child_end);
  if (rc != 0) {
    ::close(pair[0]);
    if (stderr_fd_ >= 0) ::close(stderr_fd_);
    throw DriverFailure("cannot start the driver '" + command.describe() + "': " + std::strerror(rc));
  }
  channel_fd_ = pair[0];
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

DriverProcess::~DriverProcess() {
  if (!ended_) kill();
  if (channel_fd_ >= 0) ::close(channel_fd_);
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
  if (pidfd_ >= 0) ::close(pidfd_);
}

int DriverProcess::take_channel_fd() {
  int fd = channel_fd_;
  channel_fd_ = -1;
  return fd;
}

std::optional<std::string> DriverProcess::wait_exit(std::chrono::duration<double> grace) {
  if (ended_) return ended_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0 && pidfd_ >= 0 && grace.count() > 0) {
    pollfd p{pidfd_, POLLIN, 0};
    int ms = static_cast<int>(grace.count() * 1000) + 1;
    while (::poll(&p, 1, ms) < 0 && errno == EINTR) {
    }
    r = ::waitpid(pid_, &status, WNOHANG);
  }
  if (r == pid_) ended_ = describe_status(status);
  if (r < 0) ended_ = "ended (already reaped)";
  return ended_;
}

std::string DriverProcess::kill() {
  if (ended_) return *ended_;
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  ended_ = r == pid_ ? describe_status(status) : std::string("ended (already reaped)");
  return *ended_;
}

std::string DriverProcess::stderr_tail(std::size_t max_bytes) const {
  if (stderr_fd_ < 0) return {};
  struct stat info {};
  if (::fstat(stderr_fd_, &info) != 0) return {};
  off_t size = info.st_size;
  if (size <= 0) return {};
  off_t from = size > static_cast<off_t>(max_bytes) ? size - static_cast<off_t>(max_bytes) : 0;
  std::string tail(static_cast<std::size_t>(size - from), '\0');
  ssize_t n = ::pread(stderr_fd_, tail.data(), tail.size(), from);
  tail.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return tail;
}

}  // namespace loopspec::remote
