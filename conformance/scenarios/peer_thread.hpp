// A thread that owns one descriptor and works it while the scenario's loop
// runs: the far end of a pipe, a FIFO, a pty or a datagram socket (stream
// sockets have loopspec::Peer).
//
// Promises:
// - Commands run on the peer thread, in the order they were posted, under the
//   peer's lock; between commands the thread polls the descriptor for the
//   events wanted() asks for (none: the descriptor is not polled, so a hung-up
//   end that nobody reads does not spin) and hands what it saw to on_ready().
// - After every command and every readiness the notify hook runs on the peer
//   thread, outside the lock: watch_with(ctx) makes it wake the scenario's
//   loop, so a wait re-checks its condition instead of sleeping.
// - SIGPIPE is blocked on the peer thread: writing to a pipe without a reader
//   gives EPIPE.
// - The destructor of the most derived class calls stop(): the thread is
//   joined before that class's state goes; the descriptor is closed after.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "loopspec/conformance/context.hpp"

namespace loopspec::scenarios {

class PeerThread {
 public:
  PeerThread(const PeerThread&) = delete;
  PeerThread& operator=(const PeerThread&) = delete;
  virtual ~PeerThread();

  // Every change this peer sees wakes ctx's loop to re-check the current wait.
  void watch_with(ScenarioContext& ctx);

 protected:
  // Takes ownership of fd (made non-blocking and close-on-exec here).
  explicit PeerThread(int fd);
  void start();  // the most derived constructor calls it last
  void stop();   // the most derived destructor calls it first
  void post(std::function<void()> command);
  // Closes the descriptor (peer thread, under the lock).
  void close_fd();
  // Waits (running ctx's loop) until every command posted before it ran and
  // then `last` ran (peer thread, under the lock): reading what already
  // arrived, for instance.
  void wait_for_commands(ScenarioContext& ctx, std::string_view what, std::function<void()> last);

  // Peer thread, under the lock: the poll events wanted now (0: do not poll).
  virtual short wanted() = 0;
  // Peer thread, under the lock: what poll reported for the descriptor.
  virtual void on_ready(short revents) = 0;

  mutable std::mutex mutex_;  // guards the derived classes' state too
  int fd_;

 private:
  void run();
  void wake();

  int wake_fd_ = -1;
  bool stopping_ = false;
  std::uint64_t syncs_posted_ = 0;  // wait_for_commands calls
  std::uint64_t syncs_done_ = 0;    // ... whose commands ran
  std::vector<std::function<void()>> commands_;
  std::function<void()> notify_;
  std::thread thread_;
};

}  // namespace loopspec::scenarios
