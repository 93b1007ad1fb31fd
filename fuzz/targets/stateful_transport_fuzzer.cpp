// The reference loop's stream transport under any sequence of operations.
//
// The input is a program: byte 0 sets the protocol's kind (Protocol or
// BufferedProtocol, then byte 1 its buffer size), its eof_received answer and
// the step budget, then each operation is an opcode byte and its argument
// bytes (missing bytes read as zero). The application side (write, writelines,
// set_write_buffer_limits, pause/resume_reading, write_eof, close, abort) goes
// through a recorded protocol's transport; the peer side is the other end of a
// socketpair, driven in the same thread (send, read a chunk, stop/resume
// reading, half-close, reset). One loop iteration runs after every operation.
// Oracles: the checker finds no violation in the trace; the peer receives a
// prefix of what was written, in order, and, when the transport ended by
// close() with no error, at least every byte written before it was closing; after
// abort() no byte that was still in the transport's buffer arrives; the
// protocol receives a prefix of what the peer sent; connection_lost comes
// exactly once; no descriptor leaks. A write made while the transport is
// closing (after close(), or after end of file closed it) carries no promise:
// asyncio sends it only while earlier data is still buffered.
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loopspec/checker.hpp"
#include "loopspec/recorder.hpp"
#include "loopspec/reference/epoll_loop.hpp"

namespace {

using namespace loopspec;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "stateful transport: %s\n", what.c_str());
  std::abort();
}

// Byte i of either direction's stream: a pattern whose shifts and losses show as mismatches.
char pattern(std::size_t i) { return static_cast<char>((i * 131 + (i >> 9)) & 0xff); }
// The pattern repeats every kPatternPeriod bytes (i * 131 every 256, i >> 9 every 2^17 once masked), so
// its bytes are computed once and every run copies or compares them from here (a byte at a time they
// were 15% of a run under ASan). The table holds one period and the longest single write past it.
constexpr std::size_t kPatternPeriod = std::size_t{1} << 17;
constexpr std::size_t kLongestPiece = 16 * 1024;  // peer.send's 16383, write's 8191, writelines' 255 * 16
const char* pattern_at(std::size_t from) {
  static const std::string table = [] {
    std::string t(kPatternPeriod + kLongestPiece, '\0');
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = pattern(i);
    return t;
  }();
  return table.data() + from % kPatternPeriod;
}
std::string_view pattern_view(std::size_t from, std::size_t size) {
  if (size > kLongestPiece) std::abort();  // no operation asks for more
  return {pattern_at(from), size};
}
bool is_pattern_prefix(const std::string& data) {
  for (std::size_t i = 0; i < data.size(); i += kLongestPiece) {
    std::size_t n = std::min(kLongestPiece, data.size() - i);
    if (std::memcmp(data.data() + i, pattern_at(i), n) != 0) return false;
  }
  return true;
}

// Entries of /proc/self/fd (with "." and ".."), read through one descriptor kept open for the process
// and rewound each time: opendir's open, 32 KiB buffer and close on every call were 6% of a run.
int open_fds() {
  static const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 || ::lseek(dir, 0, SEEK_SET) != 0) return -1;
  alignas(8) char buffer[4096];
  int n = 0;
  for (;;) {
    long got = ::syscall(SYS_getdents64, dir, buffer, sizeof buffer);
    if (got < 0) return -1;
    if (got == 0) return n;
    for (long at = 0; at < got;) {
      unsigned short length;
      std::memcpy(&length, buffer + at + offsetof(struct dirent64, d_reclen), sizeof length);
      at += length;
      ++n;
    }
  }
}

struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  bool done() const { return at >= size; }
  std::uint8_t u8() { return at < size ? data[at++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
};

// What the application's protocol saw, whichever kind it is.
struct Observed {
  bool keep_open_on_eof = false;
  std::shared_ptr<Transport> transport;
  std::string received;
  int lost = 0;
  MaybeError lost_error;
};

template <class Base>
class Subject : public Base, public Observed {
 public:
  void connection_made(std::shared_ptr<BaseTransport> t) override { transport = std::dynamic_pointer_cast<Transport>(t); }
  bool eof_received() override { return keep_open_on_eof; }
  void connection_lost(const MaybeError& exc) override {
    ++lost;
    lost_error = exc;
  }
};

class PlainSubject final : public Subject<Protocol> {
 public:
  void data_received(std::string_view data) override { received.append(data); }
};

// Lends buffers of a size the input chose, so reads are cut at any length.
class BufferedSubject final : public Subject<BufferedProtocol> {
 public:
  explicit BufferedSubject(std::size_t size) : buffer_(size) {}
  std::span<char> get_buffer(std::int64_t) override { return buffer_; }
  void buffer_updated(std::size_t nbytes) override { received.append(buffer_.data(), nbytes); }

 private:
  std::vector<char> buffer_;
};

// The other end of the socketpair, driven from the fuzz input.
struct Peer {
  int fd = -1;
  bool reading = true;
  bool reset = false;
  std::size_t sent = 0;
  std::string received;

  void send(std::size_t size) {
    if (fd < 0 || size == 0) return;
    std::string_view bytes = pattern_view(sent, size);
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  void read(std::size_t limit) {
    char buffer[16 * 1024];
    while (fd >= 0 && limit > 0) {
      ssize_t n = ::recv(fd, buffer, std::min(limit, sizeof buffer), MSG_DONTWAIT);
      if (n <= 0) return;
      received.append(buffer, static_cast<std::size_t>(n));
      limit -= static_cast<std::size_t>(n);
    }
  }
  void close(bool with_reset) {
    if (fd < 0) return;
    if (with_reset) {
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      reset = true;
    }
    ::close(fd);
    fd = -1;
  }
};

// One loop for the process, made again only when a run leaves it holding work: an idle loop is as
// good as a new one, and making one per run (epoll and eventfd descriptors, a 256 KiB read buffer,
// which under ASan is an mmap and a munmap with its TLB flush) was 40% of a run. Made before the
// first run counts its descriptors.
std::unique_ptr<reference::EpollLoop> kept_loop;

void run_program(Input& in) {
  std::uint8_t setup = in.u8();
  const int max_steps = 8 + setup % 64;  // bits 0-5

  reference::EpollLoop& loop = *kept_loop;
  auto iterate = [&loop] {
    loop.stop();
    loop.run_forever();
  };
  Checker checker;
  Recorder recorder(checker);
  // Bit 6 of the setup byte: a BufferedProtocol with buffers of the next byte's size (1 to 256).
  std::shared_ptr<StreamProtocol> protocol;
  Observed* subject = nullptr;
  if (setup & 0x40) {
    auto buffered = std::make_shared<BufferedSubject>(1 + in.u8());
    subject = buffered.get();
    protocol = buffered;
  } else {
    auto plain = std::make_shared<PlainSubject>();
    subject = plain.get();
    protocol = plain;
  }
  subject->keep_open_on_eof = (setup & 0x80) != 0;
  auto recorded = recorder.record_stream(protocol);

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) finding("socketpair failed");
  Peer peer;
  peer.fd = fds[1];
  bool connected = false;
  loop.connect_accepted_socket([recorded] { return recorded; }, fds[0], ServerOptions{},
                               [&](Outcome<Transport> outcome) { connected = outcome.ok(); });
  for (int i = 0; i < 4 && !connected; ++i) iterate();
  if (!connected || !subject->transport) finding("connect_accepted_socket did not complete");
  Transport& t = *subject->transport;

  std::size_t written = 0;      // bytes the application's writes accepted
  std::size_t must_arrive = 0;  // of those, the ones written while the transport was not closing
  std::optional<std::size_t> aborted_unsent;  // `written` less the buffer, when abort() was called
  auto accepted = [&](std::size_t size, bool was_closing) {
    written += size;
    if (!was_closing && !aborted_unsent) must_arrive = written;
  };
  auto write_bytes = [&](std::size_t size) {
    std::string_view bytes = pattern_view(written, size);
    bool was_closing = t.is_closing();
    try {
      t.write(bytes);
      accepted(size, was_closing);
    } catch (const ContractError&) {
      // write after write_eof raises; nothing was taken
    }
  };

  for (int step = 0; step < max_steps && !in.done(); ++step) {
    switch (in.u8() % 16) {
      case 0: write_bytes(in.u16() % 8192); break;
      case 1: {
        std::vector<std::string_view> views;
        std::size_t total = 0;
        for (int k = in.u8() % 4; k >= 0; --k) {
          std::size_t size = in.u8() * 16u;
          views.push_back(pattern_view(written + total, size));
          total += size;
        }
        bool was_closing = t.is_closing();
        try {
          t.writelines(views);
          accepted(total, was_closing);
        } catch (const ContractError&) {
        }
        break;
      }
      case 2: {
        std::uint8_t which = in.u8();
        std::optional<std::int64_t> high, low;
        if (which & 1) high = in.u16();
        if (which & 2) low = in.u16();
        try {
          t.set_write_buffer_limits(high, low);
        } catch (const ContractError&) {
          // low > high raises ValueError: the checker sees it was right to
        }
        break;
      }
      case 3: t.pause_reading(); break;
      case 4: t.resume_reading(); break;
      case 5:
        try {
          if (t.can_write_eof()) t.write_eof();
        } catch (const ContractError&) {
        }
        break;
      case 6: t.close(); break;
      case 7:
        if (!aborted_unsent && subject->lost == 0) aborted_unsent = written - t.get_write_buffer_size();
        t.abort();
        break;
      case 8: peer.send(in.u16() % 16384); break;
      case 9: peer.read(in.u16()); break;
      case 10: peer.reading = false; break;
      case 11: peer.reading = true; break;
      case 12: if (peer.fd >= 0) ::shutdown(peer.fd, SHUT_WR); break;
      case 13: peer.close(true); break;
      case 14: for (int k = in.u8() % 4; k >= 0; --k) iterate(); break;
      case 15: t.is_closing(), t.is_reading(), t.get_write_buffer_size(), t.get_write_buffer_limits(); break;
    }
    if (peer.reading) peer.read(SIZE_MAX);
    iterate();
  }

  // The application closes; the peer reads everything until the transport is gone.
  t.close();
  peer.reading = true;
  for (int i = 0; i < 1000 && subject->lost == 0; ++i) {
    peer.read(SIZE_MAX);
    iterate();
  }
  peer.read(SIZE_MAX);
  if (subject->lost != 1) finding("connection_lost came " + std::to_string(subject->lost) + " times, expected once");
  for (int i = 0; i < 4; ++i) iterate();
  if (subject->lost != 1) finding("connection_lost came again after the first");
  checker.on_end(true);
  if (!checker.violations().empty()) finding("checker: " + checker.violations().front().message());

  if (!is_pattern_prefix(peer.received)) finding("the peer received bytes that were not written, or not in order");
  if (peer.received.size() > written) finding("the peer received more bytes than were written");
  if (!aborted_unsent && !subject->lost_error && !peer.reset && peer.received.size() < must_arrive) {
    finding("close() lost data: " + std::to_string(must_arrive) + " bytes written before the transport was closing, " +
            std::to_string(peer.received.size()) + " arrived");
  }
  if (aborted_unsent && peer.received.size() > *aborted_unsent) {
    finding("bytes still buffered at abort() arrived: " + std::to_string(peer.received.size()) + " > " +
            std::to_string(*aborted_unsent));
  }
  if (!is_pattern_prefix(subject->received) || subject->received.size() > peer.sent) {
    finding("the protocol received bytes the peer did not send, or not in order");
  }
  peer.close(false);
  // Dropped here, as the loop of a run always was, while the run's protocol and recorder still live,
  // and replaced, so that the descriptors counted after the run are those counted before.
  if (!loop.idle()) kept_loop = std::make_unique<reference::EpollLoop>();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Counted around each input, not once per process: libFuzzer itself opens two pipes to
  // llvm-symbolizer the first time it prints a new function, between inputs.
  if (!kept_loop) kept_loop = std::make_unique<reference::EpollLoop>();
  const int baseline = open_fds();
  Input in{data, size};
  run_program(in);
  int now = open_fds();
  if (now != baseline) finding("descriptors leaked: " + std::to_string(now) + " open, " + std::to_string(baseline) + " before");
  return 0;
}
