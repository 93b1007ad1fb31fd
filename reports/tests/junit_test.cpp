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

using testing::catalogue;

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
  EXPECT_NE(info.find("time=\"0.012\"/>"), std::string::npos) << info;  // passes; what was observed is in <system-out>
  EXPECT_NE(xml.find("<system-out>write.limits.defaults stream.flow.exactly-high-then-over[tcp]: INFO"), std::string::npos);
  std::string pass = testcase(xml, "reference", "flow.pause.strictly-over-high", "stream.flow.exactly-high-then-over[tcp]");
  EXPECT_NE(pass.find("time=\"0.012\"/>"), std::string::npos) << pass;
  EXPECT_NE(xml.find("<testsuite name=\"reference+fault pause-at-high\" package=\"loopspec\" id=\"1\" hostname=\"localhost\" "
                     "timestamp=\"2026-11-21T20:00:00\" tests=\"6\" failures=\"1\" errors=\"1\" skipped=\"2\""),
            std::string::npos)
      << xml.substr(0, 600);
}

// check_junit.py: each file is valid under junit.xsd (the intersection of
// the Ant and Jenkins JUnit schemas, checked by xmllint) and its counts add
// up. Exit 3: it cannot check (no python3 or no xmllint).
testing::Ran check_junit(const std::vector<fs::path>& files) {
  std::string python = testing::find_program({"python3"});
  if (python.empty()) return {3, "python3 is not installed"};
  std::vector<std::string> args{python, REPORTS_TEST_DIR "/check_junit.py"};
  for (const auto& f : files) args.push_back(f.string());
  return testing::run_program(args);
}

TEST(Junit, PassesTheStrictSchemaCheckAndTheCheckCatchesBreakage) {
  fs::path dir = testing::output_dir("junit");
  std::string xml = junit_of_two_runs();
  std::ofstream(dir / "junit.xml", std::ios::binary) << xml;
  // Each broken copy, with what breaks it; checked in one call.
  const std::vector<std::pair<std::string, std::string>> breakages{
      // What the schema says.
      {"<testsuites>", "<testsuites tests=\"12\">"},                      // Ant: no attributes on the root
      {" hostname=\"localhost\"", ""},                                    // a required attribute missing
      {"type=\"FAIL\"", "kind=\"FAIL\""},                                // an unknown attribute
      {"<properties>", "<properties><bogus/>"},                            // an unknown element
      {"time=\"0.012\"/>", "time=\"0.012\"><system-out/></testcase>"},   // Ant: only the outcome in a case
      {"    <system-err></system-err>\n", ""},                             // Ant: <system-err> is required
      {"time=\"0.012\"", "time=\"soon\""},                                // not a number
      {"timestamp=\"2026-11-21T20:00:00\"", "timestamp=\"2026-11-21T20:00:00Z\""},  // a zone
      // What only the check says.
      {"failures=\"1\"", "failures=\"2\""},                               // counts do not add up
      {"<failure message=\"FAIL: flow", "<failure x=\""},                   // a failure without a message
      {"<skipped message=\"UNSUPPORTED\"/>", "<skipped message=\"<\"/>"},  // not well-formed
      {"UNSUPPORTED", "\xFF"},                                             // not UTF-8
  };
  std::vector<fs::path> files{dir / "junit.xml"};
  for (std::size_t i = 0; i < breakages.size(); ++i) {
    std::string copy = xml;
    auto at = copy.find(breakages[i].first);
    ASSERT_NE(at, std::string::npos) << breakages[i].first;
    copy.replace(at, breakages[i].first.size(), breakages[i].second);
    files.push_back(dir / ("broken-" + std::to_string(i) + ".xml"));
    std::ofstream(files.back(), std::ios::binary) << copy;
  }
  auto checked = check_junit(files);
  if (checked.status == 3) GTEST_SKIP() << checked.output << " (scripts/install-deps.sh installs python3 and libxml2-utils)";
  EXPECT_EQ(checked.status, 1) << checked.output;
  EXPECT_NE(checked.output.find((dir / "junit.xml").string() + ": valid: 2 suites, 12 tests"), std::string::npos)
      << checked.output;
  for (std::size_t i = 0; i < breakages.size(); ++i) {
    EXPECT_NE(checked.output.find(files[i + 1].string() + ": invalid JUnit XML"), std::string::npos)
        << "not caught: " << breakages[i].first << " -> " << breakages[i].second << "\n" << checked.output;
  }
}

TEST(Junit, AForeignStartTimeStillGivesAValidTimestamp) {
  RunResults odd = testing::small_run("reference", true);
  odd.started = "yesterday";
  ReportModel model({{"odd.json", odd}}, &catalogue(), "");
  std::string xml = render_junit(model);
  EXPECT_NE(xml.find("timestamp=\"1970-01-01T00:00:00\""), std::string::npos);
  EXPECT_NE(xml.find("<property name=\"started\" value=\"yesterday\"/>"), std::string::npos);
  fs::path file = testing::output_dir("junit-odd") / "junit.xml";
  std::ofstream(file, std::ios::binary) << xml;
  auto checked = check_junit({file});
  if (checked.status == 3) GTEST_SKIP() << checked.output;
  EXPECT_EQ(checked.status, 0) << checked.output;
}

}  // namespace
}  // namespace loopspec::reports
