// The libuv stream transports against a harness Peer: exchange, EOF,
// closing, reading control and BufferedProtocol. Each test names the rule it
// checks; the conformance scenarios check every rule in depth.
#include <gtest/gtest.h>

#include "uv_test_support.hpp"

namespace loopspec::libuv {
namespace {

using testing::LoopRunner;
using testing::pattern;
using UvStream = testing::PeerConnected;

TEST_F(UvStream, BytesFlowBothWaysInOrder) {
  // Rule: write.data.in-order
  std::string out = pattern(300000);
  transport().write(std::string_view(out).substr(0, 1000));
  std::string_view rest[] = {std::string_view(out).substr(1000, 200000), std::string_view(out).substr(201000)};
  transport().writelines(rest);
  std::string in = pattern(100000);
  peer->send(in, 4096);
  ASSERT_TRUE(runner.run_until([&] {
    return peer->snapshot().bytes_received == out.size() && protocol->received.size() == in.size();
  }));
  EXPECT_EQ(peer->received(), out);
  EXPECT_EQ(protocol->received, in);
  EXPECT_EQ(transport().get_write_buffer_size(), 0u);
}

TEST_F(UvStream, PeerEofThenFalseCloses) {
  // Rule: proto.eof.false-closes
  peer->send("last words");
  peer->shutdown_write();
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
  EXPECT_FALSE(protocol->lost_error);
  EXPECT_TRUE(runner.run_until([&] { return peer->snapshot().eof_received; }));
}

TEST_F(UvStream, EofTrueKeepsTheTransportOpenForWriting) {
  // Rule: proto.eof.true-half-open
  protocol->keep_open_on_eof = true;
  peer->shutdown_write();
  ASSERT_TRUE(runner.run_until([&] { return protocol->eof_count == 1; }));
  runner.run_iterations(3);
  EXPECT_FALSE(protocol->lost());
  EXPECT_FALSE(transport().is_closing());
  transport().write("still here");
  ASSERT_TRUE(runner.run_until([&] { return peer->snapshot().bytes_received == 10; }));
  transport().close();
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->eof_count, 1);
}

TEST_F(UvStream, CloseFlushesTheBufferThenLosesWithNone) {
  // Rule: transport.close.flushes-buffer
  std::string out = write_while_peer_waits(4 << 20);
  ASSERT_GT(transport().get_write_buffer_size(), 0u);
  transport().close();
  EXPECT_TRUE(transport().is_closing());
  transport().write("dropped after close");
  runner.run_iterations(2);
  EXPECT_FALSE(protocol->lost());
  peer->resume_reading();
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost() && peer->snapshot().eof_received; }));
  EXPECT_FALSE(protocol->lost_error);
  EXPECT_EQ(peer->received(), out);
}

TEST_F(UvStream, AbortDiscardsTheBuffer) {
  // Rule: write.abort.discards-buffer
  std::string out = write_while_peer_waits(4 << 20);
  std::size_t queued = transport().get_write_buffer_size();
  ASSERT_GT(queued, 0u);
  transport().abort();
  EXPECT_TRUE(transport().is_closing());
  EXPECT_FALSE(protocol->lost()) << "connection_lost must come from a scheduled callback";
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  EXPECT_FALSE(protocol->lost_error);
  peer->resume_reading();
  ASSERT_TRUE(runner.run_until([&] { return peer->snapshot().eof_received || peer->snapshot().reset_received; }));
  EXPECT_LE(peer->snapshot().bytes_received, out.size() - queued);
}

TEST_F(UvStream, WriteEofFlushesThenShutsDown) {
  // Rule: write.eof.flushes-then-shuts-down
  std::string out = write_while_peer_waits(2 << 20);
  transport().write_eof();
  EXPECT_TRUE(transport().can_write_eof());
  EXPECT_THROW(transport().write("x"), ContractError);
  peer->resume_reading();
  ASSERT_TRUE(runner.run_until([&] { return peer->snapshot().eof_received; }));
  EXPECT_EQ(peer->received(), out);
  // Reading goes on after our write_eof.
  peer->send("answer");
  ASSERT_TRUE(runner.run_until([&] { return protocol->received == "answer"; }));
}

TEST_F(UvStream, NoDataWhilePausedThenAllOfItOnResume) {
  // Rule: read.pause.no-data-while-paused
  transport().pause_reading();
  transport().pause_reading();  // idempotent
  EXPECT_FALSE(transport().is_reading());
  peer->send(pattern(50000));
  ASSERT_TRUE(runner.run_until([&] { return peer->snapshot().bytes_sent == 50000; }));
  runner.run_iterations(3);
  EXPECT_TRUE(protocol->received.empty());
  transport().resume_reading();
  EXPECT_TRUE(transport().is_reading());
  ASSERT_TRUE(runner.run_until([&] { return protocol->received.size() == 50000; }));
  EXPECT_EQ(protocol->received, pattern(50000));
}

TEST_F(UvStream, PauseInsideDataReceivedStopsDeliveryAtOnce) {
  // Rule: read.pause.stops-delivery
  int calls_while_paused = 0;
  protocol->on_data = [&](std::string_view) {
    if (!transport().is_reading()) ++calls_while_paused;
    transport().pause_reading();
  };
  peer->send(pattern(600000), 1000);
  ASSERT_TRUE(runner.run_until([&] { return !protocol->received.empty(); }));
  for (int i = 0; i < 5 && protocol->received.size() < 600000; ++i) {
    runner.run_iterations(2);
    transport().resume_reading();
    runner.run_until([&] { return !transport().is_reading(); }, 5);
  }
  EXPECT_EQ(calls_while_paused, 0);
}

class RecordingBufferedProtocol : public BufferedProtocol {
 public:
  std::string received;
  std::vector<std::int64_t> hints;
  bool eof = false;
  bool lost = false;
  MaybeError lost_error;
  std::size_t buffer_size = 100;
  std::function<void()> on_get_buffer;

  std::span<char> get_buffer(std::int64_t sizehint) override {
    hints.push_back(sizehint);
    if (on_get_buffer) on_get_buffer();
    buffer_.resize(buffer_size);
    return buffer_;
  }
  void buffer_updated(std::size_t nbytes) override {
    received.append(buffer_.data(), nbytes);
  }
  bool eof_received() override {
    eof = true;
    return false;
  }
  void connection_lost(const MaybeError& exc) override {
    lost = true;
    lost_error = exc;
  }

 private:
  std::vector<char> buffer_;
};

TEST_F(UvStream, BufferedProtocolReadsIntoItsOwnBuffer) {
  // Rule: buffered.data.in-order
  auto buffered = std::make_shared<RecordingBufferedProtocol>();
  transport().set_protocol(buffered);
  peer->send(pattern(70000));
  peer->shutdown_write();
  ASSERT_TRUE(runner.run_until([&] { return buffered->lost; }));
  EXPECT_EQ(buffered->received, pattern(70000));
  EXPECT_TRUE(buffered->eof);
  ASSERT_FALSE(buffered->hints.empty());
  EXPECT_NE(buffered->hints.front(), 0);
}

TEST_F(UvStream, EmptyBufferIsAFatalRuntimeError) {
  // Rule: buffered.get-buffer.zero-size-error
  std::vector<Error> reported;
  loop.set_exception_handler([&](std::string_view, const Error& error) { reported.push_back(error); });
  auto buffered = std::make_shared<RecordingBufferedProtocol>();
  buffered->buffer_size = 0;
  transport().set_protocol(buffered);
  peer->send("x");
  ASSERT_TRUE(runner.run_until([&] { return buffered->lost; }));
  EXPECT_TRUE(buffered->received.empty());
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].type, "RuntimeError");
}

TEST_F(UvStream, GetBufferThatPausesReadingGetsNothingReadIntoIt) {
  // Rule: read.pause.no-data-while-paused
  // (libuv must not see reading stop inside its alloc_cb: the stop waits for its read_cb.)
  auto buffered = std::make_shared<RecordingBufferedProtocol>();
  buffered->on_get_buffer = [&] { transport().pause_reading(); };
  transport().set_protocol(buffered);
  peer->send("abc");
  ASSERT_TRUE(runner.run_until([&] { return !buffered->hints.empty(); }));
  runner.run_iterations(3);
  EXPECT_TRUE(buffered->received.empty());
  EXPECT_EQ(buffered->hints.size(), 1u);
  buffered->on_get_buffer = nullptr;
  transport().resume_reading();
  ASSERT_TRUE(runner.run_until([&] { return buffered->received == "abc"; }));
}

TEST_F(UvStream, GetBufferThatClosesTheTransportEndsItWithNone) {
  // Rule: proto.connection-lost.none-on-close
  auto buffered = std::make_shared<RecordingBufferedProtocol>();
  buffered->on_get_buffer = [&] { transport().close(); };
  transport().set_protocol(buffered);
  peer->send("abc");
  ASSERT_TRUE(runner.run_until([&] { return buffered->lost; }));
  EXPECT_TRUE(buffered->received.empty());
  EXPECT_FALSE(buffered->lost_error);
  // Closed with "abc" unread: the peer sees the end as a reset, or as end of file.
  EXPECT_TRUE(runner.run_until([&] { return peer->snapshot().eof_received || peer->snapshot().reset_received; }));
}

TEST_F(UvStream, SetProtocolRejectsAProtocolOfTheWrongKind) {
  // Rule: transport.protocol.get-set
  EXPECT_THROW(transport().set_protocol(std::make_shared<DatagramProtocol>()), ContractError);
  EXPECT_EQ(transport().get_protocol(), protocol);
}

TEST_F(UvStream, ExtraInfoNamesTheSocket) {
  // Rule: transport.extra-info.socket
  auto socket = transport().get_extra_info("socket");
  ASSERT_TRUE(socket);
  EXPECT_EQ((*socket)["family"], "AF_UNIX");
  EXPECT_EQ((*socket)["type"], "SOCK_STREAM");
  EXPECT_GE((*socket)["fd"].get<int>(), 0);
  EXPECT_EQ(transport().get_extra_info("peername"), nlohmann::json(""));
  EXPECT_FALSE(transport().get_extra_info("no such key"));
}

}  // namespace
}  // namespace loopspec::libuv
