// A driver process: spawned with posix_spawn (never a shell), with the
// driver's end of a Unix socketpair as its fd 3.
//
// Promises:
// - The driver gets fds 0-2 of this process, fd 3 (the channel) and nothing
//   else: every other descriptor is closed in the child.
// - stderr is inherited (so a scenario's captured stderr holds the driver's),
//   or with capture_stderr written to an anonymous file whose tail
//   stderr_tail() returns at any time, without draining anything.
// - The destructor kills the driver if it still runs, and reaps it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace loopspec::remote {

struct DriverCommand {
  std::vector<std::string> argv;  // argv[0]: the executable's path (no PATH search)
  bool capture_stderr = false;
  std::string describe() const;   // the command line, for messages
};

class DriverProcess {
 public:
  // Throws DriverFailure when the executable cannot be spawned.
  explicit DriverProcess(const DriverCommand& command);
  ~DriverProcess();
  DriverProcess(const DriverProcess&) = delete;
  DriverProcess& operator=(const DriverProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The harness's end of the channel; the caller owns it. Once only.
  int take_channel_fd();

  // Waits up to `grace` for the driver to exit and reaps it; a description
  // ("exited with status 3", "killed by signal 9 (Killed)") or nullopt if it
  // still runs.
  std::optional<std::string> wait_exit(std::chrono::duration<double> grace);
  // SIGKILL and reap; the description of how it ended.
  std::string kill();
  // The last max_bytes of the driver's stderr (capture_stderr only; else "").
  std::string stderr_tail(std::size_t max_bytes = 4096) const;

 private:
  pid_t pid_ = -1;
  int channel_fd_ = -1;
  int stderr_fd_ = -1;
  int pidfd_ = -1;
  std::optional<std::string> ended_;
};

}  // namespace loopspec::remote
