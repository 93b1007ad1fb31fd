// The merged view of several runs that every report format renders.
//
// Promises:
// - runs keep the order given; each gets a unique label: the backend name,
//   "+fault NAME" when a test-only fault was on, then " #2", " #3"... for
//   repeats;
// - rows are the union of the runs' rules in document order (the
//   catalogue's order for rules it knows, else the order the runs list them),
//   grouped by section in order of first appearance;
// - every baseline is matched to the runs of the backend of the same name;
//   a baseline matching no run is an error (ReportError), as is a second
//   baseline for the same backend;
// - a catalogue that cannot be loaded is no error: rows then carry no quotes
//   and catalogue_problem() says why.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loopspec/conformance/results.hpp"
#include "loopspec/reports/baseline.hpp"
#include "loopspec/rules.hpp"

namespace loopspec::reports {

class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One results file as read.
struct ReportInput {
  std::string source;  // where it came from, for people
  RunResults results;
};

class ReportRun {
 public:
  ReportRun(std::string label, ReportInput input);
  const std::string& label() const { return label_; }
  const std::string& source() const { return source_; }
  const RunResults& results() const { return results_; }
  const RuleOutcome* rule(std::string_view id) const;
  const ScenarioOutcome* scenario(std::string_view key) const;  // by ScenarioOutcome::key()
  // The whole traces `loopspec run --traces` wrote beside the results file
  // (DIR/traces/SCENARIO[VARIANT].jsonl); empty when there are none.
  const std::filesystem::path& trace_directory() const { return trace_directory_; }
  // Against the earlier run given with --baseline, when one matched.
  const std::optional<BaselineComparison>& baseline() const { return baseline_; }
  std::optional<std::size_t> baseline_index() const { return baseline_index_; }
  void compare_with(std::size_t index, const RunResults& baseline);

 private:
  std::string label_;
  std::string source_;
  std::filesystem::path trace_directory_;
  RunResults results_;
  std::unordered_map<std::string, std::size_t> rules_;
  std::unordered_map<std::string, std::size_t> scenarios_;
  std::optional<BaselineComparison> baseline_;
  std::optional<std::size_t> baseline_index_;
};

struct RuleRow {
  std::string id;
  std::string title;
  std::string level;
  std::string section;
  const Rule* rule = nullptr;          // the catalogue's entry, when known
  std::vector<std::string> scenarios;  // every scenario run that exercised it, in any run
};

struct SectionGroup {
  std::string name;
  std::vector<std::size_t> rows;  // indices into rows()
};

// What one scenario run said about one rule (a JUnit test case).
struct CaseVerdict {
  Verdict verdict = Verdict::Pass;
  std::string message;
  bool expected = true;  // matches the backend's expectations (or is no finding)
};
CaseVerdict case_verdict(const RuleOutcome& rule, const ScenarioOutcome& scenario);

class ReportModel {
 public:
  // catalogue may be null; then catalogue_problem says why it is missing.
  ReportModel(std::vector<ReportInput> runs, const RuleCatalogue* catalogue, std::string catalogue_problem,
              std::vector<ReportInput> baselines = {});

  const std::vector<ReportRun>& runs() const { return runs_; }
  const std::vector<ReportRun>& baselines() const { return baselines_; }
  const std::vector<RuleRow>& rows() const { return rows_; }
  const std::vector<SectionGroup>& sections() const { return sections_; }
  const RuleCatalogue* catalogue() const { return catalogue_; }
  const std::string& catalogue_problem() const { return catalogue_problem_; }
  // The profiles of the runs, each once, in run order.
  std::vector<std::string> profiles() const;

 private:
  std::vector<ReportRun> runs_;
  std::vector<ReportRun> baselines_;
  std::vector<RuleRow> rows_;
  std::vector<SectionGroup> sections_;
  const RuleCatalogue* catalogue_ = nullptr;
  std::string catalogue_problem_;
};

// The label a run gets before repeats are numbered: "reference", "reference+fault pause-at-high".
std::string base_label(const RunResults& results);

}  // namespace loopspec::reports
