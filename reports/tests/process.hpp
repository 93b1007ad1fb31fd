// Runs a program (no shell) and collects its exit status and output, for
// the report tests that drive loopspec, python3 and chromium. Harness machinery.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace loopspec::reports::testing {

struct Ran {
  int status = -1;     // exit status; -1 when it did not exit normally (or could not start)
  std::string output;  // stdout, and stderr unless discarded
};

inline Ran run_program(std::vector<std::string> args, bool keep_stderr = true) {
  Ran ran;
  int pipefd[2];
  if (::pipe(pipefd) != 0) return ran;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  if (keep_stderr) {
    posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int spawned = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  if (spawned != 0) {
    ::close(pipefd[0]);
    ran.output = "cannot start " + args[0];
    return ran;
  }
  char buf[65536];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) ran.output.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

// The first of `names` found on PATH, or "".
inline std::string find_program(std::initializer_list<std::string_view> names) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/bin:/bin";
  for (auto name : names) {
    std::size_t start = 0;
    while (start <= dirs.size()) {
      std::size_t end = dirs.find(':', start);
      if (end == std::string_view::npos) end = dirs.size();
      std::filesystem::path candidate = std::filesystem::path(std::string(dirs.substr(start, end - start))) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
      start = end + 1;
    }
  }
  return {};
}

// A fresh directory for one test's files under the build tree.
inline std::filesystem::path output_dir(const std::string& name) {
  std::filesystem::path dir = std::filesystem::path(REPORTS_OUTPUT_DIR) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace loopspec::reports::testing
