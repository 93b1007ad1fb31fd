// Peer reset mid-write and mid-read, and a write pipe's reader gone:
// connection_lost comes exactly once, with a ConnectionResetError-class error
// (ECONNRESET, or EPIPE for a write to a peer gone), and no callback after it; EPIPE never raises SIGPIPE: the
// process keeps SIGPIPE at its default disposition (which kills) throughout.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "reliability_support.hpp"

namespace loopspec::reliability {
namespace {

// Sets SIGPIPE to its default disposition (a SIGPIPE kills the process) once
// the loop exists, whatever the test program or the loop had set, and puts
// back what was there.
class DefaultSigpipe {
 public:
  DefaultSigpipe() {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGPIPE, &action, &saved_);
  }
  ~DefaultSigpipe() { ::sigaction(SIGPIPE, &saved_, nullptr); }
  static bool still_default() {
    struct sigaction now {};
    ::sigaction(SIGPIPE, nullptr, &now);
    return now.sa_handler == SIG_DFL;
  }

 private:
  struct sigaction saved_ {};
};


class PeerReset : public ::testing::TestWithParam<std::string> {
 protected:
  // The connection ended by the peer: exactly one connection_lost, with a
  // reset-class error, nothing after it, and no EOF (a reset is not one).
  void expect_lost_once_by_reset(Rig& rig, Recorder& recorder) {
    ASSERT_TRUE(rig.run_until([&] { return recorder.lost_count > 0; })) << "no connection_lost after the reset";
    // A quiet window: any callback the loop still had for this connection would come in it.
    rig.run_for(0.3);
    // Rule: proto.order.lost-exactly-once, proto.order.lost-last
    EXPECT_EQ(recorder.lost_count, 1);
    EXPECT_TRUE(recorder.after_lost().empty()) << ::testing::PrintToString(recorder.after_lost());
    // Rule: proto.connection-lost.error-on-failure
    ASSERT_TRUE(recorder.lost_error.has_value())
        << "connection_lost(None) after a reset; callbacks: " << ::testing::PrintToString(recorder.events);
    const Error& error = *recorder.lost_error;
    EXPECT_TRUE(error.errnum == ECONNRESET || error.errnum == EPIPE) << error.to_string();
    EXPECT_TRUE(error.type == "ConnectionResetError" || error.type == "BrokenPipeError") << error.to_string();
    EXPECT_EQ(std::count(recorder.events.begin(), recorder.events.end(), "eof"), 0);
    // Rule: transport.closing.after-lost
    EXPECT_TRUE(recorder.writer->is_closing());
    // A write after connection_lost is ignored (or raises): no callback, no signal.
    try {
      recorder.writer->write("after the end");
    } catch (const ContractError&) {
    }
    rig.run_for(0.1);
    EXPECT_EQ(recorder.lost_count, 1);
    EXPECT_TRUE(recorder.after_lost().empty());
    EXPECT_TRUE(DefaultSigpipe::still_default()) << "the loop changed SIGPIPE's disposition during the test";
    ::testing::Test::RecordProperty("lost_error", error.type + " errno " + std::to_string(error.errnum));
  }

  // Writes until the transport holds data of its own (the kernel buffers are
  // full and the peer is not reading), then the peer resets (SO_LINGER 0 close).
  void reset_while_writing(const Address& where) {
    Rig rig(GetParam());
    auto recorder = std::make_shared<Recorder>(rig);
    auto server = serve(rig, where, {recorder});
    auto peer = connect_peer(rig, *server, *recorder);
    if (std::holds_alternative<InetAddress>(where)) peer->set_receive_buffer(64 * 1024);
    peer->stop_reading();
    DefaultSigpipe default_sigpipe;
    Transport& transport = *recorder->transport;
    std::string chunk(1 << 20, 'w');
    for (int i = 0; i < 256 && transport.get_write_buffer_size() == 0; ++i) transport.write(chunk);
    ASSERT_GT(transport.get_write_buffer_size(), 0u) << "256 MiB written and the kernel took it all";
    // The transport is waiting to write the rest; the peer goes.
    peer->reset();
    expect_lost_once_by_reset(rig, *recorder);
  }
};

TEST_P(PeerReset, ResetWhileWritingOverTcpLosesConnectionOnceWithResetError) {
  // Rule: proto.connection-lost.error-on-failure, proto.order.lost-exactly-once, proto.order.lost-last
  reset_while_writing(InetAddress{"127.0.0.1", 0});
}

TEST_P(PeerReset, CloseWhileWritingOverUnixLosesConnectionOnceWithPipeOrResetError) {
  // Rule: proto.connection-lost.error-on-failure, proto.order.lost-exactly-once, proto.order.lost-last
  // A Unix socket has no RST: the peer closing with our bytes unread is the
  // reset (ECONNRESET), and every later send is EPIPE, the SIGPIPE case.
  TempSocketPath path;
  reset_while_writing(UnixAddress{path.path});
}

TEST_P(PeerReset, ResetWhileReadingOverTcpLosesConnectionOnceWithResetError) {
  // Rule: proto.connection-lost.error-on-failure, proto.order.lost-exactly-once, proto.order.lost-last
  Rig rig(GetParam());
  auto recorder = std::make_shared<Recorder>(rig);
  auto server = serve(rig, InetAddress{"127.0.0.1", 0}, {recorder});
  auto peer = connect_peer(rig, *server, *recorder);
  DefaultSigpipe default_sigpipe;
  peer->set_keep_limit(0);
  // Mid-stream: after the first MiB the loop holds its reads back a moment, so
  // that the peer, still sending, fills the kernel buffers and the RST comes
  // behind unread bytes; then the transport reads on into the reset.
  recorder->on_data = [&](std::string_view) {
    if (recorder->bytes_received >= (1u << 20) && recorder->transport->is_reading()) {
      recorder->transport->pause_reading();
    }
  };
  peer->send(std::string(64 << 20, 'r'), 64 * 1024);
  ASSERT_TRUE(rig.run_until([&] { return !recorder->transport->is_reading(); }));
  peer->reset();
  ASSERT_TRUE(rig.run_until([&] { return peer->snapshot().closed; }));
  recorder->on_data = nullptr;
  recorder->transport->resume_reading();
  expect_lost_once_by_reset(rig, *recorder);
  // The peer's queue was discarded: not all of its 64 MiB arrived.
  EXPECT_LT(recorder->bytes_received, 64u << 20);
  RecordProperty("bytes_before_reset", std::to_string(recorder->bytes_received));
}

TEST_P(PeerReset, WritePipeReaderGoneLosesConnectionOnceWithBrokenPipeAndNoSigpipe) {
  // Rule: proto.connection-lost.error-on-failure, proto.order.lost-exactly-once, proto.order.lost-last
  // A write pipe whose reader goes with data still buffered: write(2) on a
  // pipe has no MSG_NOSIGNAL, so this is where a loop must keep SIGPIPE away.
  Rig rig(GetParam());
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto recorder = std::make_shared<Recorder>(rig);
  std::optional<Outcome<WriteTransport>> connected;
  rig.loop().connect_write_pipe([recorder] { return recorder; }, fds[1], [&](Outcome<WriteTransport> o) {
    connected = std::move(o);
    rig.wake();
  });
  ASSERT_TRUE(rig.run_until([&] { return connected.has_value(); }));
  ASSERT_TRUE(connected->ok()) << connected->error->to_string();
  DefaultSigpipe default_sigpipe;
  recorder->writer->write(std::string(1 << 20, 'p'));  // a pipe holds 64 KiB: the rest is buffered
  ASSERT_GT(recorder->writer->get_write_buffer_size(), 0u);
  ::close(fds[0]);
  expect_lost_once_by_reset(rig, *recorder);
}

INSTANTIATE_TEST_SUITE_P(Backends, PeerReset, ::testing::ValuesIn(in_process_backends()), backend_test_name);

}  // namespace
}  // namespace loopspec::reliability
