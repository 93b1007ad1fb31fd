// A run against an earlier run of the same backend: what got worse, what got better.
//
// "Failing" means FAIL, ERROR or NON-STRICT. A new failure is a rule failing
// now that did not fail (or was absent) in the baseline; a new pass is a rule
// that failed in the baseline and now is PASS or INFO. Any other change of
// verdict (PASS -> UNSUPPORTED, FAIL -> ERROR, a rule gone) is listed apart.
// Promises: changes() lists new failures first, then new passes, then the
// rest, each group in the current run's rule order (rules only the baseline
// has come last).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loopspec/conformance/results.hpp"

namespace loopspec::reports {

bool is_failing(Verdict verdict);

enum class Change { NewFailure, NewPass, Other };
std::string_view to_string(Change change);  // "new failure", "new pass", "changed"

struct VerdictChange {
  std::string rule;
  std::optional<Verdict> before;  // absent: the baseline did not have the rule
  std::optional<Verdict> after;   // absent: the current run does not have it
  Change change = Change::Other;
};

class BaselineComparison {
 public:
  BaselineComparison() = default;
  BaselineComparison(const RunResults& baseline, const RunResults& current);
  const std::vector<VerdictChange>& changes() const { return changes_; }
  const VerdictChange* find(std::string_view rule) const;
  std::size_t count(Change change) const;

 private:
  std::vector<VerdictChange> changes_;
  std::unordered_map<std::string, std::size_t> by_rule_;
};

}  // namespace loopspec::reports
