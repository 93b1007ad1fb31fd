// Test support for the Asio backend's own tests: waiting on events, a
// protocol that keeps a log, and a stream connected to a harness Peer.
//
// Waiting is event-driven: wait_for runs the loop one iteration at a time and
// checks its condition after each. An iteration blocks in io_context::run_one
// until something completes (I/O, a timer, or a Peer change: the Peer's
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

#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/peer.hpp"

namespace loopspec::asio::testing {

// Runs iterations of loop until done() holds; false when `seconds` passed first.
inline bool wait_for(AsioLoop& loop, const std::function<bool()>& done, double seconds = 10.0) {
  bool expired = false;
  auto guard = loop.call_later(Duration(seconds), [&] { expired = true; });
  while (!done() && !expired) {
    loop.stop();
    loop.run_forever();  // one iteration
  }
  guard->cancel();
  return done();
}

// A Protocol that keeps a log of its callbacks ("made", "data", "eof",
// "pause", "resume", "lost") and the bytes it got; hooks let a test act
// inside a callback.
class LogProtocol : public Protocol {
 public:
  std::vector<std::string> log;
  std::string bytes;
  std::shared_ptr<Transport> transport;      // a stream's
  std::shared_ptr<WriteTransport> writer;    // a stream's or a write pipe's
  MaybeError lost_with;
  bool keep_open = false;                      // eof_received's answer
  std::vector<std::size_t> buffered_at_pause;  // get_write_buffer_size() inside pause_writing
  std::vector<std::size_t> buffered_at_resume;
  std::function<void()> when_data;

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<Transport>(t);
    writer = std::dynamic_pointer_cast<WriteTransport>(t);
    log.emplace_back("made");
  }
  void data_received(std::string_view data) override {
    bytes.append(data);
    log.emplace_back("data");
    if (when_data) when_data();
  }
  bool eof_received() override {
    log.emplace_back("eof");
    return keep_open;
  }
  void pause_writing() override {
    buffered_at_pause.push_back(writer->get_write_buffer_size());
    log.emplace_back("pause");
  }
  void resume_writing() override {
    buffered_at_resume.push_back(writer->get_write_buffer_size());
    log.emplace_back("resume");
  }
  void connection_lost(const MaybeError& exc) override {
    lost_with = exc;
    log.emplace_back("lost");
    transport.reset();  // no cycle left behind
    writer.reset();
  }
  int count(const std::string& what) const { return static_cast<int>(std::count(log.begin(), log.end(), what)); }
  bool lost() const { return count("lost") > 0; }
};

// One end of a socketpair adopted by the loop (connect_accepted_socket), the
// other a Peer on its own thread.
class StreamWithPeer : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    peer = Peer::adopt(fds[1]);
    peer->set_notify([this] { loop.call_soon_threadsafe([] {}); });
    loop.connect_accepted_socket([p = protocol] { return p; }, fds[0], {}, [](Outcome<Transport>) {});
    ASSERT_TRUE(wait_for(loop, [&] { return protocol->transport != nullptr; }));
  }
  void TearDown() override {
    if (peer) peer->set_notify(nullptr);
  }
  Transport& transport() { return *protocol->transport; }
  bool peer_has(std::size_t n) {
    return wait_for(loop, [&] { return peer->received().size() >= n; });
  }

  AsioLoop loop;
  std::shared_ptr<LogProtocol> protocol = std::make_shared<LogProtocol>();
  std::unique_ptr<Peer> peer;
};

// n bytes whose every offset differs from its neighbours over a long period.
inline std::string bytes_of(std::size_t n) {
  std::string data(n, '\0');
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>('A' + (i * 13 + i / 509) % 53);
  return data;
}

// The descriptors open in this process now.
inline int descriptors_open() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count - 3;  // ".", ".." and the directory's own descriptor
}

}  // namespace loopspec::asio::testing
