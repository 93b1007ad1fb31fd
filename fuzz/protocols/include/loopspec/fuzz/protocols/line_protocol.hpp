// Example protocol: newline-delimited lines, each echoed back.
//
// Logs "line:TEXT" per line (a "\r" before the "\n" dropped) and, at end of
// file, "partial:TEXT" for an unterminated last line. A line longer than
// kMaxLine bytes, terminated or not, logs "error: line too long" and closes
// the transport at once: the limit holds at the same byte whatever the reads.
#pragma once

#include <cstddef>

#include "loopspec/fuzz/split_invariance.hpp"

namespace loopspec::fuzz::protocols {

inline constexpr std::size_t kMaxLine = 256;

Subject line_subject();

}  // namespace loopspec::fuzz::protocols
