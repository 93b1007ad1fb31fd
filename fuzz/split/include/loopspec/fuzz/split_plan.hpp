// How one fuzz input delivers its payload: the fixed header of a
// split-invariance input.
//
// Layout (kHeaderSize bytes, little-endian, then the payload, untouched):
//   0..3   seed of the fuzzer-chosen splits
//   4..5   largest chunk of those splits (0 counts as 1)
//   6..11  three get_buffer size hints, used in turn (0xffff: -1, "no hint")
//   12..13 payload offset at which the application pauses reading (0xffff: never)
//   14     deliveries the application lets pass while paused before it resumes (mod 4)
//   15     bit 0: end of file follows the payload
// Promise: every byte string parses; one shorter than the header is a
// header of zeros followed by no payload, so no input is rejected.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace loopspec::fuzz {

struct SplitPlan {
  static constexpr std::size_t kHeaderSize = 16;
  static constexpr std::uint16_t kNever = 0xffff;

  std::uint32_t seed = 0;
  std::size_t max_chunk = 1;
  std::array<std::int64_t, 3> size_hints{};
  std::size_t pause_at = kNever;
  int resume_after = 0;
  bool eof = false;
  std::string_view payload;

  static SplitPlan parse(std::span<const std::uint8_t> input);

  // The fuzzer-chosen chunk sizes: deterministic in seed, each in [1, max_chunk], summing to the payload's size.
  std::vector<std::size_t> fuzzed_chunks() const;
};

}  // namespace loopspec::fuzz
