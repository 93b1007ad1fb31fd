// Two recorded traces of one scenario run, from two runs, aligned step by
// step: where do the two loops first behave differently, and what happens
// from there on.
//
// Two events are the same step when they have the same connection, kind and
// name, the same returned value and the same exception class; sizes,
// digests and transport state may differ between backends without the
// traces diverging (data chunking is theirs to choose).
//
// Promises: both traces are followed from the first absolute position both
// hold; every step before `divergence` is the same in both. From the first
// divergence on, the steps are a shortest edit script over at most
// `lookahead` events of each side: events both have are paired again,
// differing events face each other, and an event only one side has faces a
// gap, so one extra callback shows as one row, not as every later row
// differing. A trace that ended while the other went on diverges there,
// unless the kept trace was cut (then nothing is claimed past its end).
// Work and memory are bounded by lookahead², whatever the traces' lengths.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "loopspec/reports/trace_view.hpp"
#include "loopspec/trace.hpp"

namespace loopspec::reports {

bool same_step(const Event& a, const Event& b);

// One row of an alignment: indices into each trace's events; one of them is
// absent when that side has no counterpart (a gap).
struct AlignedStep {
  std::optional<std::size_t> left;
  std::optional<std::size_t> right;
  bool same = false;
};

class StepAlignment {
 public:
  StepAlignment(const KeptTrace& left, const KeptTrace& right, std::size_t lookahead = 256);

  // The absolute position (in both whole traces) the alignment starts at.
  std::size_t start() const { return start_; }
  // The index of the first step that is not the same in both; nullopt when
  // the traces take the same steps over everything compared.
  std::optional<std::size_t> divergence() const { return divergence_; }
  // Steps aligned: the common beginning, then the edit script.
  std::size_t size() const { return common_ + tail_.size(); }
  AlignedStep step(std::size_t index) const;
  // Whether events after the last step were left unaligned (lookahead).
  bool cut() const { return cut_; }

 private:
  std::size_t start_ = 0;
  std::size_t left_begin_ = 0;   // index in left.events of the start
  std::size_t right_begin_ = 0;
  std::size_t common_ = 0;
  std::optional<std::size_t> divergence_;
  std::vector<AlignedStep> tail_;
  bool cut_ = false;
};

}  // namespace loopspec::reports
