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
  // Rule: read.resume.delivers-pending — one stream scenario end to end through the python:asyncio driver, in
  // every stream variant (TCP, Unix, TLS; Protocol and BufferedProtocol), all of which asyncio passes.
  TempDir out;
  CommandRun run = run_loopspec({"run", "--backend", "python:asyncio", "--scenarios",
                                 "stream.reading.pause-and-resume", "--quiet", "--out", out.path().string()});
  EXPECT_EQ(run.status, 0) << run.output;
  json results = read_results(out.path() / "results.json");
  ASSERT_TRUE(results.is_object()) << run.output;
  // Every variant the driver's loop declares ran (the socket ones at least); the others are UNSUPPORTED.
  std::size_t ran = 0;
  for (const auto& s : results["scenarios"]) {
    if (s["verdict"] == "UNSUPPORTED") continue;
    ++ran;
    EXPECT_EQ(s["verdict"], "PASS") << s.dump();
  }
  EXPECT_GE(ran, 10u);
  EXPECT_EQ(results["backend"]["name"], "python:asyncio");
}

TEST(PythonSuite, ALoopFactoryTheSuiteHasNeverSeenRunsThroughPythonPath) {
  // Rule: datagram.received.whole-datagram — python:MODULE:CALLABLE with a throwaway module found through
  // PYTHONPATH (inherited by the driver): its loop's capabilities are what its class provides.
  TempDir dir;
  dir.write("throwaway_loops.py",
            "import asyncio\n"
            "class CountingLoop(asyncio.SelectorEventLoop):\n"
            "    callbacks = 0\n"
            "    def call_soon(self, *args, **kwargs):\n"
            "        CountingLoop.callbacks += 1\n"
            "        return super().call_soon(*args, **kwargs)\n"
            "def make():\n"
            "    return CountingLoop()\n");
  TempDir out;
  CommandRun run = run_loopspec({"run", "--backend", "python:throwaway_loops:make", "--scenarios", "dgram.exchange.*",
                                 "--quiet", "--no-report", "--out", out.path().string()},
                                {"PYTHONPATH=" + dir.path().string()});
  EXPECT_EQ(run.status, 0) << run.output;
  json results = read_results(out.path() / "results.json");
  ASSERT_TRUE(results.is_object()) << run.output;
  EXPECT_EQ(results["backend"]["name"], "python:throwaway_loops:make");
  EXPECT_THAT(results["backend"]["implementation"].get<std::string>(),
              HasSubstr("throwaway_loops.CountingLoop from throwaway_loops:make"));
  EXPECT_THAT(results["backend"]["capabilities"], ::testing::Contains("udp"));
  ASSERT_EQ(results["scenarios"].size(), 6u);  // two scenarios, three variants each
  for (const auto& s : results["scenarios"]) EXPECT_EQ(s["verdict"], "PASS") << s.dump();
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
  std::size_t ran = 0;  // every variant the loop declares ran, one after the other
  for (const auto& s : results["scenarios"]) {
    if (s["verdict"] == "UNSUPPORTED") continue;
    ++ran;
    EXPECT_EQ(s["verdict"], "ERROR") << s.dump();
    EXPECT_THAT(s["error"].get<std::string>() + s.value("stderr", ""), HasSubstr("killed by signal 9")) << s.dump();
  }
  EXPECT_GE(ran, 8u);
}

}  // namespace
}  // namespace loopspec::remote
