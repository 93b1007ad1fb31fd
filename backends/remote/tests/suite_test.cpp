// The loopspec command with python:* backends: a scenario run against the
// real driver, and a driver killed in the middle of every scenario, which
// must make each of them ERROR (with the driver's story in its stderr) while
// the run completes.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

extern char** environ;

namespace loopspec::remote {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::TempDir;

struct CommandRun {
  int status = -1;
  std::string output;
};

// Runs loopspec (posix_spawn, no shell) with extra environment variables; stdout and stderr together.
CommandRun run_loopspec(std::vector<std::string> arguments, std::vector<std::string> environment = {}) {
  CommandRun run;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return run;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<std::string> env_strings = std::move(environment);
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> env;
  for (auto& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  arguments.insert(arguments.begin(), LOOPSPEC_BINARY);
  std::vector<char*> argv;
  for (auto& a : arguments) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, LOOPSPEC_BINARY, &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc == 0) {
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) run.output.append(buffer, static_cast<std::size_t>(n));
    int status = 0;
    ::waitpid(pid, &status, 0);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ::close(pipe_fds[0]);
  return run;
}

json read_results(const std::filesystem::path& file) {
  std::ifstream in(file);
  return json::parse(in, nullptr, false);
}

TEST(PythonSuite, ScenarioPassesAgainstAsyncio) {
  // Rule: proto.data.in-order — one stream scenario end to end through the python:asyncio driver.
  TempDir out;
  CommandRun run = run_loopspec({"run", "--backend", "python:asyncio", "--scenarios",
                                 "stream.lifecycle.receive-then-eof", "--quiet", "--out", out.path().string()});
  EXPECT_EQ(run.status, 0) << run.output;
  json results = read_results(out.path() / "results.json");
  ASSERT_TRUE(results.is_object()) << run.output;
  ASSERT_EQ(results["scenarios"].size(), 6u);
  for (const auto& s : results["scenarios"]) EXPECT_EQ(s["verdict"], "PASS") << s.dump();
  EXPECT_EQ(results["backend"]["name"], "python:asyncio");
}

TEST(PythonSuite, ADriverKilledMidRunMakesItsScenarioAnErrorAndTheRunGoesOn) {
  TempDir dir;
  // The loop kills its own process on its second run: every scenario below runs the loop more than once.
  dir.write("killer.py",
            "import asyncio, os, signal\n"
            "class KillerLoop(asyncio.SelectorEventLoop):\n"
            "    runs = 0\n"
            "    def run_forever(self):\n"
            "        KillerLoop.runs += 1\n"
            "        if KillerLoop.runs == 2:\n"
            "            os.kill(os.getpid(), signal.SIGKILL)\n"
            "        return super().run_forever()\n"
            "def make_loop():\n"
            "    return KillerLoop()\n");
  TempDir out;
  CommandRun run = run_loopspec({"run", "--backend", "python:killer:make_loop", "--scenarios", "stream.lifecycle.*",
                                 "--quiet", "--out", out.path().string()},
                                {"LOOPSPEC_PYTHON_PATH=" + dir.path().string()});
  EXPECT_EQ(run.status, 1) << run.output;  // unexpected ERRORs, not a crash of loopspec
  json results = read_results(out.path() / "results.json");
  ASSERT_TRUE(results.is_object()) << run.output;
  ASSERT_EQ(results["scenarios"].size(), 8u);  // every variant ran, one after the other
  for (const auto& s : results["scenarios"]) {
    EXPECT_EQ(s["verdict"], "ERROR") << s.dump();
    EXPECT_THAT(s["error"].get<std::string>() + s.value("stderr", ""), HasSubstr("killed by signal 9")) << s.dump();
  }
}

}  // namespace
}  // namespace loopspec::remote
