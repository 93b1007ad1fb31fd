// Subprocess protocols that implement only some callbacks.
#include <fmt/core.h>

#include "proc_support.hpp"

namespace loopspec::scenarios {
namespace {

class OnlyExitProtocol : public SubprocessProtocol {
 public:
  explicit OnlyExitProtocol(int& exited) : exited_(exited) {}
  void process_exited() override { ++exited_; }

 private:
  int& exited_;
};

LOOPSPEC_SCENARIO({
    .id = "proc.setup.partial-protocol",
    .title = "a SubprocessProtocol that implements only process_exited: the child's output and pipe closings go "
             "to the default callbacks, which do nothing, and process_exited arrives",
    .rules = {"proto.defaults.empty"},
    .variants = process_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          int exited = 0;
          auto protocol = ctx.recorder().record_subprocess(std::make_shared<OnlyExitProtocol>(exited));
          std::shared_ptr<SubprocessTransport> transport;
          MaybeError failure;
          bool completed = false;
          auto done = [&](Outcome<SubprocessTransport> outcome) {
            completed = true;
            transport = outcome.value;
            failure = outcome.error;
          };
          // The child waits for a line on stdin, sent once the setup completed: a child that finished before
          // connection_made would race the loop's own bookkeeping, and verdicts must not depend on timing.
          const std::string script = "read go; echo out; echo err >&2";
          if (ctx.variant() == "subprocess+shell") {
            ctx.loop().subprocess_shell([protocol] { return protocol; }, script, SubprocessOptions{}, done);
          } else {
            ctx.loop().subprocess_exec([protocol] { return protocol; }, {"/bin/sh", "-c", script}, SubprocessOptions{},
                                       done);
          }
          ctx.wait([&] { return completed; }, "the child to start");
          if (!transport) throw ScenarioAbort("the child did not start: " + (failure ? failure->to_string() : "?"));
          auto stdin_pipe = std::dynamic_pointer_cast<WriteTransport>(transport->get_pipe_transport(0));
          if (!stdin_pipe) throw ScenarioAbort("get_pipe_transport(0) with stdin=PIPE is not a write transport");
          stdin_pipe->write("go\n");
          ctx.expect_within("proto.defaults.empty", [&] { return exited > 0; }, "process_exited");
          ctx.check("proto.defaults.empty", exited == 1, fmt::format("process_exited called {} times", exited));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
