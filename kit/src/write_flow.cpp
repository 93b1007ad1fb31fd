#include "loopspec/kit/write_flow.hpp"

#include <limits>
#include <string>

#include "loopspec/error.hpp"

namespace loopspec::kit {

void WriteFlow::set_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t new_high = high ? *high : low ? (*low > kMax / 4 ? kMax : 4 * *low) : kDefaultHigh;
  std::int64_t new_low = low ? *low : new_high / 4;
  // Fault: high-zero-keeps-low
  bool keep_old_low = faults_.high_zero_keeps_low && high && *high == 0 && !low;
  if (keep_old_low) new_low = low_;

  bool negative = new_high < 0 || new_low < 0;
  // Fault: limits-unchecked (and high-zero-keeps-low, whose kept low may exceed 0)
  bool order_checked = !faults_.limits_unchecked && !keep_old_low;
  if (negative || (order_checked && new_low > new_high)) {
    throw ContractError(
        Error{"ValueError", 0,
              "high (" + std::to_string(new_high) + ") must be >= low (" + std::to_string(new_low) + ") must be >= 0"});
  }
  high_ = new_high;
  low_ = new_low;
}

bool WriteFlow::should_pause(std::size_t size) {
  auto bytes = static_cast<std::int64_t>(size);
  // Fault: pause-at-high
  bool over = faults_.pause_at_high ? bytes >= high_ : bytes > high_;
  if (!over) return false;
  // Fault: never-pause
  if (faults_.never_pause) return false;
  // Fault: pause-repeated
  if (paused_ && !faults_.pause_repeated) return false;
  paused_ = true;
  return true;
}

bool WriteFlow::should_resume(std::size_t size) {
  if (!paused_) return false;
  auto bytes = static_cast<std::int64_t>(size);
  bool drained = bytes <= low_;
  // Fault: resume-below-low
  if (faults_.resume_below_low) drained = bytes < low_;
  // Fault: resume-early
  if (faults_.resume_early) drained = bytes <= high_;
  if (!drained) return false;
  paused_ = false;
  return true;
}

}  // namespace loopspec::kit
