// The rules the streaming checker monitors, as one table indexed by an enum
// so that per-connection bookkeeping is an array, not a map of strings.
// Promise: kCheckerRules lists exactly the checker-monitored ids of the rules
// catalogue, each with the profiles it holds for.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace loopspec::checking {

enum class CheckedRule : std::uint8_t {
  MadeFirst,
  MadeOnce,
  LostOnce,
  LostLast,
  DataNonEmpty,
  DataNotAfterEof,
  EofAtMostOnce,
  UpdatedAfterGetBuffer,
  NbytesWithinBuffer,
  ZeroSizeBufferError,
  PauseStrictlyOverHigh,
  PauseWhenOverHigh,
  PauseResumeAlternate,
  ResumeAtOrBelowLow,
  ResumeWhenAtOrBelowLow,
  LimitsValidation,
  HighZeroForcesLowZero,
  LowDefaultsAtMostHigh,
  LimitsGetReturnsSet,
  ClosingAfterClose,
  NoDataWhileReadingPaused,
  IsReadingReflectsState,
  PauseReadingIdempotent,
  ResumeReadingIdempotent,
  CanWriteEofConsistent,
  AbortThenConnectionLost,
  None,  // no rule: an allowed transition
};

inline constexpr std::size_t kRuleCount = static_cast<std::size_t>(CheckedRule::None);

struct RuleInfo {
  CheckedRule rule;
  std::string_view id;
  bool since_3_8;             // not part of the 3.4.3 profile (as the catalogue's revisions say)
  std::string_view expected;  // what the rule wants, for violations the order machine finds
};

inline constexpr std::array<RuleInfo, kRuleCount> kCheckerRules{{
    {CheckedRule::MadeFirst, "proto.order.made-first", false, "connection_made as the first callback"},
    {CheckedRule::MadeOnce, "proto.order.made-once", false, "connection_made at most once"},
    {CheckedRule::LostOnce, "proto.order.lost-once", false, "connection_lost at most once"},
    {CheckedRule::LostLast, "proto.order.lost-last", false, "no callback after connection_lost"},
    {CheckedRule::DataNonEmpty, "proto.data.non-empty", false, "data_received with non-empty data"},
    {CheckedRule::DataNotAfterEof, "proto.data.not-after-eof", false, "no data callback after eof_received"},
    {CheckedRule::EofAtMostOnce, "proto.eof.at-most-once", false, "eof_received at most once"},
    {CheckedRule::UpdatedAfterGetBuffer, "buffered.order.updated-after-get-buffer", true,
     "buffer_updated only directly after get_buffer returned, once"},
    {CheckedRule::NbytesWithinBuffer, "buffered.buffer.nbytes-within-buffer", true,
     "0 < nbytes <= size of the buffer get_buffer returned"},
    {CheckedRule::ZeroSizeBufferError, "buffered.get-buffer.zero-size-error", true,
     "no buffer_updated for a zero-size buffer (it is an error)"},
    {CheckedRule::PauseStrictlyOverHigh, "flow.pause.strictly-over-high", false,
     "pause_writing only when write_buffer_size > high"},
    {CheckedRule::PauseWhenOverHigh, "flow.pause.when-over-high", false,
     "pause_writing as soon as write_buffer_size > high"},
    {CheckedRule::PauseResumeAlternate, "flow.pairing.alternate", false,
     "pause_writing and resume_writing alternate, starting with pause_writing"},
    {CheckedRule::ResumeAtOrBelowLow, "flow.resume.at-or-below-low", false,
     "resume_writing only when write_buffer_size <= low"},
    {CheckedRule::ResumeWhenAtOrBelowLow, "flow.resume.when-at-or-below-low", false,
     "resume_writing as soon as write_buffer_size <= low"},
    {CheckedRule::LimitsValidation, "write.limits.validation", false,
     "ValueError exactly for negative limits or low > high"},
    {CheckedRule::HighZeroForcesLowZero, "write.limits.high-zero-forces-low-zero", false,
     "low == 0 after set_write_buffer_limits(high=0)"},
    {CheckedRule::LowDefaultsAtMostHigh, "write.limits.low-defaults-le-high", false,
     "low <= high after set_write_buffer_limits(high=H)"},
    {CheckedRule::LimitsGetReturnsSet, "write.limits.get-returns-set", false,
     "the limits set by set_write_buffer_limits(high, low)"},
    {CheckedRule::ClosingAfterClose, "transport.closing.after-close", true, "is_closing() true after close()/abort()"},
    {CheckedRule::NoDataWhileReadingPaused, "read.pause.no-data-while-paused", false,
     "no data callback between pause_reading() and resume_reading()"},
    {CheckedRule::IsReadingReflectsState, "read.is-reading.reflects-state", true,
     "is_reading() false while paused, true after resume_reading()"},
    {CheckedRule::PauseReadingIdempotent, "read.pause.idempotent", true,
     "pause_reading() when paused or closing does not raise"},
    {CheckedRule::ResumeReadingIdempotent, "read.resume.idempotent", true,
     "resume_reading() when not paused or closing does not raise"},
    {CheckedRule::CanWriteEofConsistent, "write.eof.can-write-eof-consistent", false,
     "write_eof() raises NotImplementedError exactly when can_write_eof() is false"},
    {CheckedRule::AbortThenConnectionLost, "write.abort.connection-lost", false, "connection_lost after abort()"},
}};

constexpr const RuleInfo& info(CheckedRule rule) { return kCheckerRules[static_cast<std::size_t>(rule)]; }

// The table is indexed by the enum: each row must sit at its own index.
constexpr bool rules_in_enum_order() {
  for (std::size_t i = 0; i < kRuleCount; ++i) {
    if (static_cast<std::size_t>(kCheckerRules[i].rule) != i) return false;
  }
  return true;
}
static_assert(rules_in_enum_order(), "kCheckerRules must list the rules in enum order");

}  // namespace loopspec::checking
