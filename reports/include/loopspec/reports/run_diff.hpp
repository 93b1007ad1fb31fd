// Two runs side by side: the rules whose verdicts differ, and the traces of
// scenarios both kept, aligned event by event.
//
// Promises: the pairs compared are every run against the first run, then
// every run against its baseline (unless that baseline is the first run's
// own file: the pair is already there); rule differences follow the
// report's row order. A scenario run's traces are aligned when it is not
// PASS in at least one of the two runs and both have its trace: the one
// results.json kept (non-PASS runs), else the whole one `loopspec run
// --traces` wrote beside it. Alignments follow the left run's scenario order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "loopspec/reports/report_model.hpp"
#include "loopspec/reports/trace_view.hpp"

namespace loopspec::reports {

struct RuleDifference {
  std::size_t row = 0;  // index into ReportModel::rows()
  const RuleOutcome* left = nullptr;   // null: the left run does not have the rule
  const RuleOutcome* right = nullptr;
};

struct TraceAlignment {
  std::string scenario;  // SCENARIO[VARIANT]
  KeptTrace left;
  KeptTrace right;
  std::string left_origin;   // "results.json" or the trace file read
  std::string right_origin;
  std::optional<std::size_t> divergence;  // absolute position of the first differing step
};

struct RunDiff {
  const ReportRun* left = nullptr;
  const ReportRun* right = nullptr;
  bool against_baseline = false;
  std::vector<RuleDifference> rules;
  std::vector<TraceAlignment> traces;
};

std::vector<RunDiff> compare_runs(const ReportModel& model);
RunDiff compare_pair(const ReportModel& model, const ReportRun& left, const ReportRun& right);

}  // namespace loopspec::reports
