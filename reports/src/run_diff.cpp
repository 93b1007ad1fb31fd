#include "loopspec/reports/run_diff.hpp"

namespace loopspec::reports {

namespace {

// The trace of one scenario run: the window results.json kept, else the
// whole trace file beside it; nullopt when there is neither.
std::optional<std::pair<KeptTrace, std::string>> trace_of(const ReportRun& run, const ScenarioOutcome& s) {
  if (!s.trace.is_null()) return std::pair{read_kept_trace(s.trace, run.source() + ": " + s.key()), std::string("results.json")};
  if (run.trace_directory().empty()) return std::nullopt;
  std::filesystem::path file = run.trace_directory() / (s.key() + ".jsonl");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  return std::pair{read_trace_file(file), file.string()};
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec);
}

}  // namespace

RunDiff compare_pair(const ReportModel& model, const ReportRun& left, const ReportRun& right) {
  RunDiff diff;
  diff.left = &left;
  diff.right = &right;
  const auto& rows = model.rows();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const RuleOutcome* a = left.rule(rows[i].id);
    const RuleOutcome* b = right.rule(rows[i].id);
    if (!a && !b) continue;
    if (a && b && a->verdict == b->verdict) continue;
    diff.rules.push_back(RuleDifference{i, a, b});
  }
  for (const auto& s : left.results().scenarios) {
    const ScenarioOutcome* other = right.scenario(s.key());
    if (!other || (s.verdict == Verdict::Pass && other->verdict == Verdict::Pass)) continue;
    auto a = trace_of(left, s);
    if (!a) continue;
    auto b = trace_of(right, *other);
    if (!b) continue;
    TraceAlignment alignment;
    alignment.scenario = s.key();
    alignment.left = std::move(a->first);
    alignment.left_origin = std::move(a->second);
    alignment.right = std::move(b->first);
    alignment.right_origin = std::move(b->second);
    alignment.divergence = first_divergence(alignment.left, alignment.right);
    diff.traces.push_back(std::move(alignment));
  }
  return diff;
}

std::vector<RunDiff> compare_runs(const ReportModel& model) {
  std::vector<RunDiff> diffs;
  const auto& runs = model.runs();
  for (std::size_t i = 1; i < runs.size(); ++i) diffs.push_back(compare_pair(model, runs[0], runs[i]));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].baseline_index()) continue;
    const ReportRun& base = model.baselines()[*runs[i].baseline_index()];
    if (!runs.empty() && same_file(base.source(), runs[0].source())) continue;
    RunDiff diff = compare_pair(model, base, runs[i]);
    diff.against_baseline = true;
    diffs.push_back(std::move(diff));
  }
  return diffs;
}

}  // namespace loopspec::reports
