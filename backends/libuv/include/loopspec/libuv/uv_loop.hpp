// An asyncio event loop on a libuv loop (uv_loop_t).
//
// Promises (asyncio's BaseEventLoop._run_once, iteration by iteration):
// - One iteration is one uv_run(UV_RUN_ONCE). Its prepare phase fixes the
//   batch: the callbacks ready then, in call_soon order (call_soon_threadsafe's
//   among them once they arrived); its check phase, after the poll, runs that
//   batch. Whatever I/O callbacks, timers or the batch itself schedule runs in
//   a later iteration. While a batch waits, or stop() was called, an idle
//   handle keeps the poll from blocking.
// - stop() makes run_forever return after the current iteration; called
//   before run_forever, run_forever runs one iteration and returns.
// - call_soon_threadsafe is the only method callable from another thread; it
//   wakes the loop through a uv_async_t.
// - call_later arms one uv_timer_t per callback (uv_timer.hpp); the callback
//   never runs before `delay` has passed on time()'s clock. Timers that came
//   due join the batch behind the callbacks already ready, in deadline order
//   (equal deadlines in scheduling order), as asyncio's _run_once appends
//   them: libuv's millisecond timers alone would order two deadlines within
//   one millisecond by scheduling. Fixing a batch takes every armed timer whose
//   deadline has passed, whether or not libuv has fired it yet. The handle's cancel() stops the timer; it
//   is a no-op once run, cancelled, or the loop is gone.
// - An exception escaping a callback goes to the exception handler
//   (kit::LoopBase) and the loop goes on.
// - time() is uv_hrtime() in seconds (monotonic).
// - Never SIGPIPE: libuv writes sockets and pipes with write(2), and a peer
//   that went away must become EPIPE, not the end of the process. SIGPIPE is
//   blocked on the loop's thread while it runs and what the writes raise is
//   consumed (kit::SigpipeGuard); the process's dispositions are left alone.
// - Destroying the loop tells every resident (the owner of a boxed handle,
//   handle_box.hpp) that the loop is gone, closes every handle (uv_walk +
//   uv_close), runs the loop until libuv has let go of all of them and closes
//   it: no handle, descriptor or transport outlives it through the loop.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/transport_loop.hpp"
#include "loopspec/libuv/resolver.hpp"

namespace loopspec::libuv {

class UvTimer;

class UvLoop final : public kit::TransportLoop {
 public:
  explicit UvLoop(kit::Faults faults = {});
  ~UvLoop() override;
  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;

  // EventLoop
  void run_forever() override;
  void stop() override;
  Duration time() override;
  void call_soon(std::function<void()> callback) override;
  void call_soon_threadsafe(std::function<void()> callback) override;
  std::shared_ptr<TimerHandle> call_later(Duration delay, std::function<void()> callback) override;
  void create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                Completion<DatagramTransport> done) override;

  uv_loop_t* uv() { return &loop_; }
  Resolver& resolver() { return resolver_; }
  bool is_running() const { return running_; }
  // Runs callback, handing an exception to the exception handler under context.
  void run_guarded(std::string_view context, const std::function<void()>& callback);
  // A timer that came due (uv_timer.hpp): its callback joins the next batch by deadline.
  void timer_due(std::uint64_t deadline_ns, std::uint64_t sequence, std::function<void()> run);
  std::uint64_t next_timer_sequence() { return ++timer_sequence_; }
  // A timer waiting for its deadline, and one that no longer is (due or cancelled).
  void timer_armed(std::uint64_t deadline_ns, std::uint64_t sequence, UvTimer* timer);
  void timer_disarmed(std::uint64_t deadline_ns, std::uint64_t sequence);

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

  static UvLoop& of(uv_handle_t* handle) { return *static_cast<UvLoop*>(handle->loop->data); }
  void fix_batch();
  void run_batch();
  void take_threadsafe_callbacks();

  // The loop's own handles are value-initialised: their `data` stays null.
  uv_loop_t loop_{};
  uv_prepare_t batch_fixer_{};
  uv_check_t batch_runner_{};
  uv_idle_t no_wait_{};  // active: the next poll must not block
  uv_async_t wake_{};
  Resolver resolver_{&loop_};

  bool running_ = false;
  bool stopping_ = false;
  std::vector<std::function<void()>> ready_;
  std::vector<std::function<void()>> batch_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::function<void()>> due_timers_;  // (deadline, sequence)
  std::uint64_t timer_sequence_ = 0;
  std::map<std::pair<std::uint64_t, std::uint64_t>, UvTimer*> armed_timers_;  // (deadline, sequence)

  std::mutex threadsafe_mutex_;
  std::vector<std::function<void()>> threadsafe_;
};

}  // namespace loopspec::libuv
