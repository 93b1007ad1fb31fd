// Pipe transports on posix::stream_descriptor: a read end's end of file (a
// pty's hang-up too, with every byte it still held), a write end closing
// after its queue, a reader going away, and the descriptors refused. Each
// test names the rule it checks.
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "asio_test_support.hpp"

namespace loopspec::asio {
namespace {

using testing::bytes_of;
using testing::LogProtocol;
using testing::wait_for;

class AsioPipe : public ::testing::Test {
 protected:
  std::shared_ptr<ReadTransport> open_reader(int fd) {
    std::shared_ptr<ReadTransport> reader;
    loop.connect_read_pipe([p = protocol] { return p; }, fd, [&](Outcome<ReadTransport> o) { reader = o.value; });
    EXPECT_TRUE(wait_for(loop, [&] { return reader != nullptr; }));
    return reader;
  }
  std::shared_ptr<WriteTransport> open_writer(int fd) {
    std::shared_ptr<WriteTransport> writer;
    loop.connect_write_pipe([p = protocol] { return p; }, fd, [&](Outcome<WriteTransport> o) { writer = o.value; });
    EXPECT_TRUE(wait_for(loop, [&] { return writer != nullptr; }));
    return writer;
  }

  AsioLoop loop;
  std::shared_ptr<LogProtocol> protocol = std::make_shared<LogProtocol>();
};

TEST_F(AsioPipe, AReadPipeDeliversThenOneEofThenConnectionLost) {
  // Rule: proto.eof.read-pipe-return-value
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto reader = open_reader(fds[0]);
  ASSERT_EQ(::write(fds[1], "abc", 3), 3);
  ::close(fds[1]);
  protocol->keep_open = true;  // ignored for a pipe: nothing to keep half-open
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->bytes, "abc");
  EXPECT_EQ(protocol->log, (std::vector<std::string>{"made", "data", "eof", "lost"}));
  EXPECT_FALSE(protocol->lost_with);
  EXPECT_EQ(reader->get_extra_info("pipe"), (nlohmann::json{{"fd", -1}}));  // transport.extra-info.pipe
}

TEST_F(AsioPipe, EveryBytePtyHeldAtItsHangUpIsDelivered) {
  // Rule: proto.data.in-order
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  ASSERT_GE(slave, 0);
  termios raw{};
  ::tcgetattr(slave, &raw);
  ::cfmakeraw(&raw);
  ::tcsetattr(slave, TCSANOW, &raw);
  auto reader = open_reader(master);
  reader->pause_reading();  // the bytes and the hang-up both wait in the pty
  std::string sent = bytes_of(8000);
  ssize_t n = ::write(slave, sent.data(), sent.size());
  ASSERT_GT(n, 0);
  sent.resize(static_cast<std::size_t>(n));
  ::close(slave);
  reader->resume_reading();
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost(); }));
  EXPECT_EQ(protocol->bytes.size(), sent.size());
  EXPECT_TRUE(protocol->bytes == sent);
  EXPECT_EQ(protocol->count("eof"), 1);  // EIO at the hang-up is the end of file
  EXPECT_FALSE(protocol->lost_with);
}

TEST_F(AsioPipe, WriteEofClosesThePipeOnceTheQueueIsWritten) {
  // Rule: write.eof.flushes-then-shuts-down
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto writer = open_writer(fds[1]);
  std::string sent = bytes_of(1 << 20);
  writer->write(sent);
  ASSERT_GT(writer->get_write_buffer_size(), 0u);
  writer->write_eof();
  writer->write("dropped");
  std::string got;
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  ASSERT_TRUE(wait_for(loop, [&] {
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) got.append(buffer, static_cast<std::size_t>(n));
    return n == 0;  // end of file: the transport closed its end
  }));
  EXPECT_TRUE(got == sent);
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost(); }));
  EXPECT_FALSE(protocol->lost_with);
  ::close(fds[0]);
}

TEST_F(AsioPipe, AnIdleWritePipeNoticesItsReaderGoing) {
  // Rule: proto.connection-lost.none-on-close
  // (asyncio watches an idle write pipe; the kernel's error event completes Asio's wait_read.)
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  open_writer(fds[1]);
  ::close(fds[0]);
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost(); }));
  EXPECT_FALSE(protocol->lost_with);  // nothing was queued
}

TEST_F(AsioPipe, AWriteToAPipeWithoutReaderIsBrokenPipeErrorNotSigpipe) {
  // Rule: proto.connection-lost.error-on-failure
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto writer = open_writer(fds[1]);
  ::close(fds[0]);
  writer->write("nobody reads this");
  ASSERT_TRUE(wait_for(loop, [&] { return protocol->lost(); }));
  ASSERT_TRUE(protocol->lost_with);
  EXPECT_EQ(protocol->lost_with->type, "BrokenPipeError");
}

TEST_F(AsioPipe, ARegularFileIsRefusedAndClosed) {
  // Rule: transport.hierarchy.read-pipe
  std::string path = ::testing::TempDir() + "asio-regular-" + std::to_string(::getpid());
  wait_for(loop, [] { return true; });  // Asio opens its reactor's descriptors with the first wait
  int before = testing::descriptors_open();
  int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ::unlink(path.c_str());
  std::optional<Outcome<ReadTransport>> result;
  loop.connect_read_pipe([p = protocol] { return p; }, fd, [&](Outcome<ReadTransport> o) { result = o; });
  ASSERT_TRUE(wait_for(loop, [&] { return result.has_value(); }));
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error->type, "ValueError");
  EXPECT_EQ(testing::descriptors_open(), before);  // the descriptor was the transport's, and is closed
  EXPECT_TRUE(protocol->log.empty());
}

}  // namespace
}  // namespace loopspec::asio
