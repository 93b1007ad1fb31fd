// JUnit XML: one suite per run, one case per (rule, scenario run), outcomes
// as `loopspec run`'s exit status counts them, checked against a strict
// schema check (check_junit.py). Harness machinery test (report rendering;
// no contract rule).
#include "loopspec/reports/junit_report.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "process.hpp"
#include "report_fixture.hpp"

namespace loopspec::reports {
namespace {

namespace fs = std::filesystem;

const RuleCatalogue& catalogue() {
  static const RuleCatalogue rules = RuleCatalogue::load(RuleCatalogue::default_directory());
  return rules;
}

std::string junit_of_two_runs() {
  ReportModel model({{"clean.json", testing::small_run("reference", false)}, {"faulty.json", testing::small_run("reference", true)}},
                    &catalogue(), "");
  return render_junit(model);
}

std::string testcase(const std::string& xml, const std::string& suite, const std::string& classname, const std::string& name) {
  auto s = xml.find("<testsuite name=\"" + suite + "\"");
  auto c = xml.find("<testcase classname=\"" + classname + "\" name=\"" + name + "\"", s);
  if (s == std::string::npos || c == std::string::npos) return {};
  auto end = xml.find("\n    <testcase", c + 1);
  return xml.substr(c, end == std::string::npos ? std::string::npos : end - c);
}

TEST(Junit, OutcomesFollowTheExitStatus) {
  std::string xml = junit_of_two_runs();
  std::string suite = "reference+fault pause-at-high";
  std::string fail = testcase(xml, suite, "flow.pause.strictly-over-high", "stream.flow.exactly-high-then-over[tcp]");
  EXPECT_NE(fail.find("<failure message=\"FAIL: flow.pause.strictly-over-high at event 41 (conn 1): expected"),
            std::string::npos) << fail;
  EXPECT_NE(fail.find("type=\"FAIL\""), std::string::npos);
  std::string error = testcase(xml, suite, "proto.eof.at-most-once", "stream.eof.true-keeps-half-open[unix]");
  EXPECT_NE(error.find("<error message=\"ERROR: timeout: the scenario did not end within 30 s\" type=\"ERROR\">"),
            std::string::npos) << error;
  std::string known = testcase(xml, suite, "flow.pause.when-over-high", "stream.flow.exactly-high-then-over[tcp]");
  EXPECT_NE(known.find("<skipped message=\"known deviation, NON-STRICT"), std::string::npos) << known;
  std::string unsupported = testcase(xml, suite, "transport.hierarchy.datagram", "(no scenario)");
  EXPECT_NE(unsupported.find("<skipped message=\"UNSUPPORTED\"/>"), std::string::npos) << unsupported;
  std::string info = testcase(xml, suite, "write.limits.defaults", "stream.flow.exactly-high-then-over[tcp]");
  EXPECT_NE(info.find("<system-out>INFO"), std::string::npos) << info;
  std::string pass = testcase(xml, "reference", "flow.pause.strictly-over-high", "stream.flow.exactly-high-then-over[tcp]");
  EXPECT_NE(pass.find("time=\"0.012\"/>"), std::string::npos) << pass;
  EXPECT_NE(xml.find("<testsuites name=\"loopspec\" tests=\"12\" failures=\"1\" errors=\"1\" skipped=\"3\""), std::string::npos)
      << xml.substr(0, 200);
}

TEST(Junit, PassesTheStrictSchemaCheckAndTheCheckCatchesBreakage) {
  std::string python = testing::find_program({"python3"});
  if (python.empty()) GTEST_SKIP() << "python3 is not installed: the JUnit schema check needs it";
  fs::path dir = testing::output_dir("junit");
  auto check = [&](const std::string& name, const std::string& xml) {
    std::ofstream(dir / name, std::ios::binary) << xml;
    return testing::run_program({python, REPORTS_TEST_DIR "/check_junit.py", (dir / name).string()});
  };
  std::string xml = junit_of_two_runs();
  auto ok = check("junit.xml", xml);
  EXPECT_EQ(ok.status, 0) << ok.output;

  auto broken = [&](const std::string& from, const std::string& to) {
    std::string copy = xml;
    auto at = copy.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) copy.replace(at, from.size(), to);
    return check("broken.xml", copy);
  };
  EXPECT_EQ(broken("failures=\"1\"", "failures=\"2\"").status, 1);              // counts do not add up
  EXPECT_EQ(broken("<skipped message=\"UNSUPPORTED\"/>", "<skipped message=\"<\"/>").status, 1);  // not well-formed
  EXPECT_EQ(broken("type=\"FAIL\"", "kind=\"FAIL\"").status, 1);                // unknown attribute
  EXPECT_EQ(broken("<properties>", "<properties><bogus/>").status, 1);          // unknown element
  EXPECT_EQ(broken("time=\"0.012\"", "time=\"soon\"").status, 1);               // not a number
  EXPECT_EQ(broken("UNSUPPORTED", "\xFF").status, 1);                           // not UTF-8
}

}  // namespace
}  // namespace loopspec::reports
