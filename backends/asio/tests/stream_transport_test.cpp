// The stream transport on a connected socket: writing, end of file,
// closing, reading control and BufferedProtocol. Each test names the rule it
// checks; the conformance scenarios check every rule in depth.
#include <gtest/gtest.h>

#include "asio_test_support.hpp"

namespace loopspec::asio {
namespace {

using testing::bytes_of;
using testing::LogProtocol;
using testing::StreamWithPeer;
using testing::wait_for;

using StreamTransportTest = StreamWithPeer;

TEST_F(StreamTransportTest, WritesArriveWholeAndInOrderPastTheKernelBuffer) {
  // Rule: write.data.in-order
  std::string expected;
  peer->stop_reading();
  for (int i = 0; i < 40; ++i) {
    std::string piece = bytes_of(20000 + i);
    expected += piece;
    transport().write(piece);
  }
  EXPECT_GT(transport().get_write_buffer_size(), 0u);  // the kernel took only part of 800 KB
  peer->resume_reading();
  ASSERT_TRUE(peer_has(expected.size()));
  EXPECT_EQ(peer->received(), expected);
}

TEST_F(StreamTransportTest, WritelinesIsWriteOfTheJoinedPieces) {
  // Rule: write.writelines.equivalent
  const std::string_view pieces[] = {"one ", "", "two ", "three"};
  transport().writelines(pieces);
  ASSERT_TRUE(peer_has(13));
  EXPECT_EQ(peer->received(), "one two three");
}

TEST_F(StreamTransportTest, PeerShutdownIsOneEofThenCloseWhenEofReceivedSaysFalse) {
  // Rule: proto.eof.false-closes
  peer->send("last words");
  peer->shutdown_write();
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->bytes, "last words");
  EXPECT_EQ(protocol->count("eof"), 1);
  EXPECT_EQ(protocol->log.back(), "lost");
  EXPECT_FALSE(protocol->lost_with);
}

TEST_F(StreamTransportTest, EofReceivedTrueKeepsTheTransportOpenForWriting) {
  // Rule: proto.eof.true-half-open
  protocol->keep_open = true;
  auto held = protocol->transport;
  peer->shutdown_write();
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->count("eof") == 1; }));
  EXPECT_FALSE(held->is_closing());
  held->write("still here");
  ASSERT_TRUE(peer_has(10));
  EXPECT_EQ(peer->received(), "still here");
  EXPECT_FALSE(protocol->lost());
}

TEST_F(StreamTransportTest, CloseWritesWhatIsQueuedThenLosesTheConnection) {
  // Rule: transport.close.flushes-buffer
  peer->stop_reading();
  std::string data = bytes_of(600 * 1024);
  transport().write(data);
  transport().close();
  EXPECT_TRUE(protocol->transport->is_closing());
  transport().write("dropped");  // after close(): ignored
  peer->resume_reading();
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost(); }));
  ASSERT_TRUE(peer_has(data.size()));
  EXPECT_EQ(peer->received(), data);
  EXPECT_FALSE(protocol->lost_with);
}

TEST_F(StreamTransportTest, AbortDropsWhatIsQueuedAndLosesTheConnectionOnce) {
  // Rule: write.abort.discards-buffer
  peer->stop_reading();
  transport().write(bytes_of(2 * 1024 * 1024));
  ASSERT_GT(transport().get_write_buffer_size(), 0u);
  auto held = protocol->transport;
  held->abort();
  EXPECT_EQ(held->get_write_buffer_size(), 0u);
  held->abort();
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->count("lost"), 1);
  EXPECT_EQ(held->get_protocol(), nullptr);  // let go of after connection_lost
}

TEST_F(StreamTransportTest, WriteEofSendsTheQueueFirstAndKeepsReceiving) {
  // Rule: write.eof.flushes-then-shuts-down
  peer->stop_reading();
  std::string data = bytes_of(400 * 1024);
  transport().write(data);
  transport().write_eof();
  EXPECT_THROW(transport().write("more"), ContractError);
  peer->resume_reading();
  ASSERT_TRUE(wait_for(loop, [&] { return peer->snapshot().eof_received; }));
  EXPECT_EQ(peer->received(), data);
  peer->send("reply");  // write.eof.still-receives
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->bytes == "reply"; }));
}

TEST_F(StreamTransportTest, NothingIsDeliveredWhilePausedAndEverythingAfterResume) {
  // Rule: read.pause.no-data-while-paused
  transport().pause_reading();
  transport().pause_reading();  // idempotent
  EXPECT_FALSE(transport().is_reading());
  peer->send("while paused");
  // The bytes are in our socket once the peer's thread sent them; give the loop a few iterations.
  ASSERT_TRUE(wait_for(loop, [&] { return peer->snapshot().bytes_sent >= 12; }));
  for (int i = 0; i < 5; ++i) {
    loop.call_soon([] {});
    loop.stop();
    loop.run_forever();
  }
  EXPECT_EQ(protocol->count("data"), 0);
  transport().resume_reading();
  EXPECT_TRUE(transport().is_reading());
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->bytes == "while paused"; }));
}

TEST_F(StreamTransportTest, PauseInsideDataReceivedStopsTheNextDelivery) {
  // Rule: read.pause.stops-delivery
  protocol->when_data = [&] { protocol->transport->pause_reading(); };
  peer->send(bytes_of(16 * 1024), 1024);  // 16 small sends: all fit in the socket buffers
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->count("data") == 1; }));
  ASSERT_TRUE(wait_for(loop, [&] { return peer->snapshot().bytes_sent >= 16 * 1024; }))
      << peer->snapshot().bytes_sent << " sent, " << peer->snapshot().send_queue << " queued, " << protocol->bytes.size()
      << " delivered";
  std::size_t first = protocol->bytes.size();
  for (int i = 0; i < 5; ++i) {
    loop.call_soon([] {});
    loop.stop();
    loop.run_forever();
  }
  EXPECT_EQ(protocol->count("data"), 1);
  EXPECT_EQ(protocol->bytes.size(), first);
  protocol->when_data = nullptr;
  transport().resume_reading();
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->bytes.size() == 16 * 1024; }));
  EXPECT_EQ(protocol->bytes, bytes_of(16 * 1024));
}

// A BufferedProtocol lending small buffers of its own.
class SmallBuffers : public BufferedProtocol {
 public:
  explicit SmallBuffers(std::size_t size) : buffer_(size, '\0') {}
  std::string bytes;
  std::vector<std::int64_t> hints;
  std::shared_ptr<Transport> transport;
  bool lost = false;
  MaybeError lost_with;
  void connection_made(std::shared_ptr<BaseTransport> t) override { transport = std::dynamic_pointer_cast<Transport>(t); }
  std::span<char> get_buffer(std::int64_t sizehint) override {
    hints.push_back(sizehint);
    return buffer_;
  }
  void buffer_updated(std::size_t n) override { bytes.append(buffer_.data(), n); }
  void connection_lost(const MaybeError& exc) override {
    lost = true;
    lost_with = exc;
    transport.reset();
  }

 private:
  std::vector<char> buffer_;
};

TEST(AsioBufferedProtocol, BytesComeThroughGetBufferAndBufferUpdatedInOrder) {
  // Rule: buffered.data.in-order
  AsioLoop loop;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto protocol = std::make_shared<SmallBuffers>(777);
  loop.connect_accepted_socket([protocol] { return protocol; }, fds[0], {}, [](Outcome<Transport>) {});
  auto peer = Peer::adopt(fds[1]);
  peer->set_notify([&] { loop.call_soon_threadsafe([] {}); });
  std::string data = bytes_of(100 * 1024);
  peer->send(data);
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->bytes.size() == data.size(); }));
  peer->set_notify(nullptr);
  EXPECT_EQ(protocol->bytes, data);
  EXPECT_GT(protocol->hints.size(), data.size() / 777);
}

TEST(AsioBufferedProtocol, AnEmptyBufferIsAFatalRuntimeError) {
  // Rule: buffered.get-buffer.zero-size-error
  AsioLoop loop;
  loop.set_exception_handler([](std::string_view, const Error&) {});
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto protocol = std::make_shared<SmallBuffers>(0);
  loop.connect_accepted_socket([protocol] { return protocol; }, fds[0], {}, [](Outcome<Transport>) {});
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost; }));
  ASSERT_TRUE(protocol->lost_with);
  EXPECT_EQ(protocol->lost_with->type, "RuntimeError");
  EXPECT_TRUE(protocol->bytes.empty());
  ::close(fds[1]);
}

TEST_F(StreamTransportTest, ExtraInfoDescribesTheSocket) {
  // Rule: transport.extra-info.socket
  auto socket = transport().get_extra_info("socket");
  ASSERT_TRUE(socket);
  EXPECT_EQ((*socket)["family"], "AF_UNIX");
  EXPECT_EQ((*socket)["type"], "SOCK_STREAM");
  EXPECT_GE((*socket)["fd"].get<int>(), 0);
  EXPECT_EQ(transport().get_extra_info("no-such-key"), std::nullopt);  // transport.extra-info.default
}

TEST_F(StreamTransportTest, APeerResetIsConnectionLostWithTheError) {
  // Rule: proto.connection-lost.error-on-failure
  peer->stop_reading();
  transport().write(bytes_of(4 * 1024 * 1024));
  peer->reset();
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost(); }));
  ASSERT_TRUE(protocol->lost_with);
  EXPECT_TRUE(protocol->lost_with->type == "ConnectionResetError" || protocol->lost_with->type == "BrokenPipeError")
      << protocol->lost_with->to_string();
}

}  // namespace
}  // namespace loopspec::asio
