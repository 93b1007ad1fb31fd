// Starting a child process with its standard streams set up, as
// subprocess.Popen(close_fds=True, restore_signals=True) does.
//
// Promises:
// - The child's stdin, stdout and stderr are each a new pipe (Stdio::Pipe;
//   the parent keeps the other end), /dev/null (DevNull), the parent's own
//   (Inherit) or a copy of a given descriptor (Fd).
// - The child gets no other descriptor of the parent: every descriptor from 3
//   up is closed in it. Its signal mask is empty and every signal has its
//   default action (an ignored SIGPIPE of the parent is not inherited).
// - argv[0] is searched in PATH as execvp does. A child that cannot start
//   (no such program, not executable, a bad Fd) throws ContractError with the
//   errno's canonical error (FileNotFoundError, PermissionError, ...), and
//   nothing is left open or running.
// - The parent's ends are close-on-exec; they are closed if this throws.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "loopspec/event_loop.hpp"

namespace loopspec::kit {

struct SpawnedProcess {
  pid_t pid = -1;
  // The parent's ends of the Stdio::Pipe streams, -1 for the others.
  int stdin_fd = -1;   // written by the parent
  int stdout_fd = -1;  // read by the parent
  int stderr_fd = -1;  // read by the parent
};

SpawnedProcess spawn_process(const std::vector<std::string>& argv, const SubprocessOptions& options);

}  // namespace loopspec::kit
