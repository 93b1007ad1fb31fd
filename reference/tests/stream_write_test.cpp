// The write side of the reference stream transport: write/writelines, the
// buffer, flow control, write buffer limits, write_eof, close and abort.
// The other end is a RawEnd the test drives; back-pressure is built by making
// it stop reading, and once the transport queues, later writes queue entirely
// (nothing is sent while the loop does not run), so sizes are exact.
#include <csignal>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loop_test_support.hpp"
#include "loopspec/reference/stream_transport.hpp"

namespace loopspec::reference {
namespace {

using testing::pattern;
using testing::RecordingProtocol;
using testing::Rig;

class StreamWrite : public ::testing::Test {
 protected:
  void SetUp() override { transport = rig.connect_pair(protocol); }

  Rig rig;
  std::shared_ptr<RecordingProtocol> protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  std::shared_ptr<Transport> transport;
};

TEST_F(StreamWrite, WriteIsSentAtOnceWhenNothingIsQueued) {
  // Rule: write.data.sends-immediately
  // Rule: write.data.in-order
  // Rule: write.buffer-size.reports-buffered
  transport->write("hello");
  EXPECT_EQ(transport->get_write_buffer_size(), 0u);
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->received.size() == 5; }));
  EXPECT_EQ(rig.raw->received, "hello");
}

TEST_F(StreamWrite, QueuedDataArrivesCompleteAndInOrder) {
  // Rule: write.data.in-order
  rig.raw->stop_reading();
  std::string expected;
  for (std::size_t i = 0; i < 200; ++i) {
    std::string chunk = pattern(1 + (i * 977) % 40000, i);
    expected += chunk;
    if (i % 3 == 0) {
      std::string_view halves[] = {std::string_view(chunk).substr(0, chunk.size() / 2),
                                   std::string_view(chunk).substr(chunk.size() / 2)};
      transport->writelines(halves);
    } else {
      transport->write(chunk);
    }
  }
  EXPECT_GT(transport->get_write_buffer_size(), 0u);
  rig.raw->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->received.size() == expected.size(); }));
  EXPECT_TRUE(rig.raw->received == expected);
  EXPECT_EQ(transport->get_write_buffer_size(), 0u);
}

TEST_F(StreamWrite, BufferSizeGrowsByWhatCouldNotBeSent) {
  // Rule: write.buffer-size.reports-buffered
  rig.raw->stop_reading();
  rig.fill_until_queued(*transport, 16 * 1024);
  std::size_t queued = transport->get_write_buffer_size();
  ASSERT_GT(queued, 0u);
  transport->write("abc");
  EXPECT_EQ(transport->get_write_buffer_size(), queued + 3);
  std::string_view pieces[] = {"de", "", "f"};
  transport->writelines(pieces);
  EXPECT_EQ(transport->get_write_buffer_size(), queued + 6);
  transport->write("");
  EXPECT_EQ(transport->get_write_buffer_size(), queued + 6);
  rig.raw->resume_reading();
  ASSERT_TRUE(
      rig.run_until([&] { return transport->get_write_buffer_size() == 0 && rig.raw->received.size() > queued; }));
}

TEST_F(StreamWrite, WritelinesIsEquivalentToWritingEachElement) {
  // Rule: write.writelines.equivalent
  std::vector<std::string> storage;
  std::vector<std::string_view> pieces;
  std::string expected;
  for (int i = 0; i < 300; ++i) {  // more pieces than one sendmsg gathers
    storage.push_back(i % 5 == 0 ? std::string() : pattern(1 + i * 13, i));
    expected += storage.back();
  }
  for (const auto& piece : storage) pieces.push_back(piece);
  rig.raw->stop_reading();
  transport->writelines(pieces);  // sent at once as far as the kernel takes it
  std::size_t filled = rig.fill_until_queued(*transport, 16 * 1024);
  transport->writelines(pieces);  // entirely queued
  rig.raw->resume_reading();
  std::size_t total = expected.size() * 2 + filled;
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->received.size() == total; }));
  EXPECT_TRUE(rig.raw->received.substr(0, expected.size()) == expected);
  EXPECT_TRUE(rig.raw->received.substr(total - expected.size()) == expected);
}

TEST_F(StreamWrite, WriteAfterWriteEofRaisesRuntimeError) {
  // Rule: write.data.after-write-eof
  // The documents are silent; the reference raises RuntimeError as asyncio does.
  transport->write_eof();
  try {
    transport->write("x");
    FAIL() << "write after write_eof did not raise";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "RuntimeError");
  }
  std::string_view pieces[] = {"x"};
  EXPECT_THROW(transport->writelines(pieces), ContractError);
}

TEST_F(StreamWrite, WriteAfterCloseIsDroppedSilently) {
  // Rule: write.data.after-close
  // The documents are silent; the reference drops the data (asyncio drops it
  // once connection_lost is scheduled, the reference from close() on).
  transport->close();
  EXPECT_NO_THROW(transport->write("late"));
  EXPECT_EQ(transport->get_write_buffer_size(), 0u);
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->eof; }));
  EXPECT_EQ(rig.raw->received, "");
}

// ---- flow control ----

TEST_F(StreamWrite, PauseOnlyWhenStrictlyOverHigh) {
  // Rule: flow.pause.strictly-over-high
  // Rule: flow.pause.when-over-high
  rig.raw->stop_reading();
  rig.fill_until_queued(*transport, 16 * 1024);
  std::size_t queued = transport->get_write_buffer_size();
  auto high = static_cast<std::int64_t>(queued + 100);
  transport->set_write_buffer_limits(high, 0);
  transport->write(std::string(100, 'x'));
  EXPECT_EQ(transport->get_write_buffer_size(), static_cast<std::size_t>(high));
  EXPECT_EQ(protocol->count("pause"), 0);
  transport->write("y");
  ASSERT_EQ(protocol->count("pause"), 1);
  EXPECT_EQ(protocol->sizes_at_pause[0], static_cast<std::size_t>(high + 1));
}

TEST_F(StreamWrite, PauseIsCalledOnceWhileOverHigh) {
  // Rule: flow.pairing.alternate
  rig.raw->stop_reading();
  rig.fill_until_queued(*transport, 16 * 1024);
  transport->set_write_buffer_limits(static_cast<std::int64_t>(transport->get_write_buffer_size()));
  for (int i = 0; i < 5; ++i) transport->write("more");
  EXPECT_EQ(protocol->count("pause"), 1);
}

TEST_F(StreamWrite, SetLimitsPausesAtOnceWhenAlreadyOverHigh) {
  // Rule: flow.pause.when-over-high
  rig.raw->stop_reading();
  rig.fill_until_queued(*transport, 16 * 1024);
  std::size_t queued = transport->get_write_buffer_size();
  transport->set_write_buffer_limits(static_cast<std::int64_t>(queued - 1));
  ASSERT_EQ(protocol->count("pause"), 1);
  EXPECT_EQ(protocol->sizes_at_pause[0], queued);
}

TEST_F(StreamWrite, ResumeWhenDrainedToLow) {
  // Rule: flow.resume.at-or-below-low
  // Rule: flow.resume.when-at-or-below-low
  rig.raw->stop_reading();
  std::size_t total = rig.fill_until_queued(*transport, 16 * 1024);
  std::string tail = pattern(200 * 1024, 3);
  transport->write(tail);
  total += tail.size();
  std::size_t queued = transport->get_write_buffer_size();
  auto high = static_cast<std::int64_t>(queued - 1);
  transport->set_write_buffer_limits(high, high / 2);
  ASSERT_EQ(protocol->count("pause"), 1);
  rig.raw->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return protocol->count("resume") == 1; }));
  EXPECT_LE(protocol->sizes_at_resume[0], static_cast<std::size_t>(high / 2));
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->received.size() == total; }));
  EXPECT_EQ(protocol->count("pause"), 1);
  EXPECT_EQ(protocol->count("resume"), 1);
}

TEST_F(StreamWrite, SetLimitsResumesAtOnceWhenAtOrBelowTheNewLow) {
  // Rule: flow.resume.when-at-or-below-low
  rig.raw->stop_reading();
  rig.fill_until_queued(*transport, 16 * 1024);
  auto queued = static_cast<std::int64_t>(transport->get_write_buffer_size());
  transport->set_write_buffer_limits(queued - 1);
  ASSERT_EQ(protocol->count("pause"), 1);
  transport->set_write_buffer_limits(queued, queued);
  ASSERT_EQ(protocol->count("resume"), 1);
  EXPECT_EQ(protocol->sizes_at_resume[0], static_cast<std::size_t>(queued));
}

TEST_F(StreamWrite, HighZeroPausesWhenTheBufferBecomesNonEmpty) {
  // Rule: flow.limits.high-zero-pauses-non-empty
  transport->set_write_buffer_limits(0);
  EXPECT_EQ(protocol->count("pause"), 0);
  rig.raw->stop_reading();
  rig.fill_until_queued(*transport, 16 * 1024);
  ASSERT_EQ(protocol->count("pause"), 1);
  EXPECT_GT(protocol->sizes_at_pause[0], 0u);
}

TEST_F(StreamWrite, LowZeroResumesOnlyWhenEmpty) {
  // Rule: flow.limits.low-zero-resumes-empty
  transport->set_write_buffer_limits(0);
  rig.raw->stop_reading();
  std::size_t total = rig.fill_until_queued(*transport, 16 * 1024);
  transport->write(pattern(300 * 1024));
  total += 300 * 1024;
  rig.raw->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return protocol->count("resume") == 1; }));
  EXPECT_EQ(protocol->sizes_at_resume[0], 0u);
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->received.size() == total; }));
}

TEST_F(StreamWrite, ProtocolMayWriteFromResumeWriting) {
  // Rule: write.data.in-order
  // Rule: flow.pairing.alternate
  rig.raw->stop_reading();
  std::size_t total = rig.fill_until_queued(*transport, 16 * 1024);
  transport->set_write_buffer_limits(static_cast<std::int64_t>(transport->get_write_buffer_size() - 1));
  ASSERT_EQ(protocol->count("pause"), 1);
  std::string expected_tail = "written from resume_writing";
  protocol->on_resume = [&] {
    if (protocol->count("resume") == 1) transport->write(expected_tail);
  };
  total += expected_tail.size();
  rig.raw->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->received.size() == total; }));
  EXPECT_EQ(rig.raw->received.substr(total - expected_tail.size()), expected_tail);
  EXPECT_EQ(protocol->count("resume"), 1);
}

// ---- write buffer limits ----

TEST_F(StreamWrite, DefaultLimitsAreAsyncios) {
  // Rule: write.limits.defaults
  EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{16 * 1024, 64 * 1024}));
}

TEST_F(StreamWrite, HighAloneSetsLowToAQuarter) {
  // Rule: write.limits.low-defaults-le-high
  transport->set_write_buffer_limits(1000);
  EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{250, 1000}));
}

TEST_F(StreamWrite, LowAloneSetsHighToFourTimes) {
  // Rule: write.limits.validation
  transport->set_write_buffer_limits(std::nullopt, 100);
  EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{100, 400}));
}

TEST_F(StreamWrite, BothLimitsAreKeptAsGiven) {
  // Rule: write.limits.get-returns-set
  transport->set_write_buffer_limits(100, 50);
  EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{50, 100}));
  transport->set_write_buffer_limits(7, 7);
  EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{7, 7}));
}

TEST_F(StreamWrite, HighZeroForcesLowZero) {
  // Rule: write.limits.high-zero-forces-low-zero
  transport->set_write_buffer_limits(0);
  EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{0, 0}));
}

TEST_F(StreamWrite, InvalidLimitsRaiseValueErrorAndChangeNothing) {
  // Rule: write.limits.validation
  transport->set_write_buffer_limits(100, 20);
  auto expect_value_error = [&](std::optional<std::int64_t> high, std::optional<std::int64_t> low) {
    try {
      transport->set_write_buffer_limits(high, low);
      ADD_FAILURE() << "no ValueError";
    } catch (const ContractError& e) {
      EXPECT_EQ(e.error().type, "ValueError");
    }
    EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{20, 100}));
  };
  expect_value_error(-1, std::nullopt);
  expect_value_error(std::nullopt, -1);
  expect_value_error(10, 20);
  expect_value_error(0, 1);
  expect_value_error(10, -1);
}

// ---- write_eof ----

TEST_F(StreamWrite, WriteEofFlushesThenShutsDown) {
  // Rule: write.eof.flushes-then-shuts-down
  // Rule: write.eof.can-write-eof-consistent
  EXPECT_TRUE(transport->can_write_eof());
  rig.raw->stop_reading();
  std::size_t total = rig.fill_until_queued(*transport, 16 * 1024);
  transport->write_eof();
  EXPECT_GT(transport->get_write_buffer_size(), 0u);
  rig.raw->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->eof; }));
  EXPECT_EQ(rig.raw->received.size(), total);
  EXPECT_FALSE(transport->is_closing());
}

TEST_F(StreamWrite, DataIsStillReceivedAfterWriteEof) {
  // Rule: write.eof.still-receives
  transport->write_eof();
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->eof; }));
  rig.raw->send("after eof");
  ASSERT_TRUE(rig.run_until([&] { return protocol->received == "after eof"; }));
  EXPECT_EQ(protocol->lost_count, 0);
}

// ---- close ----

TEST_F(StreamWrite, CloseFlushesThenLosesTheConnectionWithNone) {
  // Rule: transport.close.flushes-buffer
  // Rule: transport.close.connection-lost-after-flush
  // Rule: proto.connection-lost.none-on-close
  // Rule: transport.closing.after-close
  // Rule: transport.closing.false-while-open
  EXPECT_FALSE(transport->is_closing());
  rig.raw->stop_reading();
  std::size_t total = rig.fill_until_queued(*transport, 16 * 1024);
  std::size_t delivered_at_lost = 0;
  protocol->on_lost = [&] { delivered_at_lost = rig.raw->available(); };
  transport->close();
  EXPECT_TRUE(transport->is_closing());
  EXPECT_FALSE(transport->is_reading());
  EXPECT_EQ(protocol->lost_count, 0);
  rig.raw->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1 && rig.raw->eof; }));
  EXPECT_EQ(delivered_at_lost, total);
  EXPECT_FALSE(protocol->lost_error.has_value());
  std::string expected;
  while (expected.size() < total) expected += pattern(16 * 1024);
  EXPECT_TRUE(rig.raw->received == expected);
  EXPECT_TRUE(transport->is_closing());
}

TEST_F(StreamWrite, CloseIsIdempotentAndConnectionLostComesOnceFromTheLoop) {
  // Rule: proto.order.lost-once
  // Rule: proto.order.lost-exactly-once
  transport->close();
  transport->close();
  EXPECT_EQ(protocol->lost_count, 0);  // never re-entrantly from close()
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  transport->close();
  rig.runner.run_iterations(3);
  EXPECT_EQ(protocol->lost_count, 1);
  EXPECT_EQ(protocol->events.back(), "lost");
}

TEST_F(StreamWrite, NoDataIsReceivedAfterClose) {
  // Rule: transport.close.no-more-data
  rig.raw->send("unread");
  transport->close();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_EQ(protocol->count("data"), 0);
}

// ---- abort ----

TEST_F(StreamWrite, AbortDiscardsTheBufferAndLosesTheConnection) {
  // Rule: write.abort.discards-buffer
  // Rule: write.abort.connection-lost
  // Rule: proto.connection-lost.none-on-close
  rig.raw->stop_reading();
  std::size_t total = rig.fill_until_queued(*transport, 16 * 1024);
  transport->write(pattern(100 * 1024));
  total += 100 * 1024;
  transport->abort();
  EXPECT_EQ(transport->get_write_buffer_size(), 0u);
  EXPECT_TRUE(transport->is_closing());
  EXPECT_EQ(protocol->lost_count, 0);
  rig.raw->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1 && (rig.raw->eof || rig.raw->error != 0); }));
  EXPECT_LT(rig.raw->received.size(), total);
  EXPECT_FALSE(protocol->lost_error.has_value());
}

TEST_F(StreamWrite, CloseAfterAbortDoesNotLoseTwice) {
  // Rule: proto.order.lost-once
  transport->abort();
  transport->close();
  transport->abort();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  rig.runner.run_iterations(3);
  EXPECT_EQ(protocol->lost_count, 1);
}

TEST_F(StreamWrite, AbortWhileCloseIsFlushingEndsAtOnce) {
  // Rule: write.abort.discards-buffer
  rig.raw->stop_reading();
  rig.fill_until_queued(*transport, 16 * 1024);
  transport->close();
  transport->abort();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_FALSE(protocol->lost_error.has_value());
}

TEST_F(StreamWrite, WritingToAClosedPeerNeverRaisesSigpipe) {
  // Rule: proto.connection-lost.error-on-failure
  auto previous = std::signal(SIGPIPE, SIG_DFL);  // a SIGPIPE would kill the test binary
  protocol->keep_open_on_eof = true;
  rig.raw->close();
  ASSERT_TRUE(rig.run_until([&] { return protocol->eof_count == 1; }));
  transport->write("into the void");
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  std::signal(SIGPIPE, previous);
  ASSERT_TRUE(protocol->lost_error.has_value());
  EXPECT_EQ(protocol->lost_error->type, "BrokenPipeError");
}

TEST(StreamWriteTcp, PeerResetEndsTheConnectionWithConnectionResetError) {
  // Rule: proto.connection-lost.error-on-failure
  Rig rig;
  auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  auto transport = rig.connect_tcp(protocol);
  rig.raw->reset();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  ASSERT_TRUE(protocol->lost_error.has_value());
  EXPECT_EQ(protocol->lost_error->type, "ConnectionResetError");
  EXPECT_EQ(protocol->count("eof"), 0);
}

TEST(StreamWriteTcp, LargeTransferOverTcpArrivesInOrder) {
  // Rule: write.data.in-order
  Rig rig;
  auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  auto transport = rig.connect_tcp(protocol);
  std::string data = pattern(8 * 1024 * 1024, 11);
  for (std::size_t at = 0; at < data.size(); at += 100000) transport->write(std::string_view(data).substr(at, 100000));
  transport->write_eof();
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->eof; }, 30));
  EXPECT_TRUE(rig.raw->received == data);
}

}  // namespace
}  // namespace loopspec::reference
