// Machinery: the libuv loop's scheduling (call_soon, call_later, stop,
// call_soon_threadsafe), its exception handling and its clean-up.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "uv_test_support.hpp"

namespace loopspec::libuv {
namespace {

using testing::LoopRunner;

TEST(UvLoop, CallSoonRunsInFifoOrder) {
  // Machinery: call_soon order.
  UvLoop loop;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) loop.call_soon([&order, i] { order.push_back(i); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(UvLoop, CallbacksScheduledDuringAnIterationRunInTheNextOne) {
  // Machinery: asyncio's _run_once runs only the callbacks ready when the iteration began.
  UvLoop loop;
  std::vector<std::string> order;
  loop.call_soon([&] {
    order.push_back("a");
    loop.call_soon([&] { order.push_back("c"); });
  });
  loop.call_soon([&] { order.push_back("b"); });
  loop.stop();
  loop.run_forever();  // one iteration
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
  loop.stop();
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(UvLoop, StopReturnsAfterTheCurrentIteration) {
  // Machinery: stop() lets the iteration finish; what it scheduled waits for the next run.
  UvLoop loop;
  std::vector<std::string> order;
  loop.call_soon([&] {
    loop.stop();
    order.push_back("stopper");
    loop.call_soon([&] { order.push_back("next run"); });
  });
  loop.call_soon([&] { order.push_back("same iteration"); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"stopper", "same iteration"}));
  loop.stop();
  loop.run_forever();
  EXPECT_EQ(order.back(), "next run");
}

TEST(UvLoop, StopBeforeRunForeverRunsOneIteration) {
  // Machinery: asyncio runs one iteration when stop() came first, and does not block in it.
  UvLoop loop;
  int ran = 0;
  loop.call_later(Duration(30), [&] { ++ran; });  // must not keep the loop waiting
  loop.stop();
  auto start = loop.time();
  loop.run_forever();
  EXPECT_LT((loop.time() - start).count(), 5.0);
  EXPECT_EQ(ran, 0);
  EXPECT_FALSE(loop.is_running());
}

TEST(UvLoop, RunForeverIsNotReentrant) {
  // Machinery: a nested run_forever raises RuntimeError.
  UvLoop loop;
  MaybeError nested;
  loop.call_soon([&] {
    try {
      loop.run_forever();
    } catch (const ContractError& e) {
      nested = e.error();
    }
    loop.stop();
  });
  loop.run_forever();
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->type, "RuntimeError");
}

TEST(UvLoop, TimersRunInDeadlineOrderAndTiesInSchedulingOrder) {
  // Machinery: call_later runs by deadline, equal deadlines in scheduling order.
  UvLoop loop;
  std::vector<int> order;
  loop.call_later(Duration(0.03), [&] { order.push_back(3); });
  loop.call_later(Duration(0.01), [&] { order.push_back(1); });
  loop.call_later(Duration(0.02), [&] { order.push_back(2); });
  loop.call_later(Duration(0.02), [&] { order.push_back(22); });
  loop.call_later(Duration(0.04), [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 22, 3}));
}

TEST(UvLoop, DeadlinesWithinOneMillisecondKeepTheirOrder) {
  // Machinery: libuv's timers count whole milliseconds; the loop still runs due timers by deadline.
  // Each delay counts from its own call, so the deadlines are 0.8 ms apart only if the two calls are
  // close together: a setup where they were not (a slow, loaded or instrumented run) is tried again.
  for (int attempt = 0; attempt < 50; ++attempt) {
    UvLoop loop;
    std::vector<std::string> order;
    const Duration before = loop.time();
    loop.call_later(Duration(0.0109), [&] { order.push_back("later deadline, scheduled first"); });
    loop.call_later(Duration(0.0101), [&] { order.push_back("earlier deadline"); });
    if (loop.time() - before > Duration(0.0004)) continue;
    loop.call_later(Duration(0.03), [&] { loop.stop(); });
    loop.run_forever();
    EXPECT_EQ(order, (std::vector<std::string>{"earlier deadline", "later deadline, scheduled first"}));
    return;
  }
  FAIL() << "two call_later calls never came within 0.4 ms of each other in 50 attempts";
}

TEST(UvLoop, DueTimersRunAfterTheCallbacksAlreadyReady) {
  // Machinery: asyncio moves due timers to the end of the ready queue.
  UvLoop loop;
  std::vector<std::string> order;
  loop.call_later(Duration(0), [&] { order.push_back("timer"); });
  loop.call_soon([&] { order.push_back("soon"); });
  loop.call_later(Duration(0.001), [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"soon", "timer"}));
}

TEST(UvLoop, AZeroDelayTimerRunsInTheNextIterationNotAMillisecondLater) {
  // Machinery: asyncio's _run_once moves a timer already due to the ready queue in the iteration
  // after call_later, behind what was ready; a callback scheduled during that iteration comes after it.
  UvLoop loop;
  std::vector<std::string> order;
  loop.call_later(Duration(0), [&] { order.push_back("timer"); });
  loop.call_soon([&] {
    order.push_back("soon");
    loop.call_soon([&] { order.push_back("next iteration"); });
  });
  loop.call_later(Duration(0.01), [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"soon", "timer", "next iteration"}));
}

TEST(UvLoop, ATimerDueEarlierStillRunsBeforeAZeroDelayOne) {
  // Machinery: the zero-delay shortcut must not overtake a timer still waiting in libuv's heap.
  UvLoop loop;
  std::vector<std::string> order;
  loop.call_later(Duration(0.0002), [&] { order.push_back("earlier deadline"); });
  const Duration armed = loop.time();
  while (loop.time() - armed < Duration(0.0005)) {
  }  // the first deadline passes before the second timer exists
  loop.call_later(Duration(0), [&] { order.push_back("zero delay"); });
  loop.call_later(Duration(0.01), [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"earlier deadline", "zero delay"}));
}

TEST(UvLoop, TimerNeverFiresBeforeItsDelay) {
  // Machinery: libuv's millisecond loop clock may lag; the timer is re-armed rather than fire early.
  UvLoop loop;
  for (double delay : {0.0005, 0.0015, 0.0104, 0.02}) {
    Duration scheduled_at = loop.time();
    Duration ran_at{};
    loop.call_later(Duration(delay), [&] {
      ran_at = loop.time();
      loop.stop();
    });
    loop.run_forever();
    EXPECT_GE((ran_at - scheduled_at).count(), delay) << "delay " << delay;
  }
}

TEST(UvLoop, CancelledTimerNeverRuns) {
  // Machinery: cancel before the deadline, by an earlier timer, twice, and after the run.
  UvLoop loop;
  int ran = 0;
  auto early = loop.call_later(Duration(0.001), [&] { ++ran; });
  early->cancel();
  std::shared_ptr<TimerHandle> victim;
  loop.call_later(Duration(0.005), [&] { victim->cancel(); });
  victim = loop.call_later(Duration(0.010), [&] { ++ran; });
  auto done = loop.call_later(Duration(0.020), [&] { loop.stop(); });
  loop.run_forever();
  early->cancel();
  done->cancel();
  EXPECT_EQ(ran, 0);
}

TEST(UvLoop, DroppedTimerHandleStillRuns) {
  // Machinery: the loop keeps a pending timer alive; dropping the handle is not cancelling.
  UvLoop loop;
  bool ran = false;
  loop.call_later(Duration(0.001), [&] {
    ran = true;
    loop.stop();
  });
  loop.run_forever();
  EXPECT_TRUE(ran);
}

TEST(UvLoop, CallSoonThreadsafeWakesABlockedLoop) {
  // Machinery: another thread's callback ends a poll that has no timeout of its own.
  UvLoop loop;
  std::atomic<bool> started{false};
  bool woke = false;
  loop.call_soon([&] { started = true; });
  std::thread other([&] {
    while (!started) std::this_thread::yield();
    loop.call_soon_threadsafe([&] {
      woke = true;
      loop.stop();
    });
  });
  auto guard = loop.call_later(Duration(10), [&] { loop.stop(); });
  loop.run_forever();
  other.join();
  guard->cancel();
  EXPECT_TRUE(woke);
}

TEST(UvLoop, CallSoonThreadsafeFromManyThreadsKeepsEveryCallback) {
  // Machinery: no callback is lost between producers and the loop (uv_async_send coalesces wake-ups).
  UvLoop loop;
  LoopRunner runner(loop);
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  int received = 0;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) loop.call_soon_threadsafe([&] { ++received; });
    });
  }
  for (auto& producer : producers) producer.join();
  EXPECT_TRUE(runner.run_until([&] { return received == kThreads * kEach; }));
}

TEST(UvLoop, ExceptionInCallbackIsReportedAndTheLoopGoesOn) {
  // Machinery: an escaping exception reaches the handler as a canonical error.
  UvLoop loop;
  std::vector<Error> reported;
  loop.set_exception_handler([&](std::string_view, const Error& error) { reported.push_back(error); });
  bool after = false;
  loop.call_soon([] { throw std::runtime_error("boom"); });
  loop.call_later(Duration(0), [] { throw ContractError(Error{"ValueError", 0, "bad"}); });
  loop.call_later(Duration(0.002), [&] {
    after = true;
    loop.stop();
  });
  loop.run_forever();
  EXPECT_TRUE(after);
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[0], (Error{"RuntimeError", 0, "boom"}));
  EXPECT_EQ(reported[1].type, "ValueError");
}

TEST(UvLoop, TimeIsMonotonicSeconds) {
  // Machinery: time() never goes back and counts seconds.
  UvLoop loop;
  Duration previous = loop.time();
  for (int i = 0; i < 1000; ++i) {
    Duration now = loop.time();
    EXPECT_GE(now, previous);
    previous = now;
  }
}

TEST(UvLoop, DestroyingTheLoopClosesItsDescriptorsAndDropsCallbacks) {
  // Machinery: a loop dropped with pending callbacks and timers leaves no descriptor and runs nothing.
  int before = testing::open_fd_count();
  auto witness = std::make_shared<int>(0);
  {
    UvLoop loop;
    loop.call_soon([witness] {});
    loop.call_later(Duration(60), [witness] {});
    loop.call_soon_threadsafe([witness] {});
  }
  EXPECT_EQ(witness.use_count(), 1);
  EXPECT_EQ(testing::open_fd_count(), before);
}

}  // namespace
}  // namespace loopspec::libuv
