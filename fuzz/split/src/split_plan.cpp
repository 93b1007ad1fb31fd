#include "loopspec/fuzz/split_plan.hpp"

#include <algorithm>

namespace loopspec::fuzz {

namespace {

std::uint16_t u16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>(bytes[at] | (bytes[at + 1] << 8));
}

}  // namespace

SplitPlan SplitPlan::parse(std::span<const std::uint8_t> input) {
  SplitPlan plan;
  if (input.size() < kHeaderSize) return plan;
  plan.seed = static_cast<std::uint32_t>(input[0]) | (static_cast<std::uint32_t>(input[1]) << 8) |
              (static_cast<std::uint32_t>(input[2]) << 16) | (static_cast<std::uint32_t>(input[3]) << 24);
  plan.max_chunk = std::max<std::size_t>(1, u16(input, 4));
  for (std::size_t i = 0; i < plan.size_hints.size(); ++i) {
    std::uint16_t hint = u16(input, 6 + 2 * i);
    plan.size_hints[i] = hint == kNever ? -1 : hint;
  }
  plan.pause_at = u16(input, 12);
  plan.resume_after = input[14] % 4;
  plan.eof = (input[15] & 1) != 0;
  auto payload = input.subspan(kHeaderSize);
  plan.payload = std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size());
  return plan;
}

std::vector<std::size_t> SplitPlan::fuzzed_chunks() const {
  // splitmix64: a fixed generator, so a saved crash input replays the same splits anywhere.
  std::uint64_t state = seed;
  auto next = [&state] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::vector<std::size_t> chunks;
  for (std::size_t left = payload.size(); left > 0;) {
    std::size_t size = std::min<std::size_t>(left, 1 + next() % max_chunk);
    chunks.push_back(size);
    left -= size;
  }
  return chunks;
}

}  // namespace loopspec::fuzz
