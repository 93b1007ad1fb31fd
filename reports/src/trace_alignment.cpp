#include "loopspec/reports/trace_alignment.hpp"

#include <algorithm>
#include <cstdint>

namespace loopspec::reports {

bool same_step(const Event& a, const Event& b) {
  auto error_type = [](const Event& e) { return e.error ? e.error->type : std::string(); };
  return a.conn == b.conn && a.kind == b.kind && a.name == b.name && a.value == b.value &&
         error_type(a) == error_type(b);
}

namespace {

bool holds_its_end(const KeptTrace& t) { return t.first_event + t.events.size() == t.total(); }

}  // namespace

StepAlignment::StepAlignment(const KeptTrace& left, const KeptTrace& right, std::size_t lookahead) {
  start_ = std::max(left.first_event, right.first_event);
  left_begin_ = std::min(start_ - left.first_event, left.events.size());
  right_begin_ = std::min(start_ - right.first_event, right.events.size());
  const std::size_t left_n = left.events.size() - left_begin_;
  const std::size_t right_n = right.events.size() - right_begin_;
  auto l = [&](std::size_t i) -> const Event& { return left.events[left_begin_ + i]; };
  auto r = [&](std::size_t j) -> const Event& { return right.events[right_begin_ + j]; };

  while (common_ < left_n && common_ < right_n && same_step(l(common_), r(common_))) ++common_;
  bool left_done = common_ == left_n;
  bool right_done = common_ == right_n;
  if (left_done && right_done) {
    cut_ = !holds_its_end(left) || !holds_its_end(right);
    return;
  }
  // One kept trace ends here but the recorded one went on: nothing is known past it.
  if ((left_done && !holds_its_end(left)) || (right_done && !holds_its_end(right))) {
    cut_ = true;
    return;
  }
  divergence_ = common_;

  // A shortest edit script over what follows, within the lookahead: the
  // longest common subsequence by a suffix table, walked from the front.
  const std::size_t la = std::min(lookahead, left_n - common_);
  const std::size_t lb = std::min(lookahead, right_n - common_);
  cut_ = la < left_n - common_ || lb < right_n - common_;
  const std::size_t width = lb + 1;
  std::vector<std::uint16_t> lcs((la + 1) * width, 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint16_t& { return lcs[i * width + j]; };
  for (std::size_t i = la; i-- > 0;) {
    for (std::size_t j = lb; j-- > 0;) {
      at(i, j) = same_step(l(common_ + i), r(common_ + j)) ? static_cast<std::uint16_t>(at(i + 1, j + 1) + 1)
                                                           : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  // Events only one side has, between two matches: the first ones of each
  // side face each other (a step that differs), the rest face gaps.
  std::vector<std::size_t> only_left, only_right;
  auto flush = [&] {
    std::size_t paired = std::min(only_left.size(), only_right.size());
    for (std::size_t k = 0; k < paired; ++k) tail_.push_back({only_left[k], only_right[k], false});
    for (std::size_t k = paired; k < only_left.size(); ++k) tail_.push_back({only_left[k], std::nullopt, false});
    for (std::size_t k = paired; k < only_right.size(); ++k) tail_.push_back({std::nullopt, only_right[k], false});
    only_left.clear();
    only_right.clear();
  };
  std::size_t i = 0, j = 0;
  while (i < la || j < lb) {
    if (i < la && j < lb && same_step(l(common_ + i), r(common_ + j))) {
      flush();
      tail_.push_back({left_begin_ + common_ + i, right_begin_ + common_ + j, true});
      ++i, ++j;
    } else if (i < la && j < lb && at(i + 1, j + 1) == at(i, j)) {
      // Skipping both loses no match: two steps that differ, facing each
      // other (without this, equal-length scripts could shift whole runs).
      only_left.push_back(left_begin_ + common_ + i++);
      only_right.push_back(right_begin_ + common_ + j++);
    } else if (j == lb || (i < la && at(i + 1, j) >= at(i, j + 1))) {
      only_left.push_back(left_begin_ + common_ + i++);
    } else {
      only_right.push_back(right_begin_ + common_ + j++);
    }
  }
  flush();
}

AlignedStep StepAlignment::step(std::size_t index) const {
  if (index < common_) return {left_begin_ + index, right_begin_ + index, true};
  return tail_[index - common_];
}

}  // namespace loopspec::reports
