// Machinery: the reference loop's scheduling (call_soon, call_later/call_at,
// stop, call_soon_threadsafe, exceptions in callbacks, teardown). These are
// the loop mechanics every transport rule relies on.
#include "loopspec/reference/epoll_loop.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "loop_test_support.hpp"

namespace loopspec::reference {
namespace {

using testing::count_open_fds;
using testing::LoopRunner;
using testing::RecordingProtocol;
using testing::Rig;

TEST(EpollLoop, CallSoonRunsInFifoOrder) {
  // Machinery: call_soon order.
  EpollLoop loop;
  std::string order;
  for (char c : std::string("abcdef")) loop.call_soon([&order, c] { order += c; });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, "abcdef");
}

TEST(EpollLoop, IdleWhenNothingIsLeftToRunOrWatch) {
  // Machinery: idle() (the fuzz targets reuse an idle loop).
  EpollLoop loop;
  EXPECT_TRUE(loop.idle());
  loop.call_soon([] {});
  EXPECT_FALSE(loop.idle());
  loop.stop();
  loop.run_forever();
  EXPECT_TRUE(loop.idle());
  auto timer = loop.call_later(Duration(3600), [] {});
  EXPECT_FALSE(loop.idle());
}

TEST(EpollLoop, StopReturnsAfterTheCurrentIteration) {
  // Machinery: stop() lets the iteration finish; what it scheduled waits for the next run.
  EpollLoop loop;
  std::string order;
  loop.call_soon([&] {
    order += "a";
    loop.call_soon([&] { order += "c"; });
  });
  loop.call_soon([&] { loop.stop(); });
  loop.call_soon([&] { order += "b"; });
  loop.run_forever();
  EXPECT_EQ(order, "ab");
  EXPECT_FALSE(loop.is_running());

  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, "abc");
}

TEST(EpollLoop, StopBeforeRunForeverRunsOneIteration) {
  // Machinery: asyncio runs one iteration when stop() came first.
  EpollLoop loop;
  int ran = 0;
  loop.call_soon([&] {
    ++ran;
    loop.call_soon([&] { ++ran; });
  });
  loop.stop();
  loop.run_forever();
  EXPECT_EQ(ran, 1);
}

TEST(EpollLoop, RunForeverIsNotReentrant) {
  // Machinery: a nested run_forever raises RuntimeError.
  EpollLoop loop;
  std::optional<Error> error;
  loop.call_soon([&] {
    try {
      loop.run_forever();
    } catch (const ContractError& e) {
      error = e.error();
    }
    loop.stop();
  });
  loop.run_forever();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->type, "RuntimeError");
}

TEST(EpollLoop, TimersRunInDeadlineOrder) {
  // Machinery: call_later runs by deadline, not by scheduling order.
  EpollLoop loop;
  LoopRunner runner(loop);
  std::string order;
  loop.call_later(Duration(0.03), [&] { order += "3"; });
  loop.call_later(Duration(0.01), [&] { order += "1"; });
  loop.call_later(Duration(0.02), [&] { order += "2"; });
  loop.call_later(Duration(0.04), [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, "123");
}

TEST(EpollLoop, EqualDeadlinesRunInSchedulingOrder) {
  // Machinery: ties are broken by scheduling order.
  EpollLoop loop;
  std::string order;
  Duration when = loop.time() + Duration(0.005);
  for (char c : std::string("abcdefgh")) loop.call_at(when, [&order, c] { order += c; });
  loop.call_at(when, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, "abcdefgh");
}

TEST(EpollLoop, TimerWaitsAtLeastItsDelay) {
  // Machinery: the epoll timeout comes from the nearest timer and never fires early.
  EpollLoop loop;
  Duration start = loop.time();
  Duration fired{};
  loop.call_later(Duration(0.02), [&] {
    fired = loop.time();
    loop.stop();
  });
  loop.run_forever();
  EXPECT_GE((fired - start).count(), 0.02);
}

TEST(EpollLoop, ReadyCallbacksRunBeforeDueTimersOfTheSameIteration) {
  // Machinery: asyncio's order within an iteration (ready callbacks, then due timers).
  EpollLoop loop;
  std::string order;
  loop.call_later(Duration(0), [&] { order += "t"; });
  loop.call_soon([&] { order += "s"; });
  loop.call_later(Duration(0.001), [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, "st");
}

TEST(EpollLoop, CancelledTimerNeverRuns) {
  // Machinery: cancel before the deadline, and cancel by an earlier callback of the same iteration.
  EpollLoop loop;
  std::string order;
  Duration when = loop.time() + Duration(0.002);
  std::shared_ptr<TimerHandle> second;
  loop.call_at(when, [&] {
    order += "a";
    second->cancel();
  });
  second = loop.call_at(when, [&] { order += "b"; });
  auto early = loop.call_later(Duration(0.001), [&] { order += "x"; });
  early->cancel();
  loop.call_at(when, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, "a");
  second->cancel();  // no-op
  early->cancel();   // no-op
}

TEST(EpollLoop, CancellingFromInsideItsOwnCallbackIsHarmless) {
  // Machinery: a timer may cancel its own handle while running.
  EpollLoop loop;
  std::shared_ptr<TimerHandle> self;
  int ran = 0;
  self = loop.call_later(Duration(0), [&] {
    ++ran;
    self->cancel();
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(ran, 1);
}

TEST(EpollLoop, ManyCancelledTimersDoNotDelayTheLiveOne) {
  // Machinery: cancelled timers are purged and skipped.
  EpollLoop loop;
  std::vector<std::shared_ptr<TimerHandle>> handles;
  int stale = 0;
  for (int i = 0; i < 10000; ++i) handles.push_back(loop.call_later(Duration(0.001), [&] { ++stale; }));
  for (auto& handle : handles) handle->cancel();
  loop.call_later(Duration(0.002), [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(stale, 0);
}

TEST(EpollLoop, CallSoonThreadsafeWakesABlockedLoop) {
  // Machinery: another thread's callback ends an epoll_wait that has no timeout of its own.
  EpollLoop loop;
  bool woken = false;
  bool guard_fired = false;
  std::thread other;
  auto guard = loop.call_later(Duration(30), [&] {
    guard_fired = true;
    loop.stop();
  });
  loop.call_soon([&] {
    other = std::thread([&] {
      loop.call_soon_threadsafe([&] {
        woken = true;
        loop.stop();
      });
    });
  });
  loop.run_forever();
  other.join();
  guard->cancel();
  EXPECT_TRUE(woken);
  EXPECT_FALSE(guard_fired);
}

TEST(EpollLoop, CallSoonThreadsafeFromManyThreadsKeepsEveryCallback) {
  // Machinery: no callback is lost between producers and the loop.
  EpollLoop loop;
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  int received = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        loop.call_soon_threadsafe([&] {
          if (++received == kThreads * kEach) loop.stop();
        });
      }
    });
  }
  auto guard = loop.call_later(Duration(30), [&] { loop.stop(); });
  loop.run_forever();
  for (auto& thread : threads) thread.join();
  guard->cancel();
  EXPECT_EQ(received, kThreads * kEach);
}

TEST(EpollLoop, ExceptionInCallbackIsReportedAndTheLoopGoesOn) {
  // Machinery: an escaping exception reaches the handler as a canonical error.
  EpollLoop loop;
  std::vector<Error> reported;
  loop.set_exception_handler([&](std::string_view, const Error& error) { reported.push_back(error); });
  bool after = false;
  loop.call_soon([] { throw std::runtime_error("boom"); });
  loop.call_soon([] { throw ContractError(Error{"ValueError", 0, "bad"}); });
  loop.call_later(Duration(0), [] { throw 42; });
  loop.call_soon([&] { after = true; });
  loop.call_later(Duration(0.001), [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_TRUE(after);
  ASSERT_EQ(reported.size(), 3u);
  EXPECT_EQ(reported[0], (Error{"RuntimeError", 0, "boom"}));
  EXPECT_EQ(reported[1], (Error{"ValueError", 0, "bad"}));
  EXPECT_EQ(reported[2].type, "RuntimeError");
}

TEST(EpollLoop, TimeIsMonotonic) {
  // Machinery: time() never goes back.
  EpollLoop loop;
  Duration previous = loop.time();
  for (int i = 0; i < 1000; ++i) {
    Duration now = loop.time();
    EXPECT_GE(now, previous);
    previous = now;
  }
}

TEST(EpollLoop, LoopFdsAreCloseOnExec) {
  // Machinery: the epoll fd and the eventfd are close-on-exec and released with the loop.
  auto before = testing::open_fds();
  {
    EpollLoop loop;
    EXPECT_EQ(testing::open_fds().size(), before.size() + 2);
    EXPECT_EQ(testing::fds_not_cloexec_nonblocking(before, false), "");
  }
  EXPECT_EQ(testing::open_fds(), before);
}

TEST(EpollLoop, DestroyingTheLoopReleasesOpenConnections) {
  // Machinery: a loop dropped with a live connection and pending callbacks closes every fd
  // and breaks the transport <-> protocol cycle (AddressSanitizer reports a leak otherwise).
  int before = count_open_fds();
  {
    Rig rig;
    auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
    auto transport = rig.connect_pair(protocol);
    transport->write("pending");
    rig.loop.call_soon([protocol] {});
    rig.loop.call_later(Duration(100), [transport] {});
  }
  EXPECT_EQ(count_open_fds(), before);
}

}  // namespace
}  // namespace loopspec::reference
