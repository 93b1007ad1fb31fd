// An asyncio event loop on a boost::asio::io_context.
//
// Promises (asyncio's BaseEventLoop._run_once, iteration by iteration):
// - One iteration: when no callback is ready and stop() was not called,
//   io_context::run_one() waits for the first completion (I/O readiness, a
//   timer, a call_soon_threadsafe post); then poll() runs every other
//   completion that is ready. Completions only append to the loop's queues:
//   an I/O completion schedules the transport's callback (as asyncio's
//   selector events join _ready), a timer's joins the due timers. Then the
//   batch is fixed: the callbacks ready now, in call_soon order, then the due
//   timers in deadline order (equal deadlines in scheduling order), and the
//   batch runs. What it schedules runs in a later iteration, and a transport
//   re-arms its wait only from its callback, so one readiness is handled
//   once per iteration and poll() always ends.
// - stop() makes run_forever return after the current iteration; called
//   before run_forever, run_forever runs one iteration and returns.
// - call_soon_threadsafe is the only method callable from another thread:
//   boost::asio::post to the io_context, whose completion appends the
//   callback to the ready queue (and wakes a run_one() waiting in epoll).
// - call_later arms one steady_timer per callback; Asio completes it only
//   once the deadline has passed on steady_clock, time()'s clock, so a
//   callback never runs early. The handle's cancel() stops it for good, also
//   once due but not yet run; it is a no-op once run, cancelled, or the loop
//   is gone.
// - An exception escaping a callback goes to the exception handler
//   (kit::LoopBase) and the loop goes on.
// - Never SIGPIPE: Asio sends on sockets with MSG_NOSIGNAL, but a pipe's
//   write(2) would raise it, and a reader that went away must be EPIPE.
//   SIGPIPE is blocked on the loop's thread while it runs and what the
//   writes raise is consumed (kit::SigpipeGuard); the process's
//   dispositions are left alone.
// - Residents: whatever owns an Asio I/O object (a transport, a server, a
//   timer, a child) is held by the loop while it is active (hold/let_go), as
//   asyncio's loop keeps what it watches alive. Destroying the loop tells
//   every resident once (on_loop_destroyed: it closes and destroys its I/O
//   objects and lets go of its protocol), then destroys the io_context,
//   whose pending completions are dropped unrun: no descriptor, handler or
//   transport outlives the loop through it.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/loop_resident.hpp"
#include "loopspec/kit/transport_loop.hpp"

namespace loopspec::asio {

namespace net = boost::asio;

// What lives on an AsioLoop (kit/loop_resident.hpp).
using kit::LoopResident;

class AsioLoop final : public kit::TransportLoop {
 public:
  explicit AsioLoop(kit::Faults faults = {});
  ~AsioLoop() override;
  AsioLoop(const AsioLoop&) = delete;
  AsioLoop& operator=(const AsioLoop&) = delete;

  // EventLoop
  void run_forever() override;
  void stop() override { stopping_ = true; }
  Duration time() override;
  void call_soon(std::function<void()> callback) override { ready_.push_back(std::move(callback)); }
  void call_soon_threadsafe(std::function<void()> callback) override;
  std::shared_ptr<TimerHandle> call_later(Duration delay, std::function<void()> callback) override;
  void create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                Completion<DatagramTransport> done) override;

  net::io_context& context() { return io_; }

  // The loop keeps resident alive until let_go (see the top comment).
  void hold(std::shared_ptr<LoopResident> resident);
  void let_go(LoopResident* resident);
  // A timer that came due: its callback joins the next batch by deadline.
  void timer_due(std::int64_t deadline_ns, std::uint64_t sequence, std::function<void()> run);
  std::uint64_t next_timer_sequence() { return ++timer_sequence_; }

 private:
  // kit::TransportLoop: the streams (stream_connector.hpp, stream_server.hpp,
  // stream_transport.hpp), pipes (pipe_transports.hpp) and children
  // (child_process.hpp).
  void connect_stream(StreamProtocolFactory factory, const Address& address, Completion<Transport> done) override;
  void serve_stream(StreamProtocolFactory factory, const Address& address, const ServerOptions& options,
                    Completion<Server> done) override;
  MaybeError start_accepted_socket(const StreamProtocolFactory& factory, int fd, int family,
                                   Completion<Transport>& done) override;
  MaybeError start_read_pipe(const StreamProtocolFactory& factory, int fd, Completion<ReadTransport>& done) override;
  MaybeError start_write_pipe(const StreamProtocolFactory& factory, int fd, Completion<WriteTransport>& done) override;
  void spawn(const std::vector<std::string>& argv, const SubprocessOptions& options,
             std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done) override;

  void run_once();

  net::io_context io_{1};  // one thread: the loop's
  net::executor_work_guard<net::io_context::executor_type> keep_running_{io_.get_executor()};
  bool running_ = false;
  bool stopping_ = false;
  std::vector<std::function<void()>> ready_;
  std::map<std::pair<std::int64_t, std::uint64_t>, std::function<void()>> due_timers_;  // (deadline, sequence)
  std::uint64_t timer_sequence_ = 0;
  std::map<LoopResident*, std::shared_ptr<LoopResident>> residents_;
};

}  // namespace loopspec::asio
