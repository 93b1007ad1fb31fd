// Write flow control of the libuv stream transport: the watermarks as
// kit::WriteFlow keeps them, with sizes that change only when libuv reports
// a write done.
#include <gtest/gtest.h>

#include "uv_test_support.hpp"

namespace loopspec::libuv {
namespace {

// The fixture's transport at the given limits, its peer not reading.
class UvFlow : public testing::PeerConnected {
 protected:
  void limit(std::int64_t high, std::int64_t low) {
    transport().set_write_buffer_limits(high, low);
    peer->stop_reading();
  }
};

TEST_F(UvFlow, PausesStrictlyOverHighAndResumesAtOrBelowLow) {
  // Rule: flow.pause.strictly-over-high
  // Rule: flow.resume.when-at-or-below-low
  limit(64 * 1024, 16 * 1024);
  std::uint64_t total = 0;
  const std::string chunk(16 * 1024, 'w');
  // Fill until the transport pauses us; each write is checked at once.
  while (protocol->sizes_at_pause.empty() && total < (64u << 20)) {
    transport().write(chunk);
    total += chunk.size();
    if (transport().get_write_buffer_size() == 0) runner.run_iterations(1);
  }
  ASSERT_EQ(protocol->sizes_at_pause.size(), 1u);
  EXPECT_GT(protocol->sizes_at_pause.front(), 64u * 1024);
  transport().write(chunk);  // paused protocols may still write; no second pause
  total += chunk.size();
  EXPECT_EQ(protocol->sizes_at_pause.size(), 1u);
  peer->resume_reading();
  ASSERT_TRUE(runner.run_until([&] { return !protocol->sizes_at_resume.empty(); }));
  EXPECT_LE(protocol->sizes_at_resume.front(), 16u * 1024);
  ASSERT_TRUE(runner.run_until([&] { return peer->snapshot().bytes_received == total; }));
  EXPECT_EQ(transport().get_write_buffer_size(), 0u);
  EXPECT_EQ(protocol->sizes_at_resume.size(), 1u);
}

TEST_F(UvFlow, WritingInsideResumeWritingKeepsTheOrder) {
  // Rule: write.data.in-order
  limit(32 * 1024, 8 * 1024);
  std::string expected;
  char next = 'a';
  auto write_chunk = [&] {
    std::string chunk(20000, next);
    next = next == 'z' ? 'a' : static_cast<char>(next + 1);
    expected += chunk;
    transport().write(chunk);
  };
  int resumes = 0;
  protocol->on_resume = [&] {
    if (++resumes < 4) for (int i = 0; i < 40; ++i) write_chunk();
  };
  while (protocol->sizes_at_pause.empty()) write_chunk();
  peer->resume_reading();
  // Whether a batch written from resume_writing pauses again depends on how fast the peer reads.
  auto settled = [&] { return protocol->sizes_at_pause.size() == protocol->sizes_at_resume.size(); };
  ASSERT_TRUE(runner.run_until([&] { return peer->snapshot().bytes_received == expected.size() && settled(); }))
      << "peer got " << peer->snapshot().bytes_received << " of " << expected.size() << ", " << resumes
      << " resumes, " << protocol->sizes_at_pause.size() << " pauses, buffer " << transport().get_write_buffer_size();
  EXPECT_EQ(peer->received(), expected);
}

TEST_F(UvFlow, LimitsAreValidatedAndLoweringThemPausesAtOnce) {
  // Rule: write.limits.validation
  // Rule: flow.limits.high-zero-pauses-non-empty
  EXPECT_EQ(transport().get_write_buffer_limits(), (WriteBufferLimits{16 * 1024, 64 * 1024}));
  EXPECT_THROW(transport().set_write_buffer_limits(100, 200), ContractError);
  EXPECT_THROW(transport().set_write_buffer_limits(-1), ContractError);
  EXPECT_EQ(transport().get_write_buffer_limits(), (WriteBufferLimits{16 * 1024, 64 * 1024}));
  peer->stop_reading();
  const std::string chunk(64 * 1024, 'z');
  while (transport().get_write_buffer_size() == 0) transport().write(chunk);
  transport().set_write_buffer_limits(0);  // pauses now unless the buffer was already over the old high
  EXPECT_EQ(transport().get_write_buffer_limits(), (WriteBufferLimits{0, 0}));
  EXPECT_EQ(protocol->sizes_at_pause.size(), 1u);
  peer->resume_reading();
  ASSERT_TRUE(runner.run_until([&] { return !protocol->sizes_at_resume.empty(); }));
  EXPECT_EQ(protocol->sizes_at_resume.front(), 0u);
}

}  // namespace
}  // namespace loopspec::libuv
