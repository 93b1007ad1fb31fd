// Starts this build's loopspec command as a test's child: its stdout and
// stderr go to one pipe the test reads.
#pragma once

#include <spawn.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace loopspec::testing {

struct SpawnedLoopspec {
  pid_t pid = -1;
  int output = -1;  // read end of the pipe; the caller closes it
};

// extra_environment: NAME=VALUE entries added to this process's environment.
inline SpawnedLoopspec spawn_loopspec(std::vector<std::string> args, std::vector<std::string> extra_environment = {}) {
  int pipefd[2];
  EXPECT_EQ(::pipe(pipefd), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  args.insert(args.begin(), LOOPSPEC_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (auto& e : extra_environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  SpawnedLoopspec spawned;
  EXPECT_EQ(::posix_spawn(&spawned.pid, LOOPSPEC_BINARY, &actions, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  spawned.output = pipefd[0];
  return spawned;
}

}  // namespace loopspec::testing
