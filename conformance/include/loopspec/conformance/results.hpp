// The results of one run: the source of truth every report is rendered from.
//
// Format: spec/results-format.md (versioned). to_json/results_from_json round
// trip; results_from_json rejects malformed or foreign input with
// ResultsError naming the JSON path of the field. write_results writes
// atomically (temporary file, then rename).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loopspec/conformance/verdict.hpp"

namespace loopspec {

inline constexpr int kResultsFormatVersion = 1;

struct CheckOutcome {
  std::string rule;
  Verdict verdict = Verdict::Pass;
  std::string source;  // "scenario" or "checker"
  std::string message;
  std::optional<std::uint64_t> seq;  // the violating event, for checker findings
};

struct ScenarioOutcome {
  std::string id;
  std::string variant;
  std::string title;
  std::vector<std::string> rules;
  Verdict verdict = Verdict::Pass;
  double duration_ms = 0;
  std::vector<CheckOutcome> checks;
  std::string error;       // why it is ERROR
  std::string stderr_tail; // the end of what the scenario's process wrote to stderr
  nlohmann::json trace;    // kept for non-PASS scenarios: {"header":{..},"events":[..],"complete":bool,"truncated":n}
  std::string key() const { return id + "[" + variant + "]"; }
};

struct Expectation {
  std::string rule;
  Verdict verdict = Verdict::Fail;
  std::string reason;
  std::string link;
  // The deviation depends on a race inside the backend and shows in some runs
  // only: PASS is expected too.
  bool racy = false;

  bool accepts(Verdict v) const { return v == verdict || (racy && v == Verdict::Pass); }
};

struct RuleOutcome {
  std::string id;
  std::string title;
  std::string level;
  std::string section;
  Verdict verdict = Verdict::Untested;
  bool expected = true;
  std::optional<Expectation> expectation;
  std::vector<std::string> scenarios;  // ScenarioOutcome::key() of each that exercised it
  std::string message;                 // the first failure's message
};

struct BackendDescription {
  std::string name;
  std::string implementation;
  std::string version;
  std::vector<std::string> capabilities;
  std::string fault;
};

struct RunResults {
  std::string loopspec_version;
  std::string loopspec_revision;
  BackendDescription backend;
  std::string profile;
  std::string started;  // ISO 8601, UTC
  double duration_s = 0;
  nlohmann::json host;  // os, kernel, compiler
  bool interrupted = false;
  std::vector<RuleOutcome> rules;
  std::vector<ScenarioOutcome> scenarios;

  std::size_t count(Verdict v) const;
  std::size_t unexpected() const;
  // Unexpected FAIL or ERROR: what makes `loopspec run` exit non-zero.
  std::size_t unexpected_failures() const;
};

class ResultsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

nlohmann::json to_json(const RunResults& results);
RunResults results_from_json(const nlohmann::json& j, const std::string& source);
RunResults read_results(const std::filesystem::path& path);
void write_results(const RunResults& results, const std::filesystem::path& path);

}  // namespace loopspec
