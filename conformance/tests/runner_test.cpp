// The runner isolates scenarios: a crash, a hang or an exception is an ERROR
// for that scenario's rules, with its stderr, and the run goes on; variants the
// backend cannot run are UNSUPPORTED; check verdicts follow the rule's level.
// Harness machinery test (the scenarios here are synthetic).
#include <csignal>
#include <cstdlib>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "loopspec/conformance/context.hpp"
#include "suite_support.hpp"

namespace loopspec {
namespace {

const RuleOutcome& rule(const RunResults& r, const std::string& id) {
  for (const auto& o : r.rules) {
    if (o.id == id) return o;
  }
  throw std::runtime_error("no outcome for " + id);
}

RunResults run_synthetic(std::vector<ScenarioSpec> specs, std::string glob) {
  testing::ensure_backends();
  RunOptions options;
  options.backend = "reference";
  options.rules_glob = std::move(glob);
  options.scenario_timeout = Duration(3.0);
  return run_suite(options, testing::shipped_rules(), specs);
}

TEST(Runner, CrashHangAndThrowAreErrorsAndTheRunGoesOn) {
  std::vector<ScenarioSpec> specs{
      {"synthetic.crash", "crashes", {"write.limits.defaults"}, {"tcp"},
       [](ScenarioContext&) {
         std::fputs("about to crash\n", stderr);
         std::abort();
       }},
      {"synthetic.hang", "hangs", {"proto.data.chunking"}, {"tcp"},
       [](ScenarioContext&) {
         for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));  // the hang under test
       }},
      {"synthetic.throw", "throws", {"transport.extra-info.default"}, {"tcp"},
       [](ScenarioContext&) { throw std::runtime_error("boom"); }},
      {"synthetic.fine", "checks and passes", {"transport.extra-info.socket"}, {"tcp"},
       [](ScenarioContext& ctx) { ctx.check("transport.extra-info.socket", true, "ok"); }},
  };
  RunResults r = run_synthetic(specs, "*");
  ASSERT_EQ(r.scenarios.size(), 4u);
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::Error);
  EXPECT_NE(r.scenarios[0].error.find("signal"), std::string::npos) << r.scenarios[0].error;
  EXPECT_NE(r.scenarios[0].stderr_tail.find("about to crash"), std::string::npos);
  EXPECT_EQ(r.scenarios[1].verdict, Verdict::Error);
  EXPECT_NE(r.scenarios[1].error.find("timed out"), std::string::npos) << r.scenarios[1].error;
  EXPECT_EQ(r.scenarios[2].verdict, Verdict::Error);
  EXPECT_NE(r.scenarios[2].error.find("boom"), std::string::npos) << r.scenarios[2].error;
  EXPECT_EQ(r.scenarios[3].verdict, Verdict::Pass);
  EXPECT_EQ(rule(r, "write.limits.defaults").verdict, Verdict::Error);
  EXPECT_EQ(rule(r, "transport.extra-info.socket").verdict, Verdict::Pass);
  EXPECT_EQ(r.unexpected_failures(), 3u);
}

TEST(Runner, FailedChecksTakeTheLevelOfTheirRule) {
  std::vector<ScenarioSpec> specs{
      {"synthetic.must", "breaks a MUST", {"transport.extra-info.socket"}, {"tcp"},
       [](ScenarioContext& ctx) { ctx.check("transport.extra-info.socket", false, "broken on purpose"); }},
      {"synthetic.info", "records an INFO", {"write.limits.defaults"}, {"tcp"},
       [](ScenarioContext& ctx) { ctx.check("write.limits.defaults", true, "observed"); }},
  };
  RunResults r = run_synthetic(specs, "*");
  EXPECT_EQ(rule(r, "transport.extra-info.socket").verdict, Verdict::Fail);
  EXPECT_NE(rule(r, "transport.extra-info.socket").message.find("broken on purpose"), std::string::npos);
  EXPECT_EQ(rule(r, "write.limits.defaults").verdict, Verdict::Info);
  EXPECT_FALSE(r.scenarios[0].trace.is_null()) << "a failing scenario keeps its trace";
}

// A backend that declares no capability: every variant is beyond it.
class BareBackend : public Backend {
 public:
  const BackendInfo& info() const override {
    static const BackendInfo bare{"bare-runner-test", "no capability at all", "0", {}, {}};
    return bare;
  }
  std::unique_ptr<EventLoop> make_loop() override { return nullptr; }
};

TEST(Runner, VariantsTheBackendLacksAreUnsupported) {
  BackendRegistry::instance().add("bare-runner-test",
                                  [](const BackendOptions&) { return std::make_unique<BareBackend>(); });
  std::vector<ScenarioSpec> specs{{"synthetic.unsupported", "needs a capability the backend lacks",
                                   {"transport.extra-info.socket"}, {"udp"},
                                   [](ScenarioContext&) { std::abort(); }}};
  RunOptions options;
  options.backend = "bare-runner-test";
  options.rules_glob = "transport.extra-info.socket";
  RunResults r = run_suite(options, testing::shipped_rules(), specs);
  ASSERT_EQ(r.scenarios.size(), 1u);
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::Unsupported);
}

TEST(Runner, UndeclaredRuleInACheckIsAnError) {
  std::vector<ScenarioSpec> specs{{"synthetic.undeclared", "checks a rule it does not declare",
                                   {"transport.extra-info.socket"}, {"tcp"},
                                   [](ScenarioContext& ctx) { ctx.check("write.limits.defaults", true, "x"); }}};
  RunResults r = run_synthetic(specs, "*");
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::Error);
  EXPECT_NE(r.scenarios[0].error.find("does not declare"), std::string::npos) << r.scenarios[0].error;
}

// A chain of six steps, each T/2 after the previous one ran, so finishing takes at least 3T: a wait of T that
// needs progress between expiries sees it at every expiry (a step is always due before the next one), a plain
// wait of T cannot see the end. The pending timer owns the chain, so a wait that gives up leaves nothing dangling.
struct StepChain : std::enable_shared_from_this<StepChain> {
  StepChain(EventLoop& loop, Duration half) : loop(loop), half(half) {}
  void next() {
    loop.call_later(half, [self = shared_from_this()] {
      if (++self->count < 6) self->next();
    });
  }
  EventLoop& loop;
  Duration half;
  int count = 0;
};

TEST(Runner, AProgressingWaitOutlastsItsTimeoutWhileProgressGoesOn) {
  testing::ensure_backends();
  const Duration timeout(0.2);
  std::vector<ScenarioSpec> specs{
      {"synthetic.progressing", "a slow transfer that keeps progressing", {"transport.extra-info.socket"}, {"tcp"},
       [timeout](ScenarioContext& ctx) {
         auto chain = std::make_shared<StepChain>(ctx.loop(), timeout / 2);
         chain->next();
         if (ctx.expect_progressing("transport.extra-info.socket", [&] { return chain->count == 6; },
                                    [&] { return static_cast<std::size_t>(chain->count); }, "six steps")) {
           ctx.check("transport.extra-info.socket", true, "all six steps");
         }
       }},
      {"synthetic.plain-wait", "the same transfer under a plain wait", {"proto.data.in-order"}, {"tcp"},
       [timeout](ScenarioContext& ctx) {
         auto chain = std::make_shared<StepChain>(ctx.loop(), timeout / 2);
         chain->next();
         ctx.expect_within("proto.data.in-order", [&] { return chain->count == 6; }, "six steps");
       }},
  };
  RunOptions options;
  options.backend = "reference";
  options.wait_timeout = timeout;
  options.scenario_timeout = Duration(10.0);
  RunResults r = run_suite(options, testing::shipped_rules(), specs);
  EXPECT_EQ(rule(r, "transport.extra-info.socket").verdict, Verdict::Pass);
  EXPECT_EQ(rule(r, "proto.data.in-order").verdict, Verdict::Fail);
  EXPECT_NE(rule(r, "proto.data.in-order").message.find("timed out after 0.2"), std::string::npos)
      << rule(r, "proto.data.in-order").message;
}

}  // namespace
}  // namespace loopspec
