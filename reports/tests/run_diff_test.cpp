// Two runs side by side: the rules whose verdicts differ, and every
// scenario run traced in both aligned, PASS or not, from results.json or
// from the traces `loopspec run --traces` wrote. Harness machinery test
// (report rendering; no contract rule).
#include "loopspec/reports/run_diff.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "process.hpp"
#include "report_fixture.hpp"

namespace loopspec::reports {
namespace {

namespace fs = std::filesystem;

using testing::catalogue;

// Writes a kept trace as `loopspec run --traces` does: DIR/traces/KEY.jsonl.
void write_trace_file(const fs::path& dir, const std::string& key, const nlohmann::json& kept) {
  fs::create_directories(dir / "traces");
  std::ofstream out(dir / "traces" / (key + ".jsonl"));
  out << kept["header"].dump() << '\n';
  for (const auto& e : kept["events"]) out << e.dump() << '\n';
}

TEST(RunDiff, ComparesEveryRunWithTheFirstAndAlignsSharedTraces) {
  RunResults a = testing::small_run("a", true);
  RunResults b = testing::small_run("b", true);
  b.scenarios[0].trace = testing::make_trace(60, 30, "b", b.scenarios[0].key());
  b.rules[0].verdict = Verdict::Untested;
  ReportModel model({{"a.json", a}, {"b.json", b}}, &catalogue(), "");
  auto diffs = compare_runs(model);
  ASSERT_EQ(diffs.size(), 1u);
  ASSERT_EQ(diffs[0].rules.size(), 1u);
  EXPECT_EQ(model.rows()[diffs[0].rules[0].row].id, a.rules[0].id);
  ASSERT_EQ(diffs[0].traces.size(), 1u);
  const TraceAlignment& t = diffs[0].traces[0];
  EXPECT_EQ(t.divergence, std::optional<std::size_t>(30));
  EXPECT_EQ(t.left_origin, "results.json");
  EXPECT_EQ(t.left_verdict, Verdict::Fail);
  // The excerpt: six steps of context, then the divergence.
  ASSERT_FALSE(t.rows.empty());
  EXPECT_EQ(t.rows.front().step, 24u);
  EXPECT_TRUE(t.rows.front().same);
  EXPECT_FALSE(t.rows[6].same);
  EXPECT_EQ(t.rows[6].step, 30u);
  EXPECT_EQ(diffs[0].untraced, 1u);  // the ERROR scenario run kept no trace
}

TEST(RunDiff, ScenarioRunsThatPassInBothAreAlignedFromTheirTraceFiles) {
  fs::path dir = testing::output_dir("run-diff-traces");
  RunResults a = testing::small_run("a", false);
  RunResults b = testing::small_run("b", false);
  const std::string key = a.scenarios[0].key();
  ASSERT_EQ(a.scenarios[0].verdict, Verdict::Pass);
  ASSERT_EQ(b.scenarios[0].verdict, Verdict::Pass);
  // Both pass, yet b pauses the writer at another point.
  write_trace_file(dir / "a", key, testing::make_trace(80, 50, "a", key));
  write_trace_file(dir / "b", key, testing::make_trace(80, 20, "b", key));
  write_results(a, dir / "a" / "results.json");
  write_results(b, dir / "b" / "results.json");
  ReportModel model({{(dir / "a" / "results.json").string(), a}, {(dir / "b" / "results.json").string(), b}},
                    &catalogue(), "");
  auto diffs = compare_runs(model);
  ASSERT_EQ(diffs.size(), 1u);
  ASSERT_EQ(diffs[0].traces.size(), 1u);
  const TraceAlignment& t = diffs[0].traces[0];
  EXPECT_EQ(t.scenario, key);
  EXPECT_EQ(t.divergence, std::optional<std::size_t>(20));
  EXPECT_EQ(t.left_origin, (dir / "a" / "traces" / (key + ".jsonl")).string());
  EXPECT_EQ(t.left_events, 80u);
  EXPECT_EQ(diffs[0].untraced, 1u);  // the other scenario run has no trace file
}

TEST(RunDiff, AnUnreadableTraceIsSaidNotFatal) {
  RunResults a = testing::small_run("a", true);
  RunResults b = testing::small_run("b", true);
  b.scenarios[0].trace["events"][3]["kind"] = "teleport";
  ReportModel model({{"a.json", a}, {"b.json", b}}, &catalogue(), "");
  RunDiff diff = compare_pair(model, model.runs()[0], model.runs()[1]);
  ASSERT_EQ(diff.traces.size(), 1u);
  EXPECT_NE(diff.traces[0].problem.find("kind"), std::string::npos) << diff.traces[0].problem;
  EXPECT_FALSE(diff.traces[0].divergence.has_value());
}

}  // namespace
}  // namespace loopspec::reports
