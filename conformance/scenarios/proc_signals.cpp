// Stopping a child: kill(), terminate(), send_signal() and close().
#include <signal.h>

#include <fmt/core.h>

#include "proc_support.hpp"
#include "support.hpp"

namespace loopspec::scenarios {
namespace {

// A child that runs until it is stopped: `cat` on a pipe the scenario holds
// open and never writes (it ignores no signal; the scenario never lets it read
// end of file).
struct RunningChild {
  HeldPipe input{true};
  std::unique_ptr<ChildProcess> child;

  explicit RunningChild(ScenarioContext& ctx) : child(start_child_with(ctx, "exec cat", input)) {}
};

void stopped_by(ScenarioContext& ctx, std::string_view rule, int signal,
                const std::function<void(SubprocessTransport&)>& stop) {
  RunningChild running(ctx);
  auto& child = *running.child;
  auto& t = child.transport();
  ctx.check("subprocess.returncode.none-while-running", !t.get_returncode(),
            "get_returncode() = " + returncode_text(t.get_returncode()) + " while the child runs");
  stop(t);
  if (!ctx.expect_within(rule, [&] { return child.seen.exited > 0; }, "process_exited after the signal")) return;
  ctx.check(rule, child.seen.returncode_at_exit == -signal,
            fmt::format("get_returncode() = {} once the child exited; death by signal {} gives {}",
                        returncode_text(child.seen.returncode_at_exit), signal, -signal));
  ctx.check("subprocess.returncode.after-exit", child.seen.returncode_at_exit == t.get_returncode(),
            "get_returncode() changed after process_exited");
  ctx.expect_within("subprocess.connection-lost.last", [&] { return child.seen.lost > 0; }, "connection_lost");
}

LOOPSPEC_SCENARIO({
    .id = "proc.signals.kill",
    .title = "kill() on a running child: it dies of SIGKILL (return code -9)",
    .rules = {"subprocess.kill.sigkill", "subprocess.returncode.none-while-running", "subprocess.returncode.after-exit",
              "subprocess.connection-lost.last"},
    .variants = process_variants::kAll,
    .body = [](ScenarioContext& ctx) {
      stopped_by(ctx, "subprocess.kill.sigkill", SIGKILL, [](SubprocessTransport& t) { t.kill(); });
    },
});

LOOPSPEC_SCENARIO({
    .id = "proc.signals.terminate",
    .title = "terminate() on a running child: it dies of SIGTERM (return code -15); whether the pipes were closed "
             "too, as an alias of close() would, is recorded",
    .rules = {"subprocess.terminate.sigterm", "subprocess.terminate.alias-of-close",
              "subprocess.returncode.none-while-running", "subprocess.returncode.after-exit",
              "subprocess.connection-lost.last"},
    .variants = process_variants::kAll,
    .body = [](ScenarioContext& ctx) {
      stopped_by(ctx, "subprocess.terminate.sigterm", SIGTERM, [&](SubprocessTransport& t) {
        t.terminate();
        auto out = t.get_pipe_transport(1);
        ctx.check("subprocess.terminate.alias-of-close", true,
                  fmt::format("right after terminate(): is_closing() {}, the stdout pipe is {}", t.is_closing(),
                              out && out->is_closing() ? "closing" : "open"));
      });
    },
});

LOOPSPEC_SCENARIO({
    .id = "proc.signals.send-signal",
    .title = "send_signal(SIGUSR1) on a running child that does not handle it: it dies of it (return code -10)",
    .rules = {"subprocess.send-signal.delivers", "subprocess.returncode.none-while-running",
              "subprocess.returncode.after-exit", "subprocess.connection-lost.last"},
    .variants = process_variants::kAll,
    .body = [](ScenarioContext& ctx) {
      stopped_by(ctx, "subprocess.send-signal.delivers", SIGUSR1, [](SubprocessTransport& t) { t.send_signal(SIGUSR1); });
    },
});

LOOPSPEC_SCENARIO({
    .id = "proc.close.stops-the-child",
    .title = "close() on a running child: is_closing() at once, every pipe transport is closing, each pipe gets "
             "pipe_connection_lost, the child is killed (3.8: SIGKILL; 3.4.3: terminate(), SIGTERM), then "
             "connection_lost(None)",
    .rules = {"subprocess.close.kills", "subprocess.close.terminates", "subprocess.close.closes-pipes",
              "transport.closing.after-close", "subprocess.pipe-lost.per-pipe", "subprocess.exited.called",
              "proto.connection-lost.none-on-close", "proto.order.lost-exactly-once"},
    .variants = process_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          RunningChild running(ctx);
          auto& child = *running.child;
          auto& t = child.transport();
          auto out = t.get_pipe_transport(1);
          auto err = t.get_pipe_transport(2);
          t.close();
          ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after close()");
          ctx.check("subprocess.close.closes-pipes", out && out->is_closing() && err && err->is_closing(),
                    "right after close() the stdout and stderr pipe transports are not closing");
          if (!ctx.expect_within("subprocess.close.kills", [&] { return child.seen.lost > 0; },
                                 "connection_lost after close()")) {
            return;
          }
          ctx.run_pending();
          const auto& seen = child.seen;
          ctx.check("subprocess.close.kills", seen.returncode_at_exit == -SIGKILL,
                    "get_returncode() = " + returncode_text(seen.returncode_at_exit) +
                        " for a child close() stopped; kill() gives -9");
          ctx.check("subprocess.close.terminates", seen.returncode_at_exit == -SIGTERM,
                    "get_returncode() = " + returncode_text(seen.returncode_at_exit) +
                        " for a child close() stopped; terminate() gives -15");
          ctx.check("subprocess.close.closes-pipes", seen.pipe_lost(1) && seen.pipe_lost(2),
                    "after close(): " + seen.order_text());
          ctx.check("subprocess.pipe-lost.per-pipe", seen.pipes_lost.size() == 2,
                    "pipe callbacks after close(): " + seen.order_text());
          ctx.check("subprocess.exited.called", seen.exited == 1, fmt::format("process_exited called {} times", seen.exited));
          check_lost_once_with_none(ctx, seen, " after close()");
        },
});

}  // namespace
}  // namespace loopspec::scenarios
