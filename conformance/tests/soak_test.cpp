// Soak: the whole suite on the reference backend, run again and again in one
// runner process, gives the same verdict for every rule and every scenario run
// each time, and the runner neither keeps descriptors nor grows.
//
// LOOPSPEC_SOAK_RUNS sets how many runs (default 2; docs/reliability.md gives
// the figures of a 50-run soak). Harness machinery test: every rule of the
// catalogue is judged in each run.
#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "loopspec/sanitizers.hpp"
#include "suite_support.hpp"

namespace loopspec {
namespace {

std::size_t open_descriptors() {
  std::size_t count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // the directory stream's own descriptor
}

// Resident set size in KiB (VmRSS), 0 if unknown.
long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
    status.ignore(4096, '\n');
  }
  return 0;
}

int soak_runs() {
  const char* text = std::getenv("LOOPSPEC_SOAK_RUNS");
  int runs = text != nullptr ? std::atoi(text) : 2;
  return runs >= 2 ? runs : 2;
}

std::map<std::string, Verdict> verdicts(const RunResults& results) {
  std::map<std::string, Verdict> by_key;
  for (const auto& rule : results.rules) by_key["rule " + rule.id] = rule.verdict;
  for (const auto& scenario : results.scenarios) by_key["scenario " + scenario.key()] = scenario.verdict;
  return by_key;
}

// "KEY: V1 -> V2" for each verdict that differs, one a line.
std::string differences(const std::map<std::string, Verdict>& before, const std::map<std::string, Verdict>& after) {
  std::string text;
  auto name = [](const std::map<std::string, Verdict>& in, const std::string& key) {
    auto found = in.find(key);
    return found == in.end() ? std::string("absent") : std::string(to_string(found->second));
  };
  std::set<std::string> keys;
  for (const auto& [key, verdict] : before) keys.insert(key);
  for (const auto& [key, verdict] : after) keys.insert(key);
  for (const auto& key : keys) {
    if (name(before, key) != name(after, key)) text += key + ": " + name(before, key) + " -> " + name(after, key) + "\n";
  }
  return text;
}

// Rule: every rule (profile 3.8), judged once per run
TEST(Soak, RepeatedRunsGiveTheSameVerdictsAndKeepNoDescriptorsOrMemory) {
  const int runs = soak_runs();
  // The first run loads what stays loaded (the catalogue, the scenario registry, TLS material):
  // descriptors and memory are compared from the end of that run on.
  const auto first = verdicts(testing::run_reference({}));
  ASSERT_FALSE(first.empty());
  const std::size_t descriptors = open_descriptors();
  const long resident = resident_kib();
  long peak_growth = 0;
  for (int run = 2; run <= runs; ++run) {
    const auto again = verdicts(testing::run_reference({}));
    EXPECT_EQ(differences(first, again), "") << "run " << run << " judged differently from run 1";
    EXPECT_EQ(open_descriptors(), descriptors) << "after run " << run;
    peak_growth = std::max(peak_growth, resident_kib() - resident);
  }
  std::printf("soak: %d runs of %zu verdicts each, identical; %zu descriptors throughout; "
              "resident %ld KiB after run 1, at most %ld KiB more after any later run\n",
              runs, first.size(), descriptors, resident, peak_growth);
  RecordProperty("runs", runs);
  RecordProperty("verdicts_per_run", static_cast<int>(first.size()));
  RecordProperty("descriptors", static_cast<int>(descriptors));
  RecordProperty("resident_kib_after_run_1", static_cast<int>(resident));
  RecordProperty("peak_growth_kib", static_cast<int>(peak_growth));
  // Results are built and dropped each run; a leak of one run's worth (its traces, outcomes)
  // would show as growth with every run. Under AddressSanitizer freed memory waits in its
  // quarantine (up to 256 MiB), so resident size says nothing there; LeakSanitizer checks instead.
  if (!testing::kUnderAddressSanitizer) {
    EXPECT_LE(peak_growth, 2048) << "resident memory grew by " << peak_growth << " KiB";
  }
}

}  // namespace
}  // namespace loopspec
