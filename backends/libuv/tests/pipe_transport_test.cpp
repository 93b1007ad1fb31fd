// The libuv pipe transports: a read end delivering everything up to the end
// of file (a pty's too), a write end closing after its queue, and the kinds
// of descriptor they take.
#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "uv_test_support.hpp"

namespace loopspec::libuv {
namespace {

using testing::LoopRunner;
using testing::pattern;
using testing::RecordingProtocol;

class UvPipe : public ::testing::Test {
 protected:
  template <class T>
  std::optional<Outcome<T>> wait_for(std::optional<Outcome<T>>& outcome) {
    EXPECT_TRUE(runner.run_until([&] { return outcome.has_value(); }));
    return outcome;
  }
  void read_end(int fd) {
    std::optional<Outcome<ReadTransport>> outcome;
    loop.connect_read_pipe([p = protocol] { return p; }, fd, [&](Outcome<ReadTransport> o) { outcome = o; });
    ASSERT_TRUE(wait_for(outcome)->ok());
    reader = outcome->value;
  }
  void write_end(int fd) {
    std::optional<Outcome<WriteTransport>> outcome;
    loop.connect_write_pipe([p = protocol] { return p; }, fd, [&](Outcome<WriteTransport> o) { outcome = o; });
    ASSERT_TRUE(wait_for(outcome)->ok());
    writer = outcome->value;
  }
  // Everything the descriptor gives until end of file (it is non-blocking: waits run the loop).
  std::string drain(int fd) {
    std::string got;
    char buffer[65536];
    runner.run_until([&] {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
      return n == 0;
    });
    return got;
  }

  UvLoop loop;
  LoopRunner runner{loop};
  std::shared_ptr<RecordingProtocol> protocol = std::make_shared<RecordingProtocol>();
  std::shared_ptr<ReadTransport> reader;
  std::shared_ptr<WriteTransport> writer;
};

TEST_F(UvPipe, ReadEndDeliversThenEofThenLostWithNone) {
  // Rule: proto.eof.read-pipe-return-value
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  read_end(fds[0]);
  ASSERT_EQ(::write(fds[1], "hello", 5), 5);
  ::close(fds[1]);
  protocol->keep_open_on_eof = true;  // ignored: a read pipe has nothing to keep open
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->received, "hello");
  EXPECT_EQ(protocol->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
  EXPECT_FALSE(protocol->lost_error);
  EXPECT_EQ(reader->get_extra_info("pipe"), (nlohmann::json{{"fd", -1}}));
}

TEST_F(UvPipe, PtyDataWaitingAtTheHangUpIsAllDelivered) {
  // Rule: proto.data.in-order
  // (libuv's stream reading would drop what follows a short read at the hang-up.)
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  termios raw{};
  ::tcgetattr(slave, &raw);
  ::cfmakeraw(&raw);
  ::tcsetattr(slave, TCSANOW, &raw);
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  read_end(master);
  reader->pause_reading();
  std::string sent = pattern(8000);
  ::fcntl(slave, F_SETFL, O_NONBLOCK);
  std::size_t written = 0;
  ASSERT_TRUE(runner.run_until([&] {
    ssize_t n = ::write(slave, sent.data() + written, sent.size() - written);
    if (n > 0) written += static_cast<std::size_t>(n);
    return written == sent.size() || n < 0;
  }));
  sent.resize(written);
  ::close(slave);
  reader->resume_reading();
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->received.size(), sent.size());
  EXPECT_TRUE(protocol->received == sent);
  EXPECT_EQ(protocol->eof_count, 1);
  EXPECT_FALSE(protocol->lost_error);
}

TEST_F(UvPipe, WriteEofClosesThePipeAfterTheQueue) {
  // Rule: write.eof.flushes-then-shuts-down
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  write_end(fds[1]);
  std::string sent = pattern(1 << 20);
  writer->write(sent);
  EXPECT_GT(writer->get_write_buffer_size(), 0u);
  writer->write_eof();
  EXPECT_TRUE(writer->is_closing());
  writer->write("dropped");
  EXPECT_EQ(drain(fds[0]), sent);
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  EXPECT_FALSE(protocol->lost_error);
  ::close(fds[0]);
}

TEST_F(UvPipe, ReaderGoneWithDataQueuedIsABrokenPipe) {
  // Rule: proto.connection-lost.error-on-failure
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  write_end(fds[1]);
  writer->write(pattern(1 << 20));
  ASSERT_GT(writer->get_write_buffer_size(), 0u);
  ::close(fds[0]);
  ASSERT_TRUE(runner.run_until([&] { return protocol->lost(); }));
  ASSERT_TRUE(protocol->lost_error);
  EXPECT_EQ(protocol->lost_error->type, "BrokenPipeError");
}

TEST_F(UvPipe, ARegularFileIsRefusedAndClosed) {
  // Rule: loop.setup.returns-transport-and-protocol
  int before = testing::open_fd_count();
  std::FILE* file = std::tmpfile();
  int fd = ::dup(::fileno(file));
  std::fclose(file);
  std::optional<Outcome<ReadTransport>> outcome;
  loop.connect_read_pipe([p = protocol] { return p; }, fd, [&](Outcome<ReadTransport> o) { outcome = o; });
  ASSERT_FALSE(wait_for(outcome)->ok());
  EXPECT_EQ(outcome->error->type, "ValueError");
  EXPECT_TRUE(protocol->events.empty());
  EXPECT_EQ(testing::open_fd_count(), before);
}

TEST_F(UvPipe, NoDescriptorOutlivesTheLoop) {
  // Machinery: a pty read end (a uv_poll_t, whose descriptor the box owns) and a pipe's write end
  // left open when the loop goes.
  int before = testing::open_fd_count();
  {
    UvLoop other;
    LoopRunner other_runner(other);
    int master = -1, slave = -1;
    ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    int made = 0;
    other.connect_read_pipe([] { return std::make_shared<RecordingProtocol>(); }, master,
                            [&](Outcome<ReadTransport> o) { made += o.ok(); });
    other.connect_write_pipe([] { return std::make_shared<RecordingProtocol>(); }, fds[1],
                             [&](Outcome<WriteTransport> o) { made += o.ok(); });
    ASSERT_TRUE(other_runner.run_until([&] { return made == 2; }));
    ::close(slave);
    ::close(fds[0]);
  }
  EXPECT_EQ(testing::open_fd_count(), before);
}

}  // namespace
}  // namespace loopspec::libuv
