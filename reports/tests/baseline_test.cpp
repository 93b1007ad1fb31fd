// A run against its baseline: new failures first, then new passes, then
// other changes. Harness machinery test (report rendering; no contract rule).
#include "loopspec/reports/baseline.hpp"

#include <gtest/gtest.h>

#include "report_fixture.hpp"

namespace loopspec::reports {
namespace {

using testing::base_run;
using testing::rule_outcome;

TEST(Baseline, ClassifiesAndOrdersChanges) {
  RunResults before = base_run("b");
  RunResults after = base_run("b");
  auto both = [&](const std::string& id, Verdict was, Verdict now) {
    before.rules.push_back(rule_outcome(id, "S", was, {}));
    after.rules.push_back(rule_outcome(id, "S", now, {}));
  };
  both("x.fixed", Verdict::Fail, Verdict::Pass);
  both("x.same", Verdict::Pass, Verdict::Pass);
  both("x.now-unsupported", Verdict::Pass, Verdict::Unsupported);
  both("x.broke", Verdict::Pass, Verdict::Fail);
  both("x.fail-to-error", Verdict::Fail, Verdict::Error);
  both("x.info-to-nonstrict", Verdict::Info, Verdict::NonStrict);
  after.rules.push_back(rule_outcome("x.new-and-failing", "S", Verdict::Error, {}));
  before.rules.push_back(rule_outcome("x.gone", "S", Verdict::Pass, {}));

  BaselineComparison cmp(before, after);
  std::vector<std::pair<std::string, Change>> got;
  for (const auto& c : cmp.changes()) got.emplace_back(c.rule, c.change);
  std::vector<std::pair<std::string, Change>> want{
      {"x.broke", Change::NewFailure},         {"x.info-to-nonstrict", Change::NewFailure},
      {"x.new-and-failing", Change::NewFailure}, {"x.fixed", Change::NewPass},
      {"x.now-unsupported", Change::Other},    {"x.fail-to-error", Change::Other},
      {"x.gone", Change::Other}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(cmp.count(Change::NewFailure), 3u);
  EXPECT_EQ(cmp.find("x.same"), nullptr);
  ASSERT_NE(cmp.find("x.gone"), nullptr);
  EXPECT_FALSE(cmp.find("x.gone")->after.has_value());
  EXPECT_FALSE(cmp.find("x.new-and-failing")->before.has_value());
}

}  // namespace
}  // namespace loopspec::reports
