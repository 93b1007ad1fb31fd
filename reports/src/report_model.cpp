#include "loopspec/reports/report_model.hpp"

#include <algorithm>
#include <map>

namespace loopspec::reports {

ReportRun::ReportRun(std::string label, ReportInput input)
    : label_(std::move(label)), source_(std::move(input.source)), results_(std::move(input.results)) {
  for (std::size_t i = 0; i < results_.rules.size(); ++i) rules_.emplace(results_.rules[i].id, i);
  for (std::size_t i = 0; i < results_.scenarios.size(); ++i) scenarios_.emplace(results_.scenarios[i].key(), i);
  std::error_code ec;
  std::filesystem::path traces = std::filesystem::path(source_).parent_path() / "traces";
  if (!source_.empty() && std::filesystem::is_directory(traces, ec)) trace_directory_ = traces;
}

const RuleOutcome* ReportRun::rule(std::string_view id) const {
  auto it = rules_.find(std::string(id));
  return it == rules_.end() ? nullptr : &results_.rules[it->second];
}

const ScenarioOutcome* ReportRun::scenario(std::string_view key) const {
  auto it = scenarios_.find(std::string(key));
  return it == scenarios_.end() ? nullptr : &results_.scenarios[it->second];
}

void ReportRun::compare_with(std::size_t index, const RunResults& baseline) {
  baseline_index_ = index;
  baseline_.emplace(baseline, results_);
}

std::string base_label(const RunResults& results) {
  std::string label = results.backend.name;
  if (!results.backend.fault.empty()) label += "+fault " + results.backend.fault;
  return label;
}

namespace {

std::vector<ReportRun> label_runs(std::vector<ReportInput> inputs, std::string_view repeat_prefix) {
  std::map<std::string, int> seen;
  std::vector<ReportRun> runs;
  runs.reserve(inputs.size());
  for (auto& input : inputs) {
    std::string label = base_label(input.results);
    int n = ++seen[label];
    if (n > 1) label += std::string(repeat_prefix) + std::to_string(n);
    runs.emplace_back(std::move(label), std::move(input));
  }
  return runs;
}

}  // namespace

CaseVerdict case_verdict(const RuleOutcome& rule, const ScenarioOutcome& scenario) {
  std::optional<Verdict> worst;
  for (const auto& c : scenario.checks) {
    if (c.rule == rule.id) worst = worst ? worse(*worst, c.verdict) : c.verdict;
  }
  std::string message;
  for (const auto& c : scenario.checks) {
    if (c.rule == rule.id && c.verdict == worst) {
      message = c.message;
      break;
    }
  }
  Verdict verdict;
  if (scenario.verdict == Verdict::Error) {
    verdict = worst ? worse(*worst, Verdict::Error) : Verdict::Error;
    if (verdict == Verdict::Error) message = scenario.error;
  } else if (scenario.verdict == Verdict::Unsupported) {
    verdict = Verdict::Unsupported;
  } else if (worst) {
    verdict = *worst;
  } else {
    // The scenario ran to its end and the checker watched its trace.
    auto level = level_from_string(rule.level);
    verdict = level ? verdict_for_held(*level) : Verdict::Pass;
  }
  bool finding = verdict != Verdict::Pass && verdict != Verdict::Unsupported && verdict != Verdict::Untested;
  bool expected = !finding || (rule.expectation && rule.expectation->accepts(verdict)) ||
                  (rule.expected && rule.verdict == verdict);
  return CaseVerdict{verdict, message, expected};
}

ReportModel::ReportModel(std::vector<ReportInput> runs, const RuleCatalogue* catalogue, std::string catalogue_problem,
                         std::vector<ReportInput> baselines)
    : runs_(label_runs(std::move(runs), " #")),
      baselines_(label_runs(std::move(baselines), " baseline #")),
      catalogue_(catalogue),
      catalogue_problem_(std::move(catalogue_problem)) {
  if (!catalogue_ && catalogue_problem_.empty()) catalogue_problem_ = "no rules catalogue was given";

  // Baselines: each matched by backend name, at most one per backend.
  std::map<std::string, std::size_t> baseline_of;
  for (std::size_t b = 0; b < baselines_.size(); ++b) {
    const auto& name = baselines_[b].results().backend.name;
    if (!baseline_of.emplace(name, b).second) {
      throw ReportError(baselines_[b].source() + ": a second baseline for backend '" + name + "'");
    }
    bool matched = false;
    for (auto& run : runs_) {
      if (run.results().backend.name != name) continue;
      run.compare_with(b, baselines_[b].results());
      matched = true;
    }
    if (!matched) {
      throw ReportError(baselines_[b].source() + ": baseline backend '" + name + "' matches none of the runs");
    }
  }

  // Rows: the union, in document order.
  std::unordered_map<std::string, std::size_t> row_of;
  for (const auto& run : runs_) {
    for (const auto& r : run.results().rules) {
      auto [it, added] = row_of.emplace(r.id, rows_.size());
      if (added) {
        RuleRow row{r.id, r.title, r.level, r.section, catalogue_ ? catalogue_->find(r.id) : nullptr, {}};
        if (row.rule) {
          if (row.title.empty()) row.title = row.rule->title;
          if (row.section.empty()) row.section = row.rule->section;
        }
        rows_.push_back(std::move(row));
      }
      auto& scenarios = rows_[it->second].scenarios;
      for (const auto& s : r.scenarios) {
        if (std::find(scenarios.begin(), scenarios.end(), s) == scenarios.end()) scenarios.push_back(s);
      }
    }
  }
  // Known rules by catalogue order; unknown ones keep their place after the
  // known rule they followed.
  std::vector<std::pair<std::size_t, std::size_t>> keys;  // (order key, appearance)
  std::size_t last_order = 0;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].rule) last_order = rows_[i].rule->order;
    keys.emplace_back(last_order, i);
  }
  std::vector<std::size_t> order(rows_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  std::vector<RuleRow> sorted;
  sorted.reserve(rows_.size());
  for (std::size_t i : order) sorted.push_back(std::move(rows_[i]));
  rows_ = std::move(sorted);

  std::unordered_map<std::string, std::size_t> section_of;
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    std::string name = rows_[i].section.empty() ? "(no section)" : rows_[i].section;
    auto [it, added] = section_of.emplace(name, sections_.size());
    if (added) sections_.push_back(SectionGroup{name, {}});
    sections_[it->second].rows.push_back(i);
  }
}

std::vector<std::string> ReportModel::profiles() const {
  std::vector<std::string> out;
  for (const auto& run : runs_) {
    if (std::find(out.begin(), out.end(), run.results().profile) == out.end()) out.push_back(run.results().profile);
  }
  return out;
}

}  // namespace loopspec::reports
