// The runner: every selected scenario, in every variant the backend supports,
// each in a child process of its own, folded into RunResults.
//
// Promises:
// - A scenario that crashes, hangs past the scenario timeout or throws is an
//   ERROR for its rules, with its stderr attached; the run goes on.
// - Scenarios whose variant needs a capability the backend lacks are
//   UNSUPPORTED without running.
// - Rule verdicts are the worst over every check of every scenario that
//   exercised the rule, including the checker's findings on its trace.
// - Nothing is passed through a shell.
// - Nothing a scenario started outlives it: its process group is killed and
//   reaped when it ends (the runner is a child subreaper, so a driver or
//   subprocess the scenario left becomes the runner's to reap), and a runner
//   killed outright takes its scenario process along (PR_SET_PDEATHSIG).
// - After SIGINT/SIGTERM (interruption.hpp), the scenario in flight is killed
//   and not counted, no other starts, and the results are those completed,
//   marked interrupted.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "loopspec/backend.hpp"
#include "loopspec/conformance/expectations.hpp"
#include "loopspec/conformance/results.hpp"
#include "loopspec/conformance/scenario.hpp"
#include "loopspec/rules.hpp"

namespace loopspec {

struct RunOptions {
  std::string backend;
  BackendOptions backend_options;
  std::string profile{kDefaultProfile};
  std::string rules_glob = "*";      // rules reported (and scenarios run for them)
  std::string scenarios_glob = "*";  // scenario ids run
  Duration wait_timeout{2.0};        // one wait inside a scenario
  Duration scenario_timeout{30.0};   // one whole scenario process
  std::optional<Expectations> expectations;
  std::size_t max_trace_events = 4000;  // per kept trace, around the first violation
  std::filesystem::path trace_dir;      // if set: every scenario run's whole trace as SCENARIO[VARIANT].jsonl
};

// Calls back after each scenario (for progress output).
using ProgressCallback = std::function<void(std::size_t done, std::size_t total, const ScenarioOutcome&)>;

RunResults run_suite(const RunOptions& options, const RuleCatalogue& rules,
                     const std::vector<ScenarioSpec>& scenarios, const ProgressCallback& progress = {});

// The transport kinds a backend's capabilities cover (tcp -> tcp, pipes -> read-pipe, write-pipe, ...).
std::vector<std::string> transports_covered(const BackendInfo& info);

}  // namespace loopspec
