#include "loopspec/kit/process_spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "loopspec/error.hpp"

extern char** environ;

namespace loopspec::kit {

namespace {

// The descriptors the parent holds while it sets the child up; whatever is
// still held when it goes out of scope is closed.
class HeldDescriptors {
 public:
  ~HeldDescriptors() {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  int add(int fd) {
    fds_.push_back(fd);
    return fd;
  }
  // Hands fd over to the caller: no longer closed here.
  int release(int fd) {
    for (int& held : fds_) {
      if (held == fd) held = -1;
    }
    return fd;
  }

 private:
  std::vector<int> fds_;
};

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
};

[[noreturn]] void fail(int err, const char* what) { throw ContractError(Error::from_errno(err, what)); }

void check(int err, const char* what) {
  if (err != 0) fail(err, what);
}

}  // namespace

SpawnedProcess spawn_process(const std::vector<std::string>& argv, const SubprocessOptions& options) {
  if (argv.empty()) throw ContractError(Error{"ValueError", 0, "the program to run is missing (empty argv)"});
  HeldDescriptors held;
  SpawnSetup setup;
  SpawnedProcess process;
  const std::array<const StdioSpec*, 3> specs{&options.stdin_spec, &options.stdout_spec, &options.stderr_spec};
  const std::array<int*, 3> parent_ends{&process.stdin_fd, &process.stdout_fd, &process.stderr_fd};
  for (int target = 0; target < 3; ++target) {
    const StdioSpec& spec = *specs[static_cast<std::size_t>(target)];
    switch (spec.mode) {
      case Stdio::Pipe: {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) < 0) fail(errno, "pipe2");
        held.add(fds[0]);
        held.add(fds[1]);
        // stdin: the child reads fds[0]; stdout/stderr: the child writes fds[1].
        int child_end = target == 0 ? fds[0] : fds[1];
        *parent_ends[static_cast<std::size_t>(target)] = target == 0 ? fds[1] : fds[0];
        check(posix_spawn_file_actions_adddup2(&setup.actions, child_end, target), "posix_spawn_file_actions_adddup2");
        break;
      }
      case Stdio::DevNull:
        check(posix_spawn_file_actions_addopen(&setup.actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0),
              "posix_spawn_file_actions_addopen");
        break;
      case Stdio::Inherit:
        break;
      case Stdio::Fd:
        if (spec.fd < 0 || ::fcntl(spec.fd, F_GETFD) < 0) fail(EBADF, "stdio descriptor");
        check(posix_spawn_file_actions_adddup2(&setup.actions, spec.fd, target), "posix_spawn_file_actions_adddup2");
        break;
    }
  }
  // close_fds=True: the child keeps 0, 1 and 2 only.
  check(posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3), "posix_spawn_file_actions_addclosefrom_np");
  // restore_signals=True, and no blocked signal inherited from the loop's thread.
  sigset_t none;
  sigset_t every;
  sigemptyset(&none);
  sigfillset(&every);
  sigdelset(&every, SIGKILL);
  sigdelset(&every, SIGSTOP);
  check(posix_spawnattr_setsigmask(&setup.attributes, &none), "posix_spawnattr_setsigmask");
  check(posix_spawnattr_setsigdefault(&setup.attributes, &every), "posix_spawnattr_setsigdefault");
  check(posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
        "posix_spawnattr_setflags");

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // glibc's posix_spawnp reports a failed exec (ENOENT, EACCES) as its result.
  check(posix_spawnp(&process.pid, args[0], &setup.actions, &setup.attributes, args.data(), environ), argv[0].c_str());
  for (int* end : parent_ends) {
    if (*end >= 0) held.release(*end);
  }
  return process;  // `held` closes the child's ends
}

}  // namespace loopspec::kit
