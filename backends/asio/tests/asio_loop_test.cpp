// Machinery: the Asio loop's scheduling (call_soon, call_later, stop,
// call_soon_threadsafe), its exception handling and its clean-up. These are
// asyncio's loop promises the transports' rules stand on; each test names
// the rule or the loop promise it checks.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "asio_test_support.hpp"

namespace loopspec::asio {
namespace {

using testing::wait_for;

TEST(AsioLoop, CallSoonRunsInOrderAndLaterCallbacksInTheNextIteration) {
  // Loop promise: call_soon order; asyncio's _run_once runs only what was ready when the batch was fixed.
  AsioLoop loop;
  std::vector<std::string> order;
  loop.call_soon([&] {
    order.push_back("a");
    loop.call_soon([&] { order.push_back("c"); });
  });
  loop.call_soon([&] { order.push_back("b"); });
  loop.stop();
  loop.run_forever();  // stop() first: exactly one iteration
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
  loop.stop();
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(AsioLoop, StopEndsRunForeverAfterTheCurrentIterationWithoutBlocking) {
  // Loop promise: stop() lets the iteration finish; a far timer does not keep it waiting.
  AsioLoop loop;
  std::vector<std::string> order;
  int far = 0;
  loop.call_later(Duration(30), [&] { ++far; });
  loop.call_soon([&] {
    loop.stop();
    order.push_back("stopper");
    loop.call_soon([&] { order.push_back("next run"); });
  });
  loop.call_soon([&] { order.push_back("same iteration"); });
  auto start = loop.time();
  loop.run_forever();
  EXPECT_LT((loop.time() - start).count(), 5.0);
  EXPECT_EQ(order, (std::vector<std::string>{"stopper", "same iteration"}));
  EXPECT_EQ(far, 0);
}

TEST(AsioLoop, RunForeverInsideACallbackRaisesRuntimeError) {
  // Loop promise: run_forever is not re-entrant (asyncio: "This event loop is already running").
  AsioLoop loop;
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

TEST(AsioLoop, TimersRunByDeadlineNeverEarlyAndCancelledOnesNever) {
  // Loop promise: call_later runs after `delay` on time()'s clock, deadlines in order, cancel() is final.
  AsioLoop loop;
  std::vector<int> order;
  std::vector<double> late_by;
  auto at = [&](double delay, int id) {
    double due = loop.time().count() + delay;
    return loop.call_later(Duration(delay), [&, due, id] {
      late_by.push_back(loop.time().count() - due);
      order.push_back(id);
    });
  };
  at(0.03, 3);
  at(0.01, 1);
  auto cancelled = at(0.02, 99);
  at(0.02, 2);
  cancelled->cancel();
  cancelled->cancel();  // a second cancel does nothing
  ASSERT_TRUE(wait_for(loop, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  for (double late : late_by) EXPECT_GE(late, -1e-9);
}

TEST(AsioLoop, EqualDeadlinesRunInSchedulingOrderBehindReadyCallbacks) {
  // Loop promise: due timers join the batch behind the callbacks already ready, ties by call_later order.
  AsioLoop loop;
  std::vector<std::string> order;
  loop.call_later(Duration(0), [&] { order.push_back("t1"); });
  loop.call_later(Duration(0), [&] { order.push_back("t2"); });
  loop.call_soon([&] { order.push_back("soon"); });
  ASSERT_TRUE(wait_for(loop, [&] { return order.size() == 3; }));
  EXPECT_EQ(order.front(), "soon");
  EXPECT_EQ(order, (std::vector<std::string>{"soon", "t1", "t2"}));
}

TEST(AsioLoop, CallSoonThreadsafeWakesALoopWaitingForIo) {
  // Loop promise: call_soon_threadsafe is the one method another thread may call; it ends the wait.
  AsioLoop loop;
  std::atomic<bool> ran{false};
  std::thread other([&] { loop.call_soon_threadsafe([&] { ran = true; }); });
  EXPECT_TRUE(wait_for(loop, [&] { return ran.load(); }));
  other.join();
}

TEST(AsioLoop, AnExceptionOfACallbackGoesToTheHandlerAndTheLoopGoesOn) {
  // Loop promise: an exception escaping a callback is reported, the next callback still runs.
  AsioLoop loop;
  std::vector<std::string> reported;
  loop.set_exception_handler([&](std::string_view context, const Error& error) {
    reported.push_back(std::string(context) + ": " + error.type + ": " + error.message);
  });
  bool after = false;
  loop.call_soon([] { throw ContractError(Error{"ValueError", 0, "boom"}); });
  loop.call_soon([&] { after = true; });
  loop.stop();
  loop.run_forever();
  EXPECT_TRUE(after);
  EXPECT_EQ(reported, (std::vector<std::string>{"callback: ValueError: boom"}));
}

TEST(AsioLoop, DestroyingTheLoopReleasesWhatItHeld) {
  // Loop promise: nothing outlives the loop through it: pending timers and their callbacks are let go.
  auto owned = std::make_shared<int>(7);
  std::weak_ptr<int> watch = owned;
  {
    AsioLoop loop;
    loop.call_later(Duration(60), [owned] {});
    loop.call_soon([owned] {});
    owned.reset();
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace loopspec::asio
