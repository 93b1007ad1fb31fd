// A signal storm during a transfer changes nothing observable. A thread
// sends SIGUSR1 to the process as fast as it can while the loop moves 32 MiB
// each way; the handler is a no-op installed without SA_RESTART, so every
// blocking call the loop makes meanwhile (epoll_wait, poll, ...) can fail
// with EINTR. Every other thread blocks SIGUSR1, so the signals land on the
// loop's thread. The bytes each side receives (their digests) and the
// callback sequence must be those of the same transfer without the storm.
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "reliability_support.hpp"

namespace loopspec::reliability {
namespace {

constexpr std::uint64_t kBytesEachWay = 32u << 20;

std::atomic<std::uint64_t> g_handled{0};
extern "C" void count_signal(int) { g_handled.fetch_add(1, std::memory_order_relaxed); }

struct TransferResult {
  std::vector<std::string> events;  // with pause/resume left out (their number depends on timing)
  bool flow_alternates = false;
  std::string loop_received, peer_sent, loop_sent, peer_received;
  std::uint64_t loop_bytes = 0, peer_bytes = 0;
  MaybeError lost_error;
};

// The loop sends kBytesEachWay with flow control while the peer sends as
// much, then both shut down: the loop closes once it got the peer's EOF and
// wrote everything. `storm` runs while the threads exist.
TransferResult transfer(const std::string& backend, bool storm, std::uint64_t* sent_signals) {
  Rig rig(backend);
  auto recorder = std::make_shared<Recorder>(rig);
  recorder->keep_open_on_eof = true;
  Streamer streamer(*recorder, kBytesEachWay, 256 * 1024);
  bool eof = false;
  auto close_when_done = [&] {
    if (eof && streamer.done()) recorder->transport->close();
  };
  recorder->on_eof = [&] {
    eof = true;
    close_when_done();
  };
  streamer.on_done = close_when_done;
  auto server = serve(rig, InetAddress{"127.0.0.1", 0}, {recorder});

  // The peer's thread and the storm's block SIGUSR1 (the mask is inherited).
  sigset_t usr1, previous;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &previous);
  auto peer = Peer::connect(server->addresses().front(), Duration(10.0));
  std::atomic<bool> stop{false};
  std::thread storm_thread;
  if (storm) {
    // As fast as kill() goes: a SIGUSR1 pending is not queued twice, so the
    // loop's thread takes one each time it runs or returns from the kernel.
    storm_thread = std::thread([&] {
      while (!stop.load()) {
        ::kill(::getpid(), SIGUSR1);
        ++*sent_signals;
      }
    });
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  peer->set_keep_limit(0);
  peer->set_notify([&rig] { rig.wake_threadsafe(); });
  std::string payload(kBytesEachWay, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
  peer->send(payload, 64 * 1024);
  peer->shutdown_write();

  bool finished = rig.run_until(
      [&] {
        auto seen = peer->snapshot();
        return recorder->lost_count > 0 && seen.eof_received && seen.bytes_received == kBytesEachWay;
      },
      120.0);
  stop = true;
  if (storm_thread.joinable()) storm_thread.join();
  EXPECT_TRUE(finished) << "the transfer did not finish" << (storm ? " under the storm" : "");

  TransferResult result;
  for (const auto& e : recorder->events) {
    if (e == "pause" || e == "resume") continue;
    if (e == "data" && !result.events.empty() && result.events.back() == "data") continue;
    result.events.push_back(e);
  }
  result.flow_alternates = recorder->flow_alternates();
  auto seen = peer->snapshot();
  result.loop_received = recorder->received_digest.hex();
  result.loop_bytes = recorder->bytes_received;
  result.peer_sent = seen.sent_digest;
  result.loop_sent = streamer.digest.hex();
  result.peer_received = seen.received_digest;
  result.peer_bytes = seen.bytes_received;
  result.lost_error = recorder->lost_error;
  return result;
}

class SignalStorm : public ::testing::TestWithParam<std::string> {};

TEST_P(SignalStorm, TransferUnderSigusr1StormDeliversSameBytesAndCallbacksAsWithout) {
  // Rule: proto.data.in-order, write.data.in-order, flow.pairing.alternate, proto.eof.at-most-once,
  // proto.order.lost-exactly-once, proto.connection-lost.none-on-close
  struct sigaction action {}, saved {};
  action.sa_handler = count_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: interrupted calls fail with EINTR
  ::sigaction(SIGUSR1, &action, &saved);

  std::uint64_t sent = 0;
  auto quiet = transfer(GetParam(), false, &sent);
  g_handled = 0;
  auto start = std::chrono::steady_clock::now();
  auto stormy = transfer(GetParam(), true, &sent);
  double wall = seconds_since(start);
  std::uint64_t handled = g_handled.load();
  // A SIGUSR1 still pending must not meet the default disposition (which kills): take it first.
  sigset_t usr1, previous;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &previous);
  timespec no_wait{0, 0};
  while (::sigtimedwait(&usr1, nullptr, &no_wait) == SIGUSR1) {
  }
  ::sigaction(SIGUSR1, &saved, nullptr);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  RecordProperty("signals_sent", std::to_string(sent));
  RecordProperty("signals_handled", std::to_string(handled));
  RecordProperty("storm_transfer_ms", std::to_string(static_cast<int>(wall * 1000)));
  EXPECT_GT(handled, 100u) << "the storm hardly reached the loop's thread";

  const std::vector<std::string> expected{"made", "data", "eof", "lost"};
  EXPECT_EQ(quiet.events, expected);
  EXPECT_EQ(stormy.events, quiet.events);
  EXPECT_TRUE(quiet.flow_alternates);
  EXPECT_TRUE(stormy.flow_alternates);
  EXPECT_FALSE(stormy.lost_error.has_value()) << stormy.lost_error->to_string();
  for (const auto* run : {&quiet, &stormy}) {
    EXPECT_EQ(run->loop_bytes, kBytesEachWay);
    EXPECT_EQ(run->peer_bytes, kBytesEachWay);
    EXPECT_EQ(run->loop_received, run->peer_sent);
    EXPECT_EQ(run->peer_received, run->loop_sent);
  }
  EXPECT_EQ(stormy.loop_received, quiet.loop_received);
  EXPECT_EQ(stormy.peer_received, quiet.peer_received);
}

INSTANTIATE_TEST_SUITE_P(Backends, SignalStorm, ::testing::ValuesIn(in_process_backends()), backend_test_name);

}  // namespace
}  // namespace loopspec::reliability
