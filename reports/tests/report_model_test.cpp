// The merged view of several runs: labels, rows in document order,
// sections, baselines, per-scenario verdicts. Harness machinery test
// (report rendering; no contract rule).
#include "loopspec/reports/report_model.hpp"

#include <gtest/gtest.h>

#include "report_fixture.hpp"

namespace loopspec::reports {
namespace {

using testing::catalogue;

TEST(ReportModel, LabelsAreUniqueAndNameTheFault) {
  ReportModel model({{"a.json", testing::small_run("uv", false)},
                     {"b.json", testing::small_run("uv", true)},
                     {"c.json", testing::small_run("uv", false)}},
                    &catalogue(), "");
  ASSERT_EQ(model.runs().size(), 3u);
  EXPECT_EQ(model.runs()[0].label(), "uv");
  EXPECT_EQ(model.runs()[1].label(), "uv+fault pause-at-high");
  EXPECT_EQ(model.runs()[2].label(), "uv #2");
}

TEST(ReportModel, RowsFollowTheCatalogueOrderWhateverTheRunsOrder) {
  RunResults shuffled = testing::small_run("x", false);
  std::reverse(shuffled.rules.begin(), shuffled.rules.end());
  ReportModel model({{"x.json", shuffled}}, &catalogue(), "");
  std::size_t last = 0;
  for (const auto& row : model.rows()) {
    ASSERT_NE(row.rule, nullptr) << row.id;
    EXPECT_GE(row.rule->order, last) << row.id;
    last = row.rule->order;
  }
  ASSERT_FALSE(model.sections().empty());
  EXPECT_EQ(model.sections().front().name, "Introduction");
  std::size_t rows = 0;
  for (const auto& s : model.sections()) rows += s.rows.size();
  EXPECT_EQ(rows, model.rows().size());
}

TEST(ReportModel, UnknownRulesKeepTheirPlaceAndTheUnionIsTaken) {
  RunResults a = testing::small_run("a", false);
  a.rules.insert(a.rules.begin() + 1, testing::rule_outcome("synth.only.in-a", "Introduction", Verdict::Pass, {}));
  RunResults b = testing::small_run("b", false);
  b.rules.push_back(testing::rule_outcome("synth.only.in-b", "Elsewhere", Verdict::Fail, {}));
  ReportModel model({{"a.json", a}, {"b.json", b}}, &catalogue(), "");
  std::vector<std::string> ids;
  for (const auto& row : model.rows()) ids.push_back(row.id);
  ASSERT_EQ(ids.size(), a.rules.size() + 1);
  EXPECT_EQ(ids[0], "loop.pairing.one-to-one");
  EXPECT_EQ(ids[1], "synth.only.in-a");
  // It followed flow.pause.when-over-high in its run, and stays right after it.
  auto known = std::find(ids.begin(), ids.end(), "flow.pause.when-over-high");
  ASSERT_NE(known, ids.end());
  ASSERT_NE(known + 1, ids.end());
  EXPECT_EQ(*(known + 1), "synth.only.in-b");
  EXPECT_EQ(model.runs()[0].rule("synth.only.in-b"), nullptr);
}

TEST(ReportModel, AMissingCatalogueIsSaidNotFatal) {
  ReportModel model({{"a.json", testing::small_run("a", false)}}, nullptr, "spec/rules: field '(directory)': no *.yaml");
  EXPECT_EQ(model.catalogue(), nullptr);
  EXPECT_EQ(model.catalogue_problem(), "spec/rules: field '(directory)': no *.yaml");
  for (const auto& row : model.rows()) EXPECT_EQ(row.rule, nullptr);
  EXPECT_EQ(model.rows().front().title, "title of loop.pairing.one-to-one");
}

TEST(ReportModel, BaselinesMatchByBackendName) {
  ReportModel model({{"now.json", testing::small_run("uv", true)}, {"other.json", testing::small_run("asio", false)}},
                    &catalogue(), "", {{"old.json", testing::small_run("uv", false)}});
  ASSERT_TRUE(model.runs()[0].baseline().has_value());
  EXPECT_FALSE(model.runs()[1].baseline().has_value());
  const auto& cmp = *model.runs()[0].baseline();
  ASSERT_FALSE(cmp.changes().empty());
  EXPECT_EQ(cmp.changes().front().change, Change::NewFailure);
  EXPECT_EQ(cmp.count(Change::NewFailure), 3u);  // FAIL, ERROR and the NON-STRICT known deviation

  EXPECT_THROW(ReportModel({{"now.json", testing::small_run("uv", true)}}, &catalogue(), "",
                           {{"old.json", testing::small_run("asio", false)}}),
               ReportError);
  try {
    ReportModel({{"now.json", testing::small_run("uv", true)}}, &catalogue(), "",
                {{"old1.json", testing::small_run("uv", false)}, {"old2.json", testing::small_run("uv", false)}});
    FAIL() << "two baselines for one backend accepted";
  } catch (const ReportError& e) {
    EXPECT_NE(std::string(e.what()).find("old2.json: a second baseline for backend 'uv'"), std::string::npos) << e.what();
  }
}

TEST(ReportModel, CaseVerdictsComeFromTheScenariosChecks) {
  RunResults r = testing::small_run("x", true);
  ReportModel model({{"x.json", r}}, &catalogue(), "");
  const ReportRun& run = model.runs()[0];
  const ScenarioOutcome* flow = run.scenario("stream.flow.exactly-high-then-over[tcp]");
  const ScenarioOutcome* eof = run.scenario("stream.eof.true-keeps-half-open[unix]");
  ASSERT_TRUE(flow && eof);
  CaseVerdict fail = case_verdict(*run.rule("flow.pause.strictly-over-high"), *flow);
  EXPECT_EQ(fail.verdict, Verdict::Fail);
  EXPECT_FALSE(fail.expected);
  EXPECT_NE(fail.message.find("observed pause_writing"), std::string::npos);
  CaseVerdict held = case_verdict(*run.rule("write.limits.defaults"), *flow);  // no check: the checker watched
  EXPECT_EQ(held.verdict, Verdict::Info);                                      // an INFO rule that held
  CaseVerdict error = case_verdict(*run.rule("proto.eof.at-most-once"), *eof);
  EXPECT_EQ(error.verdict, Verdict::Error);
  EXPECT_EQ(error.message, eof->error);
}

}  // namespace
}  // namespace loopspec::reports
