#include "loopspec/reports/baseline.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace loopspec::reports {

bool is_failing(Verdict verdict) {
  return verdict == Verdict::Fail || verdict == Verdict::Error || verdict == Verdict::NonStrict;
}

std::string_view to_string(Change change) {
  switch (change) {
    case Change::NewFailure: return "new failure";
    case Change::NewPass: return "new pass";
    case Change::Other: return "changed";
  }
  return "changed";
}

namespace {

Change classify(std::optional<Verdict> before, std::optional<Verdict> after) {
  bool failed = before && is_failing(*before);
  bool fails = after && is_failing(*after);
  if (fails && !failed) return Change::NewFailure;
  if (failed && after && (*after == Verdict::Pass || *after == Verdict::Info)) return Change::NewPass;
  return Change::Other;
}

}  // namespace

BaselineComparison::BaselineComparison(const RunResults& baseline, const RunResults& current) {
  std::unordered_map<std::string, Verdict> before;
  for (const auto& r : baseline.rules) before.emplace(r.id, r.verdict);
  for (const auto& r : current.rules) {
    auto it = before.find(r.id);
    std::optional<Verdict> was = it == before.end() ? std::nullopt : std::optional<Verdict>(it->second);
    if (was == r.verdict) continue;
    changes_.push_back(VerdictChange{r.id, was, r.verdict, classify(was, r.verdict)});
  }
  std::unordered_set<std::string> kept;
  for (const auto& r : current.rules) kept.insert(r.id);
  for (const auto& r : baseline.rules) {
    if (!kept.count(r.id)) changes_.push_back(VerdictChange{r.id, r.verdict, std::nullopt, Change::Other});
  }
  std::stable_sort(changes_.begin(), changes_.end(),
                   [](const VerdictChange& a, const VerdictChange& b) { return a.change < b.change; });
  for (std::size_t i = 0; i < changes_.size(); ++i) by_rule_.emplace(changes_[i].rule, i);
}

const VerdictChange* BaselineComparison::find(std::string_view rule) const {
  auto it = by_rule_.find(std::string(rule));
  return it == by_rule_.end() ? nullptr : &changes_[it->second];
}

std::size_t BaselineComparison::count(Change change) const {
  return static_cast<std::size_t>(
      std::count_if(changes_.begin(), changes_.end(), [&](const VerdictChange& c) { return c.change == change; }));
}

}  // namespace loopspec::reports
