// A streaming 64-bit digest of bytes (FNV-1a), printed as 16 hex digits.
// Promise: the digest of a byte stream does not depend on how it is split
// into update() calls, so peers, traces and protocols can compare what they
// sent and received without keeping the bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace loopspec {

class Digest {
 public:
  void update(std::string_view data) noexcept;
  std::uint64_t value() const noexcept { return state_; }
  std::string hex() const;
  static std::string of(std::string_view data);

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

}  // namespace loopspec
