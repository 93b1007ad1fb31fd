// The reference loop honours every rule of the catalogue, in both profiles:
// each rule of the profile is PASS (or INFO for INFO/MAY rules) — never FAIL,
// ERROR, NON-STRICT, UNSUPPORTED or UNTESTED. Where the revisions differ
// (SubprocessTransport.close()) it follows the profile.
#include <gtest/gtest.h>

#include "suite_support.hpp"

namespace loopspec {
namespace {

void expect_every_rule_holds(const std::string& profile) {
  RunOptions options;
  options.profile = profile;
  RunResults results = testing::run_reference(options);
  for (const auto& outcome : results.rules) {
    EXPECT_NE(testing::shipped_rules().find(outcome.id), nullptr) << outcome.id;
    EXPECT_TRUE(outcome.verdict == Verdict::Pass || outcome.verdict == Verdict::Info)
        << outcome.id << " is " << to_string(outcome.verdict) << ": " << outcome.message;
  }
  EXPECT_EQ(results.rules.size(), testing::shipped_rules().for_profile(profile).size());
  for (const auto& s : results.scenarios) {
    EXPECT_NE(s.verdict, Verdict::Error) << s.key() << ": " << s.error << "\n" << s.stderr_tail;
  }
}

// Rule: every rule (profile 3.8)
TEST(ReferenceConformance, EveryRuleHoldsUnderProfile38) { expect_every_rule_holds("3.8"); }

// Rule: every rule (profile 3.4.3; subprocess.close.terminates instead of subprocess.close.kills)
TEST(ReferenceConformance, EveryRuleHoldsUnderProfile343) { expect_every_rule_holds("3.4.3"); }

}  // namespace
}  // namespace loopspec
