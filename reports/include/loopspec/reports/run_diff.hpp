// Two runs side by side: the rules whose verdicts differ, and, for every
// scenario run both traced, the two recorded traces aligned step by step
// (trace_alignment.hpp) with the first divergence found.
//
// Promises: the pairs compared are every run against the first run, then
// every run against its baseline (unless that baseline is the first run's
// own file: the pair is already there); rule differences follow the
// report's row order. Every scenario run both runs have a trace of is
// aligned, PASS or not: two loops can both pass and still behave
// differently. A scenario run's trace is the one results.json kept when it
// is whole, else the whole one `loopspec run --traces` wrote beside the
// results file (DIR/traces/SCENARIO[VARIANT].jsonl), else the part
// results.json kept. Each trace is read once per run it is compared from
// and dropped once aligned: an alignment keeps only an excerpt around the
// first divergence, so memory stays bounded whatever the traces hold.
// Alignments follow the left run's scenario order.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/reports/report_model.hpp"
#include "loopspec/trace.hpp"

namespace loopspec::reports {

struct DiffOptions {
  std::size_t context_steps = 6;  // same steps kept before the first divergence
  std::size_t steps_after = 58;   // steps kept from the first divergence on
  std::size_t lookahead = 256;    // events of each side the edit script looks at
};

struct RuleDifference {
  std::size_t row = 0;  // index into ReportModel::rows()
  const RuleOutcome* left = nullptr;   // null: the left run does not have the rule
  const RuleOutcome* right = nullptr;
};

// One row of an excerpt: an event of each side, or of one side facing a gap.
struct AlignedRow {
  std::size_t step = 0;
  std::optional<Event> left;
  std::optional<Event> right;
  bool same = false;
};

struct TraceAlignment {
  std::string scenario;  // SCENARIO[VARIANT]
  Verdict left_verdict = Verdict::Pass;
  Verdict right_verdict = Verdict::Pass;
  std::string left_origin;   // "results.json" or the trace file read
  std::string right_origin;
  std::string problem;       // a trace could not be read; then nothing below is set
  std::size_t left_events = 0;  // events each trace held
  std::size_t right_events = 0;
  std::size_t start = 0;     // the absolute position both traces were followed from
  std::size_t steps = 0;     // steps aligned
  std::optional<std::size_t> divergence;  // the step where they first differ
  bool cut = false;          // events past the last step were not compared
  std::vector<AlignedRow> rows;  // context before the divergence, the divergence, what follows
};

struct RunDiff {
  const ReportRun* left = nullptr;
  const ReportRun* right = nullptr;
  bool against_baseline = false;
  std::vector<RuleDifference> rules;
  std::vector<TraceAlignment> traces;
  std::size_t untraced = 0;  // scenario runs both have, without a trace in one of them
};

std::vector<RunDiff> compare_runs(const ReportModel& model, const DiffOptions& options = {});
RunDiff compare_pair(const ReportModel& model, const ReportRun& left, const ReportRun& right,
                     const DiffOptions& options = {});

}  // namespace loopspec::reports
