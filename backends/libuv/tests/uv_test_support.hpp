// Test support for the libuv backend's own tests: a runner that waits on
// events, a recording protocol, and a connection to a harness Peer.
//
// Waiting is event-driven: run_until runs the loop one iteration at a time
// and checks its condition after each. An iteration blocks in libuv's poll
// until something happens (I/O, a timer, or a Peer change: the Peer's
// thread wakes the loop through call_soon_threadsafe); a timer only guards
// against hangs.
#pragma once

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loopspec/libuv/uv_loop.hpp"
#include "loopspec/peer.hpp"

namespace loopspec::libuv::testing {

class LoopRunner {
 public:
  explicit LoopRunner(UvLoop& loop) : loop_(loop) {}

  // Runs iterations until cond() holds; false when timeout_seconds passed first.
  bool run_until(const std::function<bool()>& cond, double timeout_seconds = 10.0) {
    bool expired = false;
    auto alarm = loop_.call_later(Duration(timeout_seconds), [&] { expired = true; });
    while (!cond() && !expired) run_iterations(1);
    alarm->cancel();
    return cond();
  }

  void run_iterations(int n) {
    for (int i = 0; i < n; ++i) {
      loop_.stop();
      loop_.run_forever();
    }
  }

  // For a Peer's notify hook (another thread): ends the iteration waiting in poll.
  std::function<void()> wake_from_another_thread() {
    return [&loop = loop_] { loop.call_soon_threadsafe([] {}); };
  }

 private:
  UvLoop& loop_;
};

// A Protocol that logs every callback and lets a test hook into each.
class RecordingProtocol : public Protocol {
 public:

  std::vector<std::string> events;
  std::string received;
  std::shared_ptr<Transport> transport;
  MaybeError lost_error;
  int lost_count = 0;
  int eof_count = 0;
  bool keep_open_on_eof = false;
  std::vector<std::size_t> sizes_at_pause;
  std::vector<std::size_t> sizes_at_resume;
  std::function<void(std::string_view)> on_data;
  std::function<void()> on_resume;

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<Transport>(t);
    writer_ = std::dynamic_pointer_cast<WriteTransport>(t);
    record("made");
  }
  void data_received(std::string_view data) override {
    received.append(data);
    events.push_back("data");
    if (on_data) on_data(data);
  }
  bool eof_received() override {
    ++eof_count;
    record("eof");
    return keep_open_on_eof;
  }
  void pause_writing() override {
    sizes_at_pause.push_back(writer_->get_write_buffer_size());
    record("pause");
  }
  void resume_writing() override {
    sizes_at_resume.push_back(writer_->get_write_buffer_size());
    if (on_resume) on_resume();
    record("resume");
  }
  void connection_lost(const MaybeError& exc) override {
    ++lost_count;
    lost_error = exc;
    record("lost");
    transport.reset();  // as a protocol should: no cycle left behind
    writer_.reset();
  }
  bool lost() const { return lost_count > 0; }

 private:
  void record(const char* event) { events.push_back(event); }
  std::shared_ptr<WriteTransport> writer_;  // the transport, when it writes (a socket or a write pipe)
};

// A fixture: a loop, its runner, and a socketpair whose one end the loop
// adopted (connect_accepted_socket) and whose other end is a Peer.
class PeerConnected : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    peer = Peer::adopt(fds[1]);
    peer->set_notify(runner.wake_from_another_thread());
    loop.connect_accepted_socket([p = protocol] { return p; }, fds[0], {}, [](Outcome<Transport>) {});
    ASSERT_TRUE(runner.run_until([&] { return protocol->transport != nullptr; }));
  }
  void TearDown() override {
    if (peer) peer->set_notify(nullptr);
  }
  Transport& transport() { return *protocol->transport; }
  // Stops the peer reading and writes n bytes of a pattern; returns them.
  std::string write_while_peer_waits(std::size_t n);

  UvLoop loop;
  LoopRunner runner{loop};
  std::shared_ptr<RecordingProtocol> protocol = std::make_shared<RecordingProtocol>();
  std::unique_ptr<Peer> peer;
};

// n bytes that differ at every offset of a long period.
inline std::string pattern(std::size_t n) {
  std::string data(n, '\0');
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return data;
}

inline std::string PeerConnected::write_while_peer_waits(std::size_t n) {
  peer->stop_reading();
  std::string data = pattern(n);
  transport().write(data);
  return data;
}

// The process's open descriptors.
// The descriptors open now. libuv makes a few once per process with its first loop and keeps them (the
// signal lock pipe), so the count starts with a loop made and destroyed: a test run alone in its process
// would otherwise take them for the leak of its own first loop.
inline int open_fd_count() {
  static const bool libuv_set_up = [] {
    UvLoop first;
    return true;
  }();
  (void)libuv_set_up;
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count - 3;  // ".", ".." and the directory's own descriptor
}

}  // namespace loopspec::libuv::testing
