// Write flow control on the stream transport: the watermarks (kit::WriteFlow)
// against the queue the transport keeps. Each test names the rule it checks.
#include <gtest/gtest.h>

#include "asio_test_support.hpp"

namespace loopspec::asio {
namespace {

using testing::bytes_of;
using testing::StreamWithPeer;
using testing::wait_for;

using AsioFlowControl = StreamWithPeer;

TEST_F(AsioFlowControl, PausesOnlyStrictlyOverHighAndResumesAtOrBelowLow) {
  // Rule: flow.pause.strictly-over-high
  transport().set_write_buffer_limits(64 * 1024, 16 * 1024);
  peer->stop_reading();
  std::string data = bytes_of(4 * 1024 * 1024);
  for (std::size_t at = 0; at < data.size(); at += 8192) transport().write(std::string_view(data).substr(at, 8192));
  ASSERT_EQ(protocol->count("pause"), 1);
  for (std::size_t size : protocol->buffered_at_pause) EXPECT_GT(size, 64u * 1024);
  peer->resume_reading();
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->count("resume") == 1; }));
  for (std::size_t size : protocol->buffered_at_resume) EXPECT_LE(size, 16u * 1024);  // flow.resume.at-or-below-low
  ASSERT_TRUE(peer_has(data.size()));
  EXPECT_EQ(peer->received(), data);
}

TEST_F(AsioFlowControl, LimitsAreCheckedAndHighZeroForcesLowZero) {
  // Rule: write.limits.validation
  EXPECT_THROW(transport().set_write_buffer_limits(-1, std::nullopt), ContractError);
  EXPECT_THROW(transport().set_write_buffer_limits(10, 20), ContractError);
  EXPECT_EQ(transport().get_write_buffer_limits(), (WriteBufferLimits{16 * 1024, 64 * 1024}));  // write.limits.defaults
  transport().set_write_buffer_limits(0, std::nullopt);
  EXPECT_EQ(transport().get_write_buffer_limits(), (WriteBufferLimits{0, 0}));  // write.limits.high-zero-forces-low-zero
}

TEST_F(AsioFlowControl, HighZeroPausesAsSoonAsAnythingIsQueued) {
  // Rule: flow.limits.high-zero-pauses-non-empty
  transport().set_write_buffer_limits(0, std::nullopt);
  peer->stop_reading();
  std::string data = bytes_of(8 * 1024 * 1024);
  transport().write(data);
  ASSERT_GT(transport().get_write_buffer_size(), 0u);
  EXPECT_EQ(protocol->count("pause"), 1);
  peer->resume_reading();
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->count("resume") == 1; }));
  EXPECT_EQ(protocol->buffered_at_resume, (std::vector<std::size_t>{0}));  // flow.limits.low-zero-resumes-empty
}

TEST_F(AsioFlowControl, BufferSizeCountsEveryByteNotYetWritten) {
  // Rule: write.buffer-size.reports-buffered
  peer->stop_reading();
  std::string data = bytes_of(3 * 1024 * 1024);
  transport().write(data);
  std::size_t queued = transport().get_write_buffer_size();
  ASSERT_GT(queued, 0u);
  transport().write("tail");
  EXPECT_EQ(transport().get_write_buffer_size(), queued + 4);
  peer->resume_reading();
  ASSERT_TRUE(wait_for(loop, [&] { return transport().get_write_buffer_size() == 0; }));
  ASSERT_TRUE(peer_has(data.size() + 4));
}

}  // namespace
}  // namespace loopspec::asio
