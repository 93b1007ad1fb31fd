// Reading kept traces back, windows around a violation, describing events.
// Harness machinery test (report rendering; no contract rule).
#include "loopspec/reports/trace_view.hpp"

#include <gtest/gtest.h>

#include "report_fixture.hpp"

namespace loopspec::reports {
namespace {

TEST(TraceView, ReadsAKeptTraceWithItsPosition) {
  KeptTrace t = read_kept_trace(testing::make_trace(5000, 3000, "b", "s[tcp]"), "test");
  ASSERT_TRUE(t.problem.empty()) << t.problem;
  EXPECT_EQ(t.events.size(), 4000u);
  EXPECT_EQ(t.first_event, 1000u);
  EXPECT_EQ(t.omitted, 1000u);
  EXPECT_EQ(t.total(), 5000u);
  ASSERT_TRUE(t.index_of_seq(3000).has_value());
  EXPECT_EQ(t.events[*t.index_of_seq(3000)].name, "pause_writing");
  EXPECT_FALSE(t.index_of_seq(10).has_value());
}

TEST(TraceView, AMalformedTraceIsAProblemNotACrash) {
  nlohmann::json bad = testing::make_trace(10, 5, "b", "s");
  bad["events"][3]["kind"] = "teleport";
  KeptTrace t = read_kept_trace(bad, "results.json: s[tcp]");
  EXPECT_TRUE(t.events.empty());
  EXPECT_NE(t.problem.find("kind"), std::string::npos) << t.problem;
  EXPECT_NE(read_kept_trace(nlohmann::json::array(), "x").problem, "");
  nlohmann::json unordered = testing::make_trace(10, 5, "b", "s");
  unordered["events"][4]["seq"] = 1;
  EXPECT_NE(read_kept_trace(unordered, "x").problem.find("seq"), std::string::npos);
}

TEST(TraceView, WindowsKeepTheFocusInView) {
  EXPECT_EQ(window_around(10, 5, 100).begin, 0u);
  EXPECT_EQ(window_around(10, 5, 100).end, 10u);
  Window w = window_around(1000, 500, 100);
  EXPECT_EQ(w.begin, 475u);  // a quarter before
  EXPECT_EQ(w.end, 575u);
  EXPECT_EQ(window_around(1000, 990, 100).end, 1000u);
  EXPECT_EQ(window_around(1000, 990, 100).begin, 900u);
  EXPECT_EQ(window_around(1000, std::nullopt, 100).begin, 900u);  // no focus: the end
  EXPECT_EQ(fold_point(Window{0, 100}, 50, 8), 42u);
  EXPECT_EQ(fold_point(Window{0, 100}, 5, 8), 0u);
  EXPECT_EQ(fold_point(Window{0, 100}, std::nullopt, 40), 60u);
}

TEST(TraceView, DescribesArgumentsAndState) {
  Event e;
  e.kind = EventKind::Call;
  e.name = "set_write_buffer_limits";
  e.high = 100;
  e.error = Error{"ValueError", 0, "high must be >= low"};
  e.state = TransportState{5, 10, 100, false, true};
  EXPECT_EQ(describe_arguments(e), "high=100 low=None error=ValueError: high must be >= low");
  EXPECT_EQ(state_buffer(e), "5");
  EXPECT_EQ(state_limits(e), "10/100");
  EXPECT_EQ(state_flag(e.state->reading), "yes");
  EXPECT_EQ(state_flag(std::nullopt), "");
}

}  // namespace
}  // namespace loopspec::reports
