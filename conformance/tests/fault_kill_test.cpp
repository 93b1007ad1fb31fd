// Suite strength: every deliberate deviation of an in-process backend's fault
// switch (the reference loop's, the libuv loop's, the Asio loop's) is caught — the suite
// reports FAIL for the rule the deviation breaks. Each case runs the
// scenarios that exercise that rule, as
// `loopspec run --backend BACKEND --fault NAME --rules RULE` would.
#include <gtest/gtest.h>

#include "suite_support.hpp"

namespace loopspec {
namespace {

std::vector<Fault> backend_faults(const std::string& backend) {
  testing::ensure_backends();
  return BackendRegistry::instance().create(backend, {})->info().faults;
}

std::vector<Fault> reference_faults() { return backend_faults("reference"); }

struct BackendFault {
  std::string backend;
  Fault fault;
};

std::vector<BackendFault> faults_of(const std::string& backend) {
  std::vector<BackendFault> cases;
  for (auto& fault : backend_faults(backend)) cases.push_back(BackendFault{backend, std::move(fault)});
  return cases;
}

// Names the case in test listings instead of dumping the struct's bytes.
void PrintTo(const BackendFault& param, std::ostream* out) {
  *out << param.backend << ": " << param.fault.name << " breaks " << param.fault.breaks;
}

class FaultKill : public ::testing::TestWithParam<BackendFault> {};

TEST_P(FaultKill, SuiteReportsTheBrokenRule) {
  const Fault& fault = GetParam().fault;
  ASSERT_NE(testing::shipped_rules().find(fault.breaks), nullptr) << fault.name << " names unknown rule " << fault.breaks;
  RunOptions options;
  options.backend = GetParam().backend;
  options.backend_options.fault = fault.name;
  options.rules_glob = fault.breaks;
  options.wait_timeout = Duration(0.5);  // waits that time out are the finding here
  RunResults results = testing::run_reference(options);
  ASSERT_EQ(results.rules.size(), 1u);
  EXPECT_EQ(results.rules[0].verdict, Verdict::Fail)
      << "fault " << fault.name << " (" << fault.description << ") should break " << fault.breaks << ", verdict "
      << to_string(results.rules[0].verdict) << ": " << results.rules[0].message;
}

// The fault's name alone: the backend is the instantiation's prefix (Reference/..., Libuv/..., Asio/...).
std::string case_name(const ::testing::TestParamInfo<BackendFault>& info) {
  std::string name = info.param.fault.name;
  for (auto& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Reference, FaultKill, ::testing::ValuesIn(faults_of("reference")), case_name);
#ifdef LOOPSPEC_HAVE_LIBUV
INSTANTIATE_TEST_SUITE_P(Libuv, FaultKill, ::testing::ValuesIn(faults_of("libuv")), case_name);
#endif
#ifdef LOOPSPEC_HAVE_ASIO
INSTANTIATE_TEST_SUITE_P(Asio, FaultKill, ::testing::ValuesIn(faults_of("asio")), case_name);
#endif

TEST(FaultSwitch, OffByDefaultAndUnknownNamesRejected) {
  testing::ensure_backends();
  EXPECT_THROW(BackendRegistry::instance().create("reference", BackendOptions{"no-such-fault"}), std::invalid_argument);
  EXPECT_GE(reference_faults().size(), 15u);
}

#ifdef LOOPSPEC_HAVE_LIBUV
TEST(FaultSwitch, LibuvOffersOnlyTheFaultsItsCodeConsults) {
  testing::ensure_backends();
  // A catalogue fault the libuv transports do not consult is refused, not silently ignored.
  EXPECT_THROW(BackendRegistry::instance().create("libuv", BackendOptions{"data-after-eof"}), std::invalid_argument);
  EXPECT_GE(backend_faults("libuv").size(), 3u);
}
#endif

#ifdef LOOPSPEC_HAVE_ASIO
TEST(FaultSwitch, AsioOffersOnlyTheFaultsItsCodeConsults) {
  testing::ensure_backends();
  // A catalogue fault the Asio transports do not consult is refused, not silently ignored.
  EXPECT_THROW(BackendRegistry::instance().create("asio", BackendOptions{"data-after-eof"}), std::invalid_argument);
  EXPECT_GE(backend_faults("asio").size(), 3u);
}
#endif

}  // namespace
}  // namespace loopspec
