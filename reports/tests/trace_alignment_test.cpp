// Two traces of one scenario run aligned step by step: the first
// divergence, re-alignment after it, gaps for events one side lacks, cut
// kept traces. Harness machinery test (report rendering; no contract rule).
#include "loopspec/reports/trace_alignment.hpp"

#include <gtest/gtest.h>

#include "report_fixture.hpp"

namespace loopspec::reports {
namespace {

KeptTrace trace(std::size_t events, std::size_t violation) {
  return read_kept_trace(testing::make_trace(events, violation, "b", "s[tcp]"), "test");
}

Event callback(std::uint64_t seq, const std::string& name) {
  Event e;
  e.seq = seq;
  e.conn = 1;
  e.kind = EventKind::Callback;
  e.name = name;
  return e;
}

// A trace of callbacks with these names, in this order.
KeptTrace named(const std::vector<std::string>& names) {
  KeptTrace t;
  for (std::size_t i = 0; i < names.size(); ++i) t.events.push_back(callback(i, names[i]));
  t.complete = true;
  return t;
}

std::string describe(const StepAlignment& a, const KeptTrace& l, const KeptTrace& r) {
  std::string out;
  for (std::size_t k = 0; k < a.size(); ++k) {
    AlignedStep s = a.step(k);
    out += (s.left ? l.events[*s.left].name : "-") + "/" + (s.right ? r.events[*s.right].name : "-") +
           (s.same ? "" : "*") + " ";
  }
  return out;
}

TEST(TraceAlignment, IdenticalTracesDoNotDiverge) {
  KeptTrace a = trace(100, 40);
  StepAlignment same(a, a);
  EXPECT_EQ(same.divergence(), std::nullopt);
  EXPECT_EQ(same.size(), 100u);
  EXPECT_FALSE(same.cut());
  // Sizes and transport state may differ without a divergence.
  KeptTrace sized = a;
  sized.events[10].size = 12345;
  sized.events[10].state->write_buffer_size = 1;
  EXPECT_EQ(StepAlignment(a, sized).divergence(), std::nullopt);
}

TEST(TraceAlignment, ADifferingStepIsTheFirstDivergence) {
  KeptTrace a = trace(100, 40);
  KeptTrace b = trace(100, 60);
  StepAlignment steps(a, b);
  ASSERT_EQ(steps.divergence(), std::optional<std::size_t>(40));
  AlignedStep first = steps.step(40);
  ASSERT_TRUE(first.left && first.right);
  EXPECT_FALSE(first.same);
  EXPECT_EQ(a.events[*first.left].name, "pause_writing");
  EXPECT_EQ(b.events[*first.right].name, "get_write_buffer_size");
  EXPECT_TRUE(steps.step(41).same);  // the traces agree again after it
}

TEST(TraceAlignment, AnExtraEventFacesAGapAndTheRestRealigns) {
  KeptTrace once = named({"connection_made", "data_received", "eof_received", "connection_lost"});
  KeptTrace twice = named({"connection_made", "data_received", "eof_received", "eof_received", "connection_lost"});
  StepAlignment steps(once, twice);
  EXPECT_EQ(steps.divergence(), std::optional<std::size_t>(3));
  EXPECT_EQ(describe(steps, once, twice),
            "connection_made/connection_made data_received/data_received eof_received/eof_received "
            "-/eof_received* connection_lost/connection_lost ");
}

TEST(TraceAlignment, DifferentEventsFaceEachOtherThenGaps) {
  KeptTrace a = named({"connection_made", "eof_received", "connection_lost"});
  KeptTrace b = named({"connection_made", "data_received", "data_received", "connection_lost"});
  StepAlignment steps(a, b);
  EXPECT_EQ(steps.divergence(), std::optional<std::size_t>(1));
  EXPECT_EQ(describe(steps, a, b),
            "connection_made/connection_made eof_received/data_received* -/data_received* "
            "connection_lost/connection_lost ");
}

TEST(TraceAlignment, ATraceThatEndsEarlyDivergesWhereItEnds) {
  KeptTrace whole = named({"connection_made", "data_received", "connection_lost"});
  KeptTrace shorter = named({"connection_made", "data_received"});
  StepAlignment steps(shorter, whole);
  EXPECT_EQ(steps.divergence(), std::optional<std::size_t>(2));
  EXPECT_EQ(describe(steps, shorter, whole), "connection_made/connection_made data_received/data_received -/connection_lost* ");
  // A kept trace cut at its end claims nothing past it.
  KeptTrace cut = shorter;
  cut.omitted = 5;
  StepAlignment unknown(cut, whole);
  EXPECT_EQ(unknown.divergence(), std::nullopt);
  EXPECT_TRUE(unknown.cut());
}

TEST(TraceAlignment, KeptWindowsAreFollowedFromWhereBothBegin) {
  KeptTrace a = read_kept_trace(testing::make_trace(5000, 3000, "a", "s"), "a");  // events 1000..4999
  KeptTrace b = read_kept_trace(testing::make_trace(5000, 2500, "b", "s"), "b");  // events 500..4499
  ASSERT_EQ(a.first_event, 1000u);
  ASSERT_EQ(b.first_event, 500u);
  StepAlignment steps(a, b);
  EXPECT_EQ(steps.start(), 1000u);
  ASSERT_TRUE(steps.divergence().has_value());
  AlignedStep first = steps.step(*steps.divergence());
  ASSERT_TRUE(first.left && first.right);
  EXPECT_EQ(a.events[*first.left].seq, 2500u);  // b's pause_writing, where a only writes on
  EXPECT_EQ(b.events[*first.right].seq, 2500u);
}

TEST(TraceAlignment, TheLookaheadBoundsTheWork) {
  std::vector<std::string> left(2000, "data_received"), right(2000, "data_received");
  left[0] = "eof_received";
  for (std::size_t i = 1000; i < 2000; ++i) right[i] = "buffer_updated";
  KeptTrace a = named(left), b = named(right);
  StepAlignment steps(a, b, 64);
  EXPECT_EQ(steps.divergence(), std::optional<std::size_t>(0));
  EXPECT_TRUE(steps.cut());
  EXPECT_LE(steps.size(), 128u);
}

}  // namespace
}  // namespace loopspec::reports
