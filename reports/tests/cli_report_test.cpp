// `loopspec report` and the report `loopspec run` writes: exit statuses,
// errors naming the bad field, the files written. Harness machinery test
// (report rendering; no contract rule).
#include <fstream>

#include <gtest/gtest.h>

#include "process.hpp"
#include "report_fixture.hpp"

namespace loopspec::reports {
namespace {

namespace fs = std::filesystem;

testing::Ran loopspec(std::vector<std::string> args) {
  args.insert(args.begin(), LOOPSPEC_BINARY);
  return testing::run_program(std::move(args));
}

fs::path results_file(const fs::path& dir, const std::string& name, const RunResults& results) {
  fs::path p = dir / name;
  write_results(results, p);
  return p;
}

fs::path text_file(const fs::path& dir, const std::string& name, const std::string& text) {
  fs::path p = dir / name;
  std::ofstream(p) << text;
  return p;
}

nlohmann::json as_json(const RunResults& r) { return to_json(r); }

TEST(ReportCommand, WritesTheThreeFilesForSeveralRunsAndABaseline) {
  fs::path dir = testing::output_dir("cli-ok");
  auto a = results_file(dir, "a.json", testing::small_run("reference", false));
  auto b = results_file(dir, "b.json", testing::small_run("reference", true));
  auto c = results_file(dir, "c.json", testing::small_run("asio", false));
  auto ran = loopspec({"report", a.string(), b.string(), c.string(), "--out", (dir / "out").string(), "--baseline", a.string()});
  ASSERT_EQ(ran.status, 0) << ran.output;
  EXPECT_NE(ran.output.find("report of 3 runs"), std::string::npos) << ran.output;
  for (const char* f : {"index.html", "junit.xml", "summary.md"}) EXPECT_TRUE(fs::is_regular_file(dir / "out" / f)) << f;
  std::ifstream md(dir / "out" / "summary.md");
  std::string summary((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(summary.find("### Against the baseline"), std::string::npos) << summary;
}

TEST(ReportCommand, MalformedOrForeignInputExitsTwoNamingTheField) {
  fs::path dir = testing::output_dir("cli-bad");
  auto expect_error = [&](const fs::path& file, const std::string& message) {
    auto ran = loopspec({"report", file.string(), "--out", (dir / "out").string()});
    EXPECT_EQ(ran.status, 2) << ran.output;
    EXPECT_NE(ran.output.find(message), std::string::npos) << "want: " << message << "\ngot: " << ran.output;
  };
  nlohmann::json bad_verdict = as_json(testing::small_run("x", false));
  bad_verdict["rules"][3]["verdict"] = "MAYBE";
  expect_error(text_file(dir, "verdict.json", bad_verdict.dump()),
               "verdict.json: field '/rules/3/verdict': unknown verdict 'MAYBE'");
  nlohmann::json bad_type = as_json(testing::small_run("x", false));
  bad_type["scenarios"][0]["checks"][0]["seq"] = "soon";
  expect_error(text_file(dir, "type.json", bad_type.dump()), "field '/scenarios/0/checks/0/seq': expected a number");
  nlohmann::json no_backend = as_json(testing::small_run("x", false));
  no_backend.erase("backend");
  expect_error(text_file(dir, "missing.json", no_backend.dump()), "field '/backend': missing");
  expect_error(text_file(dir, "foreign.json", R"({"format": "junit", "version": 1})"),
               "foreign.json: field '/format': not a loopspec results file");
  nlohmann::json future = as_json(testing::small_run("x", false));
  future["version"] = 99;
  expect_error(text_file(dir, "future.json", future.dump()), "field '/version': unsupported version 99");
  expect_error(text_file(dir, "garbage.json", "{\"format\": "), "garbage.json: invalid JSON");
  expect_error(dir / "absent.json", "absent.json: cannot open");
  EXPECT_FALSE(fs::exists(dir / "out" / "index.html"));
}

TEST(ReportCommand, BadArgumentsExitTwo) {
  fs::path dir = testing::output_dir("cli-args");
  auto a = results_file(dir, "a.json", testing::small_run("reference", false));
  auto other = results_file(dir, "other.json", testing::small_run("asio", false));
  EXPECT_EQ(loopspec({"report", "--out", dir.string()}).status, 2);  // no results file
  EXPECT_EQ(loopspec({"report", a.string()}).status, 2);             // no --out
  auto unmatched = loopspec({"report", a.string(), "--out", (dir / "out").string(), "--baseline", other.string()});
  EXPECT_EQ(unmatched.status, 2);
  EXPECT_NE(unmatched.output.find("baseline backend 'asio' matches none of the runs"), std::string::npos) << unmatched.output;
}

TEST(ReportCommand, AnUnavailableCatalogueIsSaidInThePage) {
  fs::path dir = testing::output_dir("cli-no-catalogue");
  auto a = results_file(dir, "a.json", testing::small_run("reference", true));
  auto ran = loopspec({"report", a.string(), "--out", (dir / "out").string(), "--spec", (dir / "no-such-dir").string()});
  ASSERT_EQ(ran.status, 0) << ran.output;
  EXPECT_NE(ran.output.find("report without quotes"), std::string::npos) << ran.output;
  std::ifstream in(dir / "out" / "index.html");
  std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("id=\"catalogue-missing\""), std::string::npos);
  EXPECT_NE(html.find("Quote unavailable"), std::string::npos);
}

TEST(ReportCommand, RunWritesAReportUnlessTold) {
  fs::path dir = testing::output_dir("cli-run");
  auto with = loopspec({"run", "--backend", "reference", "--scenarios", "stream.flow.exactly-high-then-over", "--quiet",
                        "--out", (dir / "with").string()});
  ASSERT_NE(with.status, 2) << with.output;
  EXPECT_TRUE(fs::is_regular_file(dir / "with" / "report" / "index.html")) << with.output;
  EXPECT_TRUE(fs::is_regular_file(dir / "with" / "report" / "junit.xml"));
  EXPECT_NE(with.output.find("report: " + (dir / "with" / "report" / "index.html").string()), std::string::npos) << with.output;
  auto without = loopspec({"run", "--backend", "reference", "--scenarios", "stream.flow.exactly-high-then-over", "--quiet",
                           "--no-report", "--out", (dir / "without").string()});
  ASSERT_NE(without.status, 2) << without.output;
  EXPECT_TRUE(fs::is_regular_file(dir / "without" / "results.json"));
  EXPECT_FALSE(fs::exists(dir / "without" / "report"));
}

}  // namespace
}  // namespace loopspec::reports
