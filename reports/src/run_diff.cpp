#include "loopspec/reports/run_diff.hpp"

#include <algorithm>

#include "loopspec/reports/trace_alignment.hpp"
#include "loopspec/reports/trace_view.hpp"

namespace loopspec::reports {

namespace {

struct LoadedTrace {
  KeptTrace trace;
  std::string origin;
};

// The trace of one scenario run, or nullopt when there is none.
std::optional<LoadedTrace> trace_of(const ReportRun& run, const ScenarioOutcome& s) {
  std::optional<LoadedTrace> kept;
  if (!s.trace.is_null()) {
    kept = LoadedTrace{read_kept_trace(s.trace, run.source() + ": " + s.key()), "results.json"};
    if (kept->trace.omitted == 0 || !kept->trace.problem.empty()) return kept;
  }
  if (!run.trace_directory().empty()) {
    std::filesystem::path file = run.trace_directory() / (s.key() + ".jsonl");
    std::error_code ec;
    if (std::filesystem::is_regular_file(file, ec)) return LoadedTrace{read_trace_file(file), file.string()};
  }
  return kept;
}

TraceAlignment align(const ScenarioOutcome& ls, const ScenarioOutcome& rs, const LoadedTrace& lt, const LoadedTrace& rt,
                     const DiffOptions& options) {
  TraceAlignment a;
  a.scenario = ls.key();
  a.left_verdict = ls.verdict;
  a.right_verdict = rs.verdict;
  a.left_origin = lt.origin;
  a.right_origin = rt.origin;
  if (!lt.trace.problem.empty() || !rt.trace.problem.empty()) {
    a.problem = lt.trace.problem.empty() ? rt.trace.problem : lt.trace.problem;
    return a;
  }
  a.left_events = lt.trace.events.size();
  a.right_events = rt.trace.events.size();
  StepAlignment steps(lt.trace, rt.trace, options.lookahead);
  a.start = steps.start();
  a.steps = steps.size();
  a.divergence = steps.divergence();
  a.cut = steps.cut();
  if (!a.divergence) return a;
  std::size_t from = *a.divergence > options.context_steps ? *a.divergence - options.context_steps : 0;
  std::size_t to = std::min(steps.size(), *a.divergence + options.steps_after);
  for (std::size_t k = from; k < to; ++k) {
    AlignedStep s = steps.step(k);
    AlignedRow row{k, std::nullopt, std::nullopt, s.same};
    if (s.left) row.left = lt.trace.events[*s.left];
    if (s.right) row.right = rt.trace.events[*s.right];
    a.rows.push_back(std::move(row));
  }
  return a;
}

void compare_rules(const ReportModel& model, RunDiff& diff) {
  const auto& rows = model.rows();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const RuleOutcome* a = diff.left->rule(rows[i].id);
    const RuleOutcome* b = diff.right->rule(rows[i].id);
    if (!a && !b) continue;
    if (a && b && a->verdict == b->verdict) continue;
    diff.rules.push_back(RuleDifference{i, a, b});
  }
}

// Aligns the traces of every pair in `group` (all with the same left run),
// scenario by scenario, so each left trace is read once.
void compare_traces(const std::vector<RunDiff*>& group, const DiffOptions& options) {
  const ReportRun& left = *group.front()->left;
  for (const auto& s : left.results().scenarios) {
    std::optional<std::optional<LoadedTrace>> lt;  // outer: read yet; inner: there is a trace
    for (RunDiff* diff : group) {
      const ScenarioOutcome* other = diff->right->scenario(s.key());
      if (!other) continue;
      if (!lt) lt = trace_of(left, s);
      std::optional<LoadedTrace> rt = *lt ? trace_of(*diff->right, *other) : std::nullopt;
      if (!*lt || !rt) {
        ++diff->untraced;
        continue;
      }
      diff->traces.push_back(align(s, *other, **lt, *rt, options));
    }
  }
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec);
}

}  // namespace

RunDiff compare_pair(const ReportModel& model, const ReportRun& left, const ReportRun& right, const DiffOptions& options) {
  RunDiff diff;
  diff.left = &left;
  diff.right = &right;
  compare_rules(model, diff);
  compare_traces({&diff}, options);
  return diff;
}

std::vector<RunDiff> compare_runs(const ReportModel& model, const DiffOptions& options) {
  std::vector<RunDiff> diffs;
  const auto& runs = model.runs();
  for (std::size_t i = 1; i < runs.size(); ++i) diffs.push_back(RunDiff{&runs[0], &runs[i], false, {}, {}, 0});
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].baseline_index()) continue;
    const ReportRun& base = model.baselines()[*runs[i].baseline_index()];
    if (same_file(base.source(), runs[0].source())) continue;
    diffs.push_back(RunDiff{&base, &runs[i], true, {}, {}, 0});
  }
  for (auto& diff : diffs) compare_rules(model, diff);
  // Pairs grouped by their left run, in order of first appearance.
  std::vector<const ReportRun*> lefts;
  for (const auto& diff : diffs) {
    if (std::find(lefts.begin(), lefts.end(), diff.left) == lefts.end()) lefts.push_back(diff.left);
  }
  for (const ReportRun* left : lefts) {
    std::vector<RunDiff*> group;
    for (auto& diff : diffs) {
      if (diff.left == left) group.push_back(&diff);
    }
    compare_traces(group, options);
  }
  return diffs;
}

}  // namespace loopspec::reports
