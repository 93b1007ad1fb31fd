// Write flow control: the watermarks and the paused flag of one transport.
//
// Promises (asyncio's _FlowControlMixin, spec rules flow.* and write.limits.*):
// - Defaults high = 64 KiB, low = high / 4. set_limits(high) alone sets
//   low = high / 4; set_limits(low) alone sets high = 4 * low; so high = 0
//   forces low = 0. A negative value, or low > high, throws
//   ContractError(ValueError) and leaves the limits unchanged.
// - should_pause(size) answers true exactly when pause_writing must be called
//   now: size strictly over high and not already paused. It then counts the
//   protocol as paused, so pause and resume alternate.
// - should_resume(size) answers true exactly when resume_writing must be
//   called now: paused and size at or below low.
// The caller checks should_pause after every growth of its buffer and after
// set_limits, should_resume after every drain and after set_limits.
// - tell(protocol, size, call) does both checks and runs what they call for
//   (at most one of pause_writing and resume_writing: the size moves one way
//   per check) through call(name, callback), the transport's way of running
//   a protocol callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "loopspec/kit/faults.hpp"
#include "loopspec/transports.hpp"

namespace loopspec::kit {

class WriteFlow {
 public:
  static constexpr std::int64_t kDefaultHigh = 64 * 1024;

  explicit WriteFlow(const Faults& faults) : faults_(faults) {}

  void set_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low);
  WriteBufferLimits limits() const { return {low_, high_}; }
  bool paused() const { return paused_; }

  bool should_pause(std::size_t size);
  bool should_resume(std::size_t size);

  template <class P, class Call>
  void tell(P& protocol, std::size_t size, Call&& call) {
    if (should_pause(size)) {
      call("pause_writing", [&] { protocol.pause_writing(); });
    } else if (should_resume(size)) {
      call("resume_writing", [&] { protocol.resume_writing(); });
    }
  }

 private:
  const Faults& faults_;
  std::int64_t high_ = kDefaultHigh;
  std::int64_t low_ = kDefaultHigh / 4;
  bool paused_ = false;
};

}  // namespace loopspec::kit
