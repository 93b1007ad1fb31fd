// An interrupted `loopspec run` (SIGTERM, SIGINT) writes what completed, marked
// interrupted, exits 128 + the signal, and leaves no process behind: not the
// scenario in flight, not the driver it started. Harness machinery test
// (spec/results-format.md, "interrupted").
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loopspec/conformance/results.hpp"
#include "spawn_loopspec.hpp"

namespace loopspec {
namespace {

namespace fs = std::filesystem;

// Every process the run starts inherits this variable: finding it in /proc
// after the run names a process the run left behind.
std::string unique_tag() {
  static int counter = 0;
  return "LOOPSPEC_INTERRUPT_TEST=" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

std::vector<pid_t> processes_tagged(const std::string& tag) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::ifstream environ_file(std::string("/proc/") + entry->d_name + "/environ");
    std::string environment((std::istreambuf_iterator<char>(environ_file)), std::istreambuf_iterator<char>());
    if (environment.find(tag + '\0') != std::string::npos) found.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return found;
}

struct SpawnedRun {
  pid_t pid = -1;
  FILE* output = nullptr;  // the run's stdout and stderr

  SpawnedRun(std::vector<std::string> args, std::vector<std::string> extra_environment) {
    auto spawned = testing::spawn_loopspec(std::move(args), std::move(extra_environment));
    pid = spawned.pid;
    output = ::fdopen(spawned.output, "r");
  }
  ~SpawnedRun() {
    if (output != nullptr) std::fclose(output);
  }

  // The next line the run prints ("" at the end of its output).
  std::string line() {
    std::string text;
    for (int c; (c = std::fgetc(output)) != EOF;) {
      text += static_cast<char>(c);
      if (c == '\n') break;
    }
    return text;
  }
  std::string rest() {
    std::string text;
    while (true) {
      std::string next = line();
      if (next.empty()) return text;
      text += next;
    }
  }
  int exit_status() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

fs::path fresh_directory(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("loopspec-interrupt-test-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Interrupt, SigtermMidRunWritesWhatCompletedMarkedInterrupted) {
  fs::path out = fresh_directory("sigterm");
  std::string tag = unique_tag();
  SpawnedRun run({"run", "--backend", "reference", "--out", out.string()}, {tag});
  std::string header = run.line();
  std::string first = run.line();  // "[  1/255] scenario [variant] PASS ..." once the first scenario completed
  ASSERT_EQ(first.rfind("[  1/", 0), 0u) << header << first;
  int total = std::stoi(first.substr(first.find('/') + 1));
  ::kill(run.pid, SIGTERM);
  std::string rest = run.rest();
  EXPECT_EQ(run.exit_status(), 128 + SIGTERM) << rest;
  EXPECT_NE(rest.find("interrupted by SIGTERM"), std::string::npos) << rest;

  RunResults results = read_results(out / "results.json");
  EXPECT_TRUE(results.interrupted);
  EXPECT_GE(results.scenarios.size(), 1u);
  EXPECT_LT(results.scenarios.size(), static_cast<std::size_t>(total));
  EXPECT_TRUE(fs::exists(out / "report" / "index.html"));
  EXPECT_EQ(processes_tagged(tag), std::vector<pid_t>{}) << "processes the interrupted run left behind";
}

// The case of a driver in flight: its interpreter is a wrapper that tells the
// test (through a FIFO) that it started, so SIGINT certainly lands while a
// scenario and its driver run.
TEST(Interrupt, SigintWhileADriverRunsKillsScenarioAndDriver) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3 for the python:* backends";
  fs::path dir = fresh_directory("sigint");
  fs::path fifo = dir / "driver-started";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::path wrapper = dir / "python3";
  std::ofstream(wrapper) << "#!/bin/sh\necho started > '" << fifo.string() << "'\nexec /usr/bin/python3 \"$@\"\n";
  fs::permissions(wrapper, fs::perms::owner_all);
  std::string tag = unique_tag();
  SpawnedRun run({"run", "--backend", "python:asyncio", "--scenarios", "stream.lifecycle.*", "--out", (dir / "out").string(),
           "--no-report"},
          {tag, "LOOPSPEC_PYTHON=" + wrapper.string()});

  std::ifstream started(fifo);  // opens once the wrapper opens the FIFO to write
  std::string word;
  started >> word;
  ASSERT_EQ(word, "started");
  ::kill(run.pid, SIGINT);
  std::string rest = run.rest();
  EXPECT_EQ(run.exit_status(), 128 + SIGINT) << rest;

  RunResults results = read_results(dir / "out" / "results.json");
  EXPECT_TRUE(results.interrupted);
  EXPECT_TRUE(results.scenarios.empty()) << "the scenario in flight is not a result";
  EXPECT_EQ(processes_tagged(tag), std::vector<pid_t>{}) << "the driver or scenario outlived the run";
}

}  // namespace
}  // namespace loopspec
