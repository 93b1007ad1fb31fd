// Suite strength: every deliberate deviation of the reference loop's fault
// switch is caught — the suite reports FAIL for the rule the deviation breaks.
// Each case runs the scenarios that exercise that rule, as
// `loopspec run --backend reference --fault NAME --rules RULE` would.
#include <gtest/gtest.h>

#include "suite_support.hpp"

namespace loopspec {
namespace {

std::vector<Fault> reference_faults() {
  testing::ensure_backends();
  return BackendRegistry::instance().create("reference", {})->info().faults;
}

class FaultKill : public ::testing::TestWithParam<Fault> {};

}  // namespace

// Names the case in test listings instead of dumping the struct's bytes.
void PrintTo(const Fault& fault, std::ostream* out) { *out << fault.name << " breaks " << fault.breaks; }

namespace {

TEST_P(FaultKill, SuiteReportsTheBrokenRule) {
  const Fault& fault = GetParam();
  ASSERT_NE(testing::shipped_rules().find(fault.breaks), nullptr) << fault.name << " names unknown rule " << fault.breaks;
  RunOptions options;
  options.backend_options.fault = fault.name;
  options.rules_glob = fault.breaks;
  options.wait_timeout = Duration(0.5);  // waits that time out are the finding here
  RunResults results = testing::run_reference(options);
  ASSERT_EQ(results.rules.size(), 1u);
  EXPECT_EQ(results.rules[0].verdict, Verdict::Fail)
      << "fault " << fault.name << " (" << fault.description << ") should break " << fault.breaks << ", verdict "
      << to_string(results.rules[0].verdict) << ": " << results.rules[0].message;
}

INSTANTIATE_TEST_SUITE_P(Reference, FaultKill, ::testing::ValuesIn(reference_faults()),
                         [](const ::testing::TestParamInfo<Fault>& info) {
                           std::string name = info.param.name;
                           for (auto& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(FaultSwitch, OffByDefaultAndUnknownNamesRejected) {
  testing::ensure_backends();
  EXPECT_THROW(BackendRegistry::instance().create("reference", BackendOptions{"no-such-fault"}), std::invalid_argument);
  EXPECT_GE(reference_faults().size(), 15u);
}

}  // namespace
}  // namespace loopspec
