// The reference loop honours every stream rule of the catalogue, in both
// profiles: each rule that applies to tcp or unix streams is PASS (or INFO for
// INFO/MAY rules) — never FAIL, ERROR, NON-STRICT or UNTESTED.
#include <gtest/gtest.h>

#include "suite_support.hpp"

namespace loopspec {
namespace {

void expect_all_stream_rules_hold(const std::string& profile) {
  RunOptions options;
  options.profile = profile;
  RunResults results = testing::run_reference(options);
  std::size_t stream_rules = 0;
  for (const auto& outcome : results.rules) {
    const Rule* rule = testing::shipped_rules().find(outcome.id);
    ASSERT_NE(rule, nullptr) << outcome.id;
    if (!testing::is_stream_rule(*rule)) continue;
    ++stream_rules;
    EXPECT_TRUE(outcome.verdict == Verdict::Pass || outcome.verdict == Verdict::Info)
        << outcome.id << " is " << to_string(outcome.verdict) << ": " << outcome.message;
  }
  EXPECT_GT(stream_rules, 40u);
  for (const auto& s : results.scenarios) {
    EXPECT_NE(s.verdict, Verdict::Error) << s.key() << ": " << s.error << "\n" << s.stderr_tail;
  }
}

// Rule: every stream rule (profile 3.8)
TEST(ReferenceConformance, EveryStreamRuleHoldsUnderProfile38) { expect_all_stream_rules_hold("3.8"); }

// Rule: every stream rule (profile 3.4.3)
TEST(ReferenceConformance, EveryStreamRuleHoldsUnderProfile343) { expect_all_stream_rules_hold("3.4.3"); }

}  // namespace
}  // namespace loopspec
