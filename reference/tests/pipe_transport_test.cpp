// The reference loop's pipe transports (read_pipe_transport.hpp,
// write_pipe_transport.hpp, pipe_descriptor.hpp): end of file, ptys, the
// reader going away, SIGPIPE, descriptor kinds and descriptor hygiene.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>

#include "loop_test_support.hpp"
#include "loopspec/reference/pipe_descriptor.hpp"

namespace loopspec::reference::testing {
namespace {

// A Protocol for pipes: keeps the transport whatever its class.
class PipeProtocol : public RecordingProtocol {
 public:
  using RecordingProtocol::RecordingProtocol;
  std::shared_ptr<BaseTransport> pipe;
  void connection_made(std::shared_ptr<BaseTransport> t) override {
    pipe = t;
    RecordingProtocol::connection_made(t);
  }
  // RecordingProtocol's versions ask a stream Transport for the buffer size.
  void pause_writing() override { events.push_back("pause"); }
  void resume_writing() override { events.push_back("resume"); }
  ReadTransport& reader() { return dynamic_cast<ReadTransport&>(*pipe); }
  WriteTransport& writer() { return dynamic_cast<WriteTransport&>(*pipe); }
};

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw std::runtime_error("pipe2");
    read_end = fds[0];
    write_end = fds[1];
  }
};

// The read end of a pipe, watched by the loop under test, read with read().
class PipeReader final : public WatchedFd {
 public:
  using WatchedFd::WatchedFd;

  static std::shared_ptr<PipeReader> adopt(EpollLoop& loop, LoopRunner& runner, int fd) {
    return watch(std::make_shared<PipeReader>(loop, runner, fd));
  }

  std::string received;
  bool eof = false;

  void on_readable() override {
    char buffer[64 * 1024];
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n > 0) received.append(buffer, static_cast<std::size_t>(n));
    if (n == 0) {
      eof = true;
      close();
    }
    runner_.notify();
  }
};

template <class T>
Outcome<T> connect(Rig& rig, std::shared_ptr<StreamProtocol> protocol, int fd) {
  return await_outcome<T>(
      rig.runner,
      [&](Completion<T> done) {
        if constexpr (std::is_same_v<T, ReadTransport>) {
          rig.loop.connect_read_pipe([protocol] { return protocol; }, fd, std::move(done));
        } else {
          rig.loop.connect_write_pipe([protocol] { return protocol; }, fd, std::move(done));
        }
      },
      "pipe setup");
}

// Rule: proto.eof.read-pipe-return-value
// Rule: proto.eof.on-peer-shutdown
TEST(ReadPipe, EndOfFileClosesWhateverEofReceivedReturns) {
  Rig rig;
  Pipe pipe;
  auto protocol = std::make_shared<PipeProtocol>(&rig.runner);
  protocol->keep_open_on_eof = true;
  ASSERT_TRUE(connect<ReadTransport>(rig, protocol, pipe.read_end).ok());
  ASSERT_EQ(::write(pipe.write_end, "abc", 3), 3);
  ::close(pipe.write_end);
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_EQ(protocol->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
  EXPECT_EQ(protocol->received, "abc");
  EXPECT_EQ(protocol->lost_error, std::nullopt);
  EXPECT_TRUE(protocol->reader().is_closing());
  EXPECT_FALSE(protocol->reader().is_reading());
}

// Rule: proto.eof.on-peer-shutdown
TEST(ReadPipe, PtyWhoseSlaveClosedIsEndOfFile) {
  Rig rig;
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  char name[128];
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  ASSERT_EQ(::ptsname_r(master, name, sizeof name), 0);
  int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  termios raw{};
  ::tcgetattr(slave, &raw);
  ::cfmakeraw(&raw);
  ::tcsetattr(slave, TCSANOW, &raw);
  auto protocol = std::make_shared<PipeProtocol>(&rig.runner);
  ASSERT_TRUE(connect<ReadTransport>(rig, protocol, master).ok());
  ASSERT_EQ(::write(slave, "tty", 3), 3);
  ASSERT_TRUE(rig.run_until([&] { return protocol->received == "tty"; }));
  ::close(slave);
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_EQ(protocol->eof_count, 1);
  EXPECT_EQ(protocol->lost_error, std::nullopt) << protocol->lost_error->to_string();
}

// Machinery test: only pipes, FIFOs, sockets and character devices are pipe
// transports; a regular file is a ValueError and its descriptor is closed.
TEST(PipeSetup, RegularFileIsRejectedAndClosed) {
  Rig rig;
  char path[] = "/tmp/loopspec-pipe-file-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  auto protocol = std::make_shared<PipeProtocol>(&rig.runner);
  auto outcome = connect<ReadTransport>(rig, protocol, fd);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error->type, "ValueError");
  EXPECT_EQ(outcome.error->message, "Pipe transport is for pipes/sockets only.");
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "the descriptor was not closed";
  EXPECT_EQ(protocol->made_count, 0);
}

// Rule: proto.connection-lost.error-on-failure
TEST(WritePipe, ReaderGoneWithDataQueuedIsABrokenPipe) {
  Rig rig;
  Pipe pipe;
  auto protocol = std::make_shared<PipeProtocol>(&rig.runner);
  ASSERT_TRUE(connect<WriteTransport>(rig, protocol, pipe.write_end).ok());
  rig.fill_until_queued(protocol->writer(), 64 * 1024);
  ::close(pipe.read_end);
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  ASSERT_TRUE(protocol->lost_error.has_value());
  EXPECT_EQ(protocol->lost_error->type, "BrokenPipeError");
}

// Machinery test: a reader that goes away from an idle write pipe loses
// nothing: connection_lost(None), as in CPython.
TEST(WritePipe, ReaderGoneFromAnIdlePipeIsNone) {
  Rig rig;
  Pipe pipe;
  auto protocol = std::make_shared<PipeProtocol>(&rig.runner);
  ASSERT_TRUE(connect<WriteTransport>(rig, protocol, pipe.write_end).ok());
  ::close(pipe.read_end);
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost_count == 1; }));
  EXPECT_EQ(protocol->lost_error, std::nullopt);
}

// Machinery test: writing to a pipe without a reader never raises SIGPIPE;
// the write fails with EPIPE and leaves no SIGPIPE pending.
TEST(WritePipe, NoSigpipe) {
  Pipe pipe;
  ::close(pipe.read_end);
  iovec iov{const_cast<char*>("x"), 1};
  errno = 0;
  EXPECT_EQ(writev_without_sigpipe(pipe.write_end, &iov, 1), -1);
  EXPECT_EQ(errno, EPIPE);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
  ::close(pipe.write_end);
}

// Rule: write.eof.flushes-then-shuts-down
TEST(WritePipe, WriteEofWritesTheQueueThenClosesThePipe) {
  Rig rig;
  Pipe pipe;
  auto protocol = std::make_shared<PipeProtocol>(&rig.runner);
  ASSERT_TRUE(connect<WriteTransport>(rig, protocol, pipe.write_end).ok());
  auto& t = protocol->writer();
  std::size_t total = rig.fill_until_queued(t, 64 * 1024);
  std::string written;
  while (written.size() < total) written += pattern(64 * 1024);
  t.write_eof();
  EXPECT_TRUE(t.is_closing());
  auto raw = PipeReader::adopt(rig.loop, rig.runner, pipe.read_end);
  ASSERT_TRUE(rig.run_until([&] { return raw->eof && protocol->lost_count == 1; }));
  EXPECT_EQ(raw->received, written);
  EXPECT_EQ(protocol->lost_error, std::nullopt);
}

// Machinery test: every descriptor a pipe transport holds is non-blocking,
// close-on-exec, and closed with connection_lost or with the loop.
TEST(PipeSetup, NoDescriptorLeaks) {
  auto before = open_fds();
  {
    Rig rig;
    auto with_loop = open_fds();
    Pipe first;
    Pipe second;
    auto reader = std::make_shared<PipeProtocol>(&rig.runner);
    auto writer = std::make_shared<PipeProtocol>(&rig.runner);
    ASSERT_TRUE(connect<ReadTransport>(rig, reader, first.read_end).ok());
    ASSERT_TRUE(connect<WriteTransport>(rig, writer, second.write_end).ok());
    ::close(first.write_end);
    ::close(second.read_end);
    EXPECT_EQ(fds_not_cloexec_nonblocking(with_loop, true), "");
    ASSERT_TRUE(rig.run_until([&] { return reader->lost_count == 1; }));
    EXPECT_EQ(reader->reader().get_extra_info("pipe")->at("fd"), -1);
    // The write pipe is still open: the loop closes it.
  }
  EXPECT_EQ(open_fds(), before);
}

}  // namespace
}  // namespace loopspec::reference::testing
