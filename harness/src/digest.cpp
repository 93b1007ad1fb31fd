#include "loopspec/digest.hpp"

namespace loopspec {

namespace {
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
}

// FNV-1a folds one byte at a time into the state, so any split of the stream
// into update() calls gives the same value.
void Digest::update(std::string_view data) noexcept {
  std::uint64_t state = state_;
  for (unsigned char byte : data) {
    state ^= byte;
    state *= kFnvPrime;
  }
  state_ = state;
}

std::string Digest::hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  std::uint64_t value = state_;
  for (int i = 15; i >= 0; --i) {
    text[static_cast<std::size_t>(i)] = kDigits[value & 0xf];
    value >>= 4;
  }
  return text;
}

std::string Digest::of(std::string_view data) {
  Digest digest;
  digest.update(data);
  return digest.hex();
}

}  // namespace loopspec
