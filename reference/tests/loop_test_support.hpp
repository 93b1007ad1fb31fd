// Test support for the reference loop's own tests: a runner that waits on
// events, recording protocols, and a raw socket end driven by the test.
//
// Waiting is event-driven: LoopRunner::run_until runs the loop until a
// condition holds, re-checked after every recorded protocol callback and
// every change at a RawEnd; a timer only guards against hangs. RawEnd is
// watched by the loop under test through its fd API, so the bytes it reads
// and the EOF it sees are observed in the same single thread, without sleeps.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loopspec/reference/epoll_loop.hpp"

namespace loopspec::reference::testing {

class LoopRunner {
 public:
  explicit LoopRunner(EpollLoop& loop) : loop_(loop) {}

  // Runs the loop until cond() holds, noticed through notify(); false on timeout.
  bool run_until(const std::function<bool()>& cond, double timeout_seconds = 10.0) {
    if (cond()) return true;
    cond_ = &cond;
    bool timed_out = false;
    auto guard = loop_.call_later(Duration(timeout_seconds), [&] {
      timed_out = true;
      loop_.stop();
    });
    loop_.run_forever();
    guard->cancel();
    cond_ = nullptr;
    // A condition that came true unnoticed (no notify) is a bug in the test: it fails too.
    return !timed_out && cond();
  }

  // Runs exactly n loop iterations (each polls the fds once without waiting).
  void run_iterations(int n) {
    for (int i = 0; i < n; ++i) {
      loop_.stop();
      loop_.run_forever();
    }
  }

  // Called after every observed event.
  void notify() {
    if (cond_ != nullptr && (*cond_)()) loop_.stop();
  }

 private:
  EpollLoop& loop_;
  const std::function<bool()>* cond_ = nullptr;
};

// A Protocol that logs every callback ("made", "data", "eof", "lost", "pause",
// "resume") and lets a test hook into each.
class RecordingProtocol : public Protocol {
 public:
  explicit RecordingProtocol(LoopRunner* runner = nullptr) : runner_(runner) {}

  std::vector<std::string> events;
  std::string received;
  std::vector<std::size_t> chunk_sizes;
  std::shared_ptr<Transport> transport;
  MaybeError lost_error;
  int lost_count = 0;
  int made_count = 0;
  int eof_count = 0;
  std::vector<std::size_t> sizes_at_pause;   // get_write_buffer_size() when pause_writing came
  std::vector<std::size_t> sizes_at_resume;  // ... when resume_writing came
  bool keep_open_on_eof = false;

  std::function<void()> on_made;
  std::function<void(std::string_view)> on_data;
  std::function<void()> on_eof;
  std::function<void()> on_pause;
  std::function<void()> on_resume;
  std::function<void()> on_lost;

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<Transport>(t);
    ++made_count;
    events.push_back("made");
    if (on_made) on_made();
    poke();
  }
  void data_received(std::string_view data) override {
    received.append(data);
    chunk_sizes.push_back(data.size());
    events.push_back("data");
    if (on_data) on_data(data);
    poke();
  }
  bool eof_received() override {
    ++eof_count;
    events.push_back("eof");
    if (on_eof) on_eof();
    poke();
    return keep_open_on_eof;
  }
  void pause_writing() override {
    sizes_at_pause.push_back(transport->get_write_buffer_size());
    events.push_back("pause");
    if (on_pause) on_pause();
    poke();
  }
  void resume_writing() override {
    sizes_at_resume.push_back(transport->get_write_buffer_size());
    events.push_back("resume");
    if (on_resume) on_resume();
    poke();
  }
  void connection_lost(const MaybeError& exc) override {
    ++lost_count;
    lost_error = exc;
    events.push_back("lost");
    if (on_lost) on_lost();
    poke();
  }

  int count(const std::string& event) const {
    int n = 0;
    for (const auto& e : events) n += e == event;
    return n;
  }

 protected:
  void poke() {
    if (runner_ != nullptr) runner_->notify();
  }
  LoopRunner* runner_;
};

// A BufferedProtocol with a fixed buffer; logs "made", "get_buffer",
// "updated", "eof", "lost".
class RecordingBufferedProtocol : public BufferedProtocol {
 public:
  RecordingBufferedProtocol(LoopRunner* runner, std::size_t buffer_size) : runner_(runner), buffer_(buffer_size) {}

  std::vector<std::string> events;
  std::string received;
  std::vector<std::int64_t> sizehints;
  std::vector<std::size_t> updated_sizes;
  std::shared_ptr<Transport> transport;
  MaybeError lost_error;
  int lost_count = 0;
  std::function<void()> on_get_buffer;

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<Transport>(t);
    events.push_back("made");
    poke();
  }
  std::span<char> get_buffer(std::int64_t sizehint) override {
    sizehints.push_back(sizehint);
    events.push_back("get_buffer");
    if (on_get_buffer) on_get_buffer();
    poke();
    return {buffer_.data(), buffer_.size()};
  }
  void buffer_updated(std::size_t nbytes) override {
    updated_sizes.push_back(nbytes);
    received.append(buffer_.data(), nbytes);
    events.push_back("updated");
    poke();
  }
  bool eof_received() override {
    events.push_back("eof");
    poke();
    return false;
  }
  void connection_lost(const MaybeError& exc) override {
    ++lost_count;
    lost_error = exc;
    events.push_back("lost");
    poke();
  }

 private:
  void poke() {
    if (runner_ != nullptr) runner_->notify();
  }
  LoopRunner* runner_;
  std::vector<char> buffer_;
};

// The callbacks a recording protocol saw, in order ("made", "lost", ...);
// each one wakes the runner, so tests can wait on them.
class EventLog {
 public:
  explicit EventLog(LoopRunner& runner) : runner_(runner) {}

  std::vector<std::string> events;

  void note(std::string event) {
    events.push_back(std::move(event));
    wake();
  }
  // For callbacks that are not logged (data, for instance).
  void wake() { runner_.notify(); }

 private:
  LoopRunner& runner_;
};

// A descriptor of the test's own (a peer end, a raw socket), watched by the
// loop under test: it is closed by close(), on destruction, or when the loop
// goes first, and stops being watched before it is closed. Events wake the
// runner through the derived class.
class WatchedFd : public FdWatcher {
 public:
  WatchedFd(EpollLoop& loop, LoopRunner& runner, int fd) : loop_(&loop), runner_(runner), fd_(fd) {}
  ~WatchedFd() override { close(); }

  // Watches `watched` with reading on.
  template <class T>
  static std::shared_ptr<T> watch(std::shared_ptr<T> watched) {
    watched->loop_->watch_fd(watched->fd_, watched);
    watched->set_reading(true);
    return watched;
  }

  int fd() const { return fd_; }
  void set_reading(bool on) {
    if (loop_ != nullptr && fd_ >= 0) loop_->set_reading(fd_, on);
  }
  void close() {
    if (fd_ < 0) return;
    if (loop_ != nullptr) loop_->unwatch_fd(fd_);
    ::close(fd_);
    fd_ = -1;
  }

  void on_writable() override {}
  void on_loop_destroyed() override {
    loop_ = nullptr;
    close();
  }

 protected:
  void set_writing(bool on) {
    if (loop_ != nullptr && fd_ >= 0) loop_->set_writing(fd_, on);
  }

  EpollLoop* loop_;
  LoopRunner& runner_;
  int fd_;
};

// The other end of a connection, driven by the test and watched by the loop.
class RawEnd final : public WatchedFd {
 public:
  RawEnd(EpollLoop& loop, LoopRunner& runner, int fd) : WatchedFd(loop, runner, fd) {
    int flags = ::fcntl(fd_, F_GETFL);
    ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  }

  static std::shared_ptr<RawEnd> adopt(EpollLoop& loop, LoopRunner& runner, int fd) {
    return watch(std::make_shared<RawEnd>(loop, runner, fd));
  }

  std::string received;
  bool eof = false;
  int error = 0;

  void send(std::string_view data) {
    pending_.append(data);
    flush();
  }
  // Stops reading, so that the kernel buffers fill and back-pressure builds.
  void stop_reading() { set_reading(false); }
  void resume_reading() { set_reading(true); }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Bytes received plus bytes waiting in the kernel for this end.
  std::size_t available() const {
    int queued = 0;
    if (fd_ >= 0) ::ioctl(fd_, FIONREAD, &queued);
    return received.size() + static_cast<std::size_t>(queued);
  }
  // TCP: RST instead of FIN.
  void reset() {
    linger hard{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close();
  }

  void on_readable() override {
    char buffer[64 * 1024];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      received.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      eof = true;
      set_reading(false);
    } else if (errno != EAGAIN && errno != EINTR) {
      error = errno;
      set_reading(false);
    }
    runner_.notify();
  }
  void on_writable() override {
    flush();
    runner_.notify();
  }

 private:
  void flush() {
    while (!pending_.empty()) {
      ssize_t n = ::send(fd_, pending_.data(), pending_.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      pending_.erase(0, static_cast<std::size_t>(n));
    }
    set_writing(!pending_.empty());
  }

  std::string pending_;
};

// The descriptors open in this process (the directory listing's own excluded).
inline std::set<int> open_fds() {
  std::set<int> fds;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    int own = ::dirfd(dir);
    while (auto* entry = ::readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      int fd = std::atoi(entry->d_name);
      if (fd != own) fds.insert(fd);
    }
    ::closedir(dir);
  }
  return fds;
}

inline int count_open_fds() { return static_cast<int>(open_fds().size()); }

// Descriptors opened since `before` that are not close-on-exec and non-blocking
// as every descriptor of the loop must be ("fd N: flags" lines; empty when all are).
inline std::string fds_not_cloexec_nonblocking(const std::set<int>& before, bool check_nonblocking) {
  std::string bad;
  for (int fd : open_fds()) {
    if (before.count(fd) != 0) continue;
    bool cloexec = (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
    bool nonblocking = (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
    if (!cloexec || (check_nonblocking && !nonblocking)) bad += "fd " + std::to_string(fd) + " ";
  }
  return bad;
}

// Deterministic bytes: position i holds a value derived from i.
inline std::string pattern(std::size_t size, std::size_t seed = 0) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return out;
}

// Runs start(done) and the loop until `done` was called; throws naming
// `what` when it never is.
template <class T>
Outcome<T> await_outcome(LoopRunner& runner, const std::function<void(Completion<T>)>& start, const std::string& what) {
  std::optional<Outcome<T>> outcome;
  start([&](Outcome<T> o) {
    outcome = std::move(o);
    runner.notify();
  });
  if (!runner.run_until([&] { return outcome.has_value(); })) throw std::runtime_error(what + " hung");
  return std::move(*outcome);
}

// A loop (with the given faults) and its runner.
struct LoopRig {
  explicit LoopRig(kit::Faults faults = {}) : loop(faults) {}

  EpollLoop loop;
  LoopRunner runner{loop};

  bool run_until(const std::function<bool()>& cond, double timeout_seconds = 10.0) {
    return runner.run_until(cond, timeout_seconds);
  }
};

// A loop, its runner and one connection to a RawEnd.
struct Rig : LoopRig {
  explicit Rig(kit::Faults faults = {}) : LoopRig(faults) {}

  std::shared_ptr<RawEnd> raw;

  // A Unix socketpair: one end adopted through connect_accepted_socket, the other the RawEnd.
  std::shared_ptr<Transport> connect_pair(std::shared_ptr<StreamProtocol> protocol) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) throw std::runtime_error("socketpair");
    raw = RawEnd::adopt(loop, runner, fds[1]);
    return finish(protocol, [&](Completion<Transport> done) {
      loop.connect_accepted_socket([protocol] { return protocol; }, fds[0], {}, std::move(done));
    });
  }

  // TCP over loopback: create_connection to a raw listener, whose accepted socket is the RawEnd.
  std::shared_ptr<Transport> connect_tcp(std::shared_ptr<StreamProtocol> protocol) {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), length) < 0 || ::listen(listener, 8) < 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) < 0) {
      ::close(listener);
      throw std::runtime_error("listener");
    }
    auto transport = finish(protocol, [&](Completion<Transport> done) {
      loop.create_connection([protocol] { return protocol; }, InetAddress{"127.0.0.1", ntohs(address.sin_port)}, {},
                             std::move(done));
    });
    // The handshake is complete (create_connection succeeded), so accept does not block.
    int accepted = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(listener);
    raw = RawEnd::adopt(loop, runner, accepted);
    return transport;
  }

  // Writes pattern(chunk) until the transport has to queue (the peer must
  // not be reading); returns the bytes written.
  std::size_t fill_until_queued(WriteTransport& transport, std::size_t chunk = 16 * 1024) {
    std::string data = pattern(chunk);
    std::size_t total = 0;
    for (int i = 0; i < 100000 && transport.get_write_buffer_size() == 0; ++i) {
      transport.write(data);
      total += chunk;
    }
    return total;
  }

 private:
  std::shared_ptr<Transport> finish(const std::shared_ptr<StreamProtocol>& protocol,
                                    const std::function<void(Completion<Transport>)>& start) {
    auto outcome = await_outcome<Transport>(runner, start, "connection setup");
    if (!outcome.ok()) throw std::runtime_error("connection setup failed: " + outcome.error->to_string());
    return outcome.value;
  }
};

}  // namespace loopspec::reference::testing
