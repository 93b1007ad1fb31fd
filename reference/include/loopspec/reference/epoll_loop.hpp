// The reference event loop: epoll, a FIFO of ready callbacks, a timer heap.
//
// Promises (asyncio's BaseEventLoop._run_once, iteration by iteration):
// - One iteration waits in epoll_wait (not at all when callbacks are ready or
//   stop() was called; otherwise until the nearest timer, rounded up to the
//   millisecond), then runs, in this order: the callbacks ready when it
//   started (call_soon order), the fd events it got, the timers now due
//   (deadline order, equal deadlines in scheduling order). Callbacks scheduled
//   meanwhile run in the next iteration.
// - stop() makes run_forever return after the current iteration; called
//   before run_forever, run_forever runs one iteration and returns.
// - call_soon_threadsafe may be called from any thread; it wakes the loop
//   through an eventfd.
// - An exception escaping a callback goes to the exception handler
//   (kit::LoopBase) and the loop goes on. Transports catch the exceptions of
//   protocol callbacks themselves and close with the canonical error.
// - time() is steady_clock in seconds.
// - Every fd the loop opens is non-blocking and close-on-exec. Destroying the
//   loop closes every fd still watched and lets go of every transport, so
//   nothing leaks when a loop is dropped with connections open.
//
// The fd-watching API is for this library's transports and servers: an fd is
// watched by one FdWatcher from watch_fd() to unwatch_fd(); reading/writing
// interest can be switched at any time and costs an epoll_ctl only when it
// changes. An event is delivered only if the interest is still on when its
// turn comes, so turning interest off (pause_reading, close) takes effect even
// for events already returned by epoll_wait.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/loop_base.hpp"
#include "loopspec/reference/timer_queue.hpp"

namespace loopspec::reference {

// Lives on a loop and may hold protocols, which may hold it back: the loop
// breaks such cycles when it is destroyed first.
class LoopResident {
 public:
  virtual ~LoopResident() = default;
  // The loop is being destroyed: close fds, drop protocols and never touch
  // the loop again.
  virtual void on_loop_destroyed() = 0;
};

class FdWatcher : public LoopResident {
 public:
  virtual void on_readable() = 0;
  virtual void on_writable() = 0;
};

class EpollLoop final : public kit::LoopBase {
 public:
  explicit EpollLoop(kit::Faults faults = {});
  ~EpollLoop() override;
  EpollLoop(const EpollLoop&) = delete;
  EpollLoop& operator=(const EpollLoop&) = delete;

  // EventLoop
  void run_forever() override;
  void stop() override;
  Duration time() override;
  void call_soon(std::function<void()> callback) override;
  void call_soon_threadsafe(std::function<void()> callback) override;
  std::shared_ptr<TimerHandle> call_later(Duration delay, std::function<void()> callback) override;
  void create_connection(StreamProtocolFactory factory, Address address, ConnectOptions options,
                         Completion<Transport> done) override;
  void create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                     Completion<Server> done) override;
  void connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                               Completion<Transport> done) override;
  void create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                Completion<DatagramTransport> done) override;
  // Pipes, FIFOs, ptys and sockets; fd is the transport's from the call on,
  // and closed when the setup fails.
  void connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done) override;
  void connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done) override;
  // Child processes: started at once; a child that cannot start completes `done` with its error.
  void subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv, SubprocessOptions options,
                       Completion<SubprocessTransport> done) override;
  // /bin/sh -c command.
  void subprocess_shell(SubprocessProtocolFactory factory, std::string command, SubprocessOptions options,
                        Completion<SubprocessTransport> done) override;

  // asyncio's call_at: `when` on the time() scale.
  std::shared_ptr<TimerHandle> call_at(Duration when, std::function<void()> callback);
  bool is_running() const { return running_; }
  // Nothing is left to run or watch: no ready callback, no timer, no watched fd, no live resident.
  // An idle loop that is not running behaves as a new one would (the fuzz targets reuse it).
  bool idle();

  // The signal SubprocessTransport.close() sends a running child: SIGKILL (the
  // 3.8 page, the default) or SIGTERM (3.4.3).
  void set_subprocess_close_signal(int signal) { subprocess_close_signal_ = signal; }
  int subprocess_close_signal() const { return subprocess_close_signal_; }
  // fd watching (see the top comment).
  void watch_fd(int fd, std::shared_ptr<FdWatcher> watcher);
  void set_reading(int fd, bool on);
  void set_writing(int fd, bool on);
  // Stops watching; call before closing the fd.
  void unwatch_fd(int fd);
  // Whether reading interest is on for a watched fd.
  bool is_reading_fd(int fd);
  // A resident without an fd of its own (a child process transport), told of
  // the loop's destruction after the fd watchers. Held weakly.
  void add_resident(std::weak_ptr<LoopResident> resident);

 private:
  struct Watch {
    std::shared_ptr<FdWatcher> watcher;
    std::uint32_t serial = 0;  // 0: not watched; tells a reused fd number from its predecessor
    bool reading = false;
    bool writing = false;
    std::uint32_t registered = 0;  // events currently in the epoll set (0: not in it)
  };

  void run_once();
  int poll_timeout_ms();
  void take_threadsafe_callbacks();
  void dispatch(const epoll_event& event);
  void update_interest(int fd);
  Watch* find_watch(int fd, std::uint32_t serial);
  template <class F>
  void run_guarded(std::string_view context, F&& callback);

  int subprocess_close_signal_ = SIGKILL;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  bool running_ = false;
  bool stopping_ = false;

  std::vector<std::function<void()>> ready_;
  std::vector<std::function<void()>> running_batch_;
  TimerQueue timers_;
  std::vector<std::shared_ptr<TimerQueue::Timer>> due_timers_;
  std::vector<epoll_event> events_;

  std::vector<Watch> watches_;  // indexed by fd
  std::uint32_t next_serial_ = 1;
  std::vector<std::weak_ptr<LoopResident>> residents_;

  std::mutex threadsafe_mutex_;
  std::vector<std::function<void()>> threadsafe_;
  std::atomic<bool> wake_pending_{false};
};

}  // namespace loopspec::reference
