// The streaming digest traces use to compare byte streams without keeping
// them. Harness machinery: no rule id.
#include "loopspec/digest.hpp"

#include <random>
#include <string>

#include <gtest/gtest.h>

namespace loopspec {
namespace {

// Harness machinery: the published FNV-1a 64 test vectors.
TEST(Digest, MatchesFnv1a64Vectors) {
  EXPECT_EQ(Digest::of(""), "cbf29ce484222325");
  EXPECT_EQ(Digest::of("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(Digest::of("foobar"), "85944171f73967e8");
  EXPECT_EQ(Digest().value(), 0xcbf29ce484222325ULL);
}

// Harness machinery: hex is always 16 lowercase digits, leading zeros kept.
TEST(Digest, HexIsSixteenLowercaseDigits) {
  for (const char* text : {"", "x", "hello world", "\0\0"}) {
    std::string hex = Digest::of(text);
    ASSERT_EQ(hex.size(), 16u);
    for (char c : hex) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << hex;
  }
}

// Harness machinery: the digest does not depend on how the stream is split.
TEST(Digest, SplitInvariant) {
  std::mt19937 random(12345);
  std::string data(4096, '\0');
  for (char& c : data) c = static_cast<char>(random());
  const std::string whole = Digest::of(data);
  for (int round = 0; round < 200; ++round) {
    Digest digest;
    std::size_t at = 0;
    while (at < data.size()) {
      std::size_t piece = std::uniform_int_distribution<std::size_t>(0, 300)(random);
      piece = std::min(piece, data.size() - at);
      digest.update(std::string_view(data).substr(at, piece));
      at += piece;
    }
    ASSERT_EQ(digest.hex(), whole) << "round " << round;
  }
}

// Harness machinery: different streams (even a reordering) give different digests.
TEST(Digest, DistinguishesOrder) {
  EXPECT_NE(Digest::of("ab"), Digest::of("ba"));
  EXPECT_NE(Digest::of(std::string("\0", 1)), Digest::of(""));
}

}  // namespace
}  // namespace loopspec
