// The read side of the reference stream transport: data_received, the
// BufferedProtocol path, EOF, pause_reading/resume_reading, protocol
// exceptions and set_protocol. Over a Unix socketpair, bytes the RawEnd sends
// are in the transport's receive queue when send() returns, so a few loop
// iterations are enough to prove that nothing is delivered.
#include <string>

#include <gtest/gtest.h>

#include "loop_test_support.hpp"
#include "loopspec/reference/stream_transport.hpp"

namespace loopspec::reference {
namespace {

using testing::pattern;
using testing::RecordingBufferedProtocol;
using testing::RecordingProtocol;
using testing::Rig;

class StreamRead : public ::testing::Test {
 protected:
  void SetUp() override { transport = rig.connect_pair(protocol); }

  Rig rig;
  std::shared_ptr<RecordingProtocol> protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  std::shared_ptr<Transport> transport;
};

TEST(StreamSetupOrder, ConnectionMadeComesFirstOnceAndBeforeDone) {
  // Rule: proto.order.made-first
  // Rule: proto.order.made-once
  Rig rig;
  auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  rig.raw = testing::RawEnd::adopt(rig.loop, rig.runner, fds[1]);
  rig.raw->send("early bytes");
  int made_at_done = -1;
  bool done_inside_call = true;
  rig.loop.connect_accepted_socket([&] { return protocol; }, fds[0], {},
                                   [&](Outcome<Transport> outcome) {
                                     ASSERT_TRUE(outcome.ok());
                                     made_at_done = protocol->made_count;
                                     rig.runner.notify();
                                   });
  done_inside_call = made_at_done != -1;
  EXPECT_FALSE(done_inside_call);
  ASSERT_TRUE(rig.run_until([&] { return protocol->received == "early bytes"; }));
  EXPECT_EQ(made_at_done, 1);
  EXPECT_EQ(protocol->events.front(), "made");
  EXPECT_EQ(protocol->made_count, 1);
}

TEST_F(StreamRead, DataArrivesInOrderAndNeverEmpty) {
  // Rule: proto.data.in-order
  // Rule: proto.data.non-empty
  // Rule: proto.data.chunking
  std::string data = pattern(1024 * 1024, 5);
  for (std::size_t at = 0; at < data.size(); at += 7000) rig.raw->send(std::string_view(data).substr(at, 7000));
  ASSERT_TRUE(rig.run_until([&] { return protocol->received.size() == data.size(); }));
  EXPECT_TRUE(protocol->received == data);
  for (std::size_t size : protocol->chunk_sizes) {
    EXPECT_GT(size, 0u);
    EXPECT_LE(size, EpollLoop::kReadBufferSize);
  }
}

TEST_F(StreamRead, EofReturningFalseClosesWithNone) {
  // Rule: proto.eof.on-peer-shutdown
  // Rule: proto.eof.false-closes
  // Rule: proto.connection-lost.none-on-close
  // Rule: proto.data.not-after-eof
  // Rule: proto.order.lost-last
  rig.raw->send("abc");
  rig.raw->shutdown_write();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1 && rig.raw->eof; }));
  EXPECT_EQ(protocol->received, "abc");
  EXPECT_EQ(protocol->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
  EXPECT_FALSE(protocol->lost_error.has_value());
}

TEST_F(StreamRead, EofReturningTrueKeepsTheTransportOpenForWriting) {
  // Rule: proto.eof.true-half-open
  // Rule: proto.eof.at-most-once
  protocol->keep_open_on_eof = true;
  rig.raw->shutdown_write();
  ASSERT_TRUE(rig.run_until([&] { return protocol->eof_count == 1; }));
  EXPECT_FALSE(transport->is_closing());
  transport->pause_reading();
  transport->resume_reading();  // must not read the EOF again
  transport->write("reply");
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->received == "reply"; }));
  rig.runner.run_iterations(3);
  EXPECT_EQ(protocol->eof_count, 1);
  EXPECT_EQ(protocol->lost_count, 0);
  transport->close();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_FALSE(protocol->lost_error.has_value());
}

TEST_F(StreamRead, PauseReadingStopsDeliveryUntilResume) {
  // Rule: read.pause.no-data-while-paused
  // Rule: read.pause.stops-delivery
  // Rule: read.resume.delivers-pending
  // Rule: read.is-reading.reflects-state
  EXPECT_TRUE(transport->is_reading());
  transport->pause_reading();
  EXPECT_FALSE(transport->is_reading());
  rig.raw->send("held");
  rig.runner.run_iterations(5);
  EXPECT_EQ(protocol->count("data"), 0);
  transport->resume_reading();
  EXPECT_TRUE(transport->is_reading());
  ASSERT_TRUE(rig.run_until([&] { return protocol->received == "held"; }));
}

TEST_F(StreamRead, PauseInsideDataReceivedHoldsTheRest) {
  // Rule: read.pause.no-data-while-paused
  protocol->on_data = [&](std::string_view) { transport->pause_reading(); };
  rig.raw->send("first");
  ASSERT_TRUE(rig.run_until([&] { return protocol->count("data") == 1; }));
  rig.raw->send("second");
  rig.runner.run_iterations(5);
  EXPECT_EQ(protocol->received, "first");
  protocol->on_data = nullptr;
  transport->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return protocol->received == "firstsecond"; }));
}

TEST(StreamReadSetup, PauseInsideConnectionMadeHoldsEverything) {
  // Rule: read.pause.no-data-while-paused
  Rig rig;
  auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  protocol->on_made = [&] { protocol->transport->pause_reading(); };
  auto transport = rig.connect_pair(protocol);
  rig.raw->send("waiting");
  rig.runner.run_iterations(5);
  EXPECT_EQ(protocol->count("data"), 0);
  transport->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return protocol->received == "waiting"; }));
}

TEST_F(StreamRead, PauseAndResumeAreIdempotent) {
  // Rule: read.pause.idempotent
  // Rule: read.resume.idempotent
  EXPECT_NO_THROW(transport->resume_reading());
  EXPECT_NO_THROW(transport->pause_reading());
  EXPECT_NO_THROW(transport->pause_reading());
  EXPECT_FALSE(transport->is_reading());
  EXPECT_NO_THROW(transport->resume_reading());
  EXPECT_NO_THROW(transport->resume_reading());
  EXPECT_TRUE(transport->is_reading());
  transport->close();
  EXPECT_NO_THROW(transport->pause_reading());
  EXPECT_NO_THROW(transport->resume_reading());
  EXPECT_FALSE(transport->is_reading());
}

// ---- BufferedProtocol ----

TEST(StreamBuffered, ReceivesStraightIntoTheProtocolsBuffer) {
  // Rule: buffered.order.updated-after-get-buffer
  // Rule: buffered.buffer.nbytes-within-buffer
  // Rule: buffered.get-buffer.sizehint
  // Rule: buffered.data.in-order
  // Rule: buffered.eof.as-protocol
  Rig rig;
  auto protocol = std::make_shared<RecordingBufferedProtocol>(&rig.runner, 1000);
  auto transport = rig.connect_pair(protocol);
  std::string data = pattern(50000, 9);
  rig.raw->send(data);
  ASSERT_TRUE(rig.run_until([&] { return protocol->received.size() == data.size(); }));
  EXPECT_TRUE(protocol->received == data);
  for (std::size_t i = 1; i < protocol->events.size(); ++i) {
    if (protocol->events[i] == "updated") {
      EXPECT_EQ(protocol->events[i - 1], "get_buffer") << "at " << i;
    }
  }
  for (std::size_t n : protocol->updated_sizes) {
    EXPECT_GT(n, 0u);
    EXPECT_LE(n, 1000u);
  }
  for (auto hint : protocol->sizehints) EXPECT_EQ(hint, -1);
  rig.raw->shutdown_write();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_EQ(protocol->events.end()[-2], "eof");
  EXPECT_FALSE(protocol->lost_error.has_value());
}

TEST(StreamBuffered, ZeroSizeBufferIsAFatalError) {
  // Rule: buffered.get-buffer.zero-size-error
  Rig rig;
  rig.loop.set_exception_handler([](std::string_view, const Error&) {});
  auto protocol = std::make_shared<RecordingBufferedProtocol>(&rig.runner, 0);
  auto transport = rig.connect_pair(protocol);
  rig.raw->send("x");
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_EQ(std::count(protocol->events.begin(), protocol->events.end(), "updated"), 0);
  ASSERT_TRUE(protocol->lost_error.has_value());
  EXPECT_EQ(protocol->lost_error->type, "RuntimeError");
}

TEST(StreamBuffered, GetBufferThatPausesReadingGetsNoData) {
  // Rule: read.pause.no-data-while-paused
  Rig rig;
  auto protocol = std::make_shared<RecordingBufferedProtocol>(&rig.runner, 100);
  auto transport = rig.connect_pair(protocol);
  protocol->on_get_buffer = [&] { transport->pause_reading(); };
  rig.raw->send("data");
  ASSERT_TRUE(rig.run_until([&] { return !protocol->sizehints.empty(); }));
  rig.runner.run_iterations(3);
  EXPECT_EQ(protocol->received, "");
  protocol->on_get_buffer = nullptr;
  transport->resume_reading();
  ASSERT_TRUE(rig.run_until([&] { return protocol->received == "data"; }));
}

// ---- protocol exceptions ----

TEST_F(StreamRead, ExceptionFromDataReceivedClosesWithTheCanonicalError) {
  // Rule: proto.order.lost-once
  std::vector<Error> reported;
  rig.loop.set_exception_handler([&](std::string_view, const Error& error) { reported.push_back(error); });
  protocol->on_data = [](std::string_view) { throw std::runtime_error("bad data"); };
  rig.raw->send("x");
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1 && rig.raw->eof; }));
  EXPECT_EQ(protocol->lost_error, (Error{"RuntimeError", 0, "bad data"}));
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0], (Error{"RuntimeError", 0, "bad data"}));
  // The loop goes on: a fresh connection still works.
  auto second = std::make_shared<RecordingProtocol>(&rig.runner);
  auto other = rig.connect_pair(second);
  rig.raw->send("fine");
  ASSERT_TRUE(rig.run_until([&] { return second->received == "fine"; }));
}

TEST_F(StreamRead, ContractErrorFromAProtocolKeepsItsClass) {
  // Rule: proto.order.lost-once
  rig.loop.set_exception_handler([](std::string_view, const Error&) {});
  protocol->on_eof = [] { throw ContractError(Error{"ValueError", 0, "no eof here"}); };
  rig.raw->shutdown_write();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_EQ(protocol->lost_error, (Error{"ValueError", 0, "no eof here"}));
}

TEST_F(StreamRead, ExceptionFromConnectionLostIsOnlyReported) {
  // Rule: proto.order.lost-once
  std::vector<Error> reported;
  rig.loop.set_exception_handler([&](std::string_view, const Error& error) { reported.push_back(error); });
  protocol->on_lost = [] { throw std::runtime_error("late"); };
  transport->close();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1 && rig.raw->eof; }));
  rig.runner.run_iterations(2);
  EXPECT_EQ(protocol->lost_count, 1);
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].message, "late");
}

TEST(StreamReadSetup, ExceptionFromConnectionMadeClosesTheTransport) {
  // Rule: proto.order.lost-once
  Rig rig;
  rig.loop.set_exception_handler([](std::string_view, const Error&) {});
  auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  protocol->on_made = [] { throw std::runtime_error("refused"); };
  auto transport = rig.connect_pair(protocol);
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_EQ(protocol->lost_error, (Error{"RuntimeError", 0, "refused"}));
  EXPECT_EQ(protocol->events, (std::vector<std::string>{"made", "lost"}));
}

// ---- set_protocol ----

TEST_F(StreamRead, SetProtocolSwitchesDelivery) {
  // Rule: transport.protocol.get-set
  EXPECT_EQ(transport->get_protocol(), protocol);
  auto next = std::make_shared<RecordingProtocol>(&rig.runner);
  next->transport = transport;
  transport->set_protocol(next);
  EXPECT_EQ(transport->get_protocol(), next);
  rig.raw->send("for the new one");
  ASSERT_TRUE(rig.run_until([&] { return next->received == "for the new one"; }));
  EXPECT_EQ(protocol->count("data"), 0);
  transport->close();
  ASSERT_TRUE(rig.run_until([&] { return next->lost_count == 1; }));
  EXPECT_EQ(protocol->lost_count, 0);
}

TEST_F(StreamRead, SetProtocolToABufferedProtocolSwitchesTheReadPath) {
  // Rule: transport.protocol.get-set
  auto buffered = std::make_shared<RecordingBufferedProtocol>(&rig.runner, 64);
  transport->set_protocol(buffered);
  rig.raw->send("into a buffer");
  ASSERT_TRUE(rig.run_until([&] { return buffered->received == "into a buffer"; }));
  EXPECT_EQ(protocol->count("data"), 0);
}

TEST_F(StreamRead, SetProtocolRejectsANonStreamProtocol) {
  // Rule: transport.protocol.get-set
  try {
    transport->set_protocol(std::make_shared<DatagramProtocol>());
    FAIL() << "no TypeError";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "TypeError");
  }
  EXPECT_EQ(transport->get_protocol(), protocol);
}

TEST_F(StreamRead, GetProtocolIsEmptyOnceConnectionLostWasDelivered) {
  // Rule: transport.protocol.get-set
  transport->close();
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_EQ(transport->get_protocol(), nullptr);
  EXPECT_FALSE(transport->get_extra_info("nonexistent").has_value());
  EXPECT_TRUE(transport->is_closing());
}

}  // namespace
}  // namespace loopspec::reference
