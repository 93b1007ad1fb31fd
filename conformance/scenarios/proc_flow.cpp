// Flow control of a child's stdin: the SubprocessProtocol's pause_writing and
// resume_writing follow the stdin pipe's buffer.
#include <fmt/core.h>

#include "pipes_support.hpp"
#include "proc_support.hpp"
#include "support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "proc.flow.stdin",
    .title = "a child copying stdin to a pipe nobody reads: writes to its stdin pipe (high 40000, low 10000) bring "
             "pause_writing once its buffer is over high (no second one while paused); once the output is read, "
             "resume_writing at or below low; every byte comes out in order",
    .rules = {"flow.pause.when-over-high", "flow.pause.strictly-over-high", "flow.resume.when-at-or-below-low",
              "flow.resume.at-or-below-low", "flow.pairing.alternate", "subprocess.pipe-transport.fd0-stdin",
              "subprocess.connection-lost.last"},
    .variants = process_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          HeldPipe output(false);
          auto child = start_child_with(ctx, "exec cat", output);
          PipePeer reader(ctx, output.release_held_end(), true);
          reader.stop_reading();
          reader.wait_synced(ctx, "the reader to stop");
          auto in = child->stdin_pipe();
          if (!in) throw ScenarioAbort("get_pipe_transport(0) is not a write transport");
          constexpr std::int64_t kHigh = 40000;
          constexpr std::int64_t kLow = 10000;
          in->set_write_buffer_limits(kHigh, kLow);
          std::size_t size_at_pause = 0;
          std::size_t size_at_resume = 0;
          child->hooks.on_pause = [&] { size_at_pause = in->get_write_buffer_size(); };
          child->hooks.on_resume = [&] { size_at_resume = in->get_write_buffer_size(); };

          Digest written;
          std::uint64_t total = 0;
          // The kernel's pipes (cat's stdin and stdout) hold what cat cannot pass on; past them, the transport buffers.
          constexpr std::uint64_t kBound = 64ull << 20;
          std::uint32_t seed = 1000;
          while (!child->seen.writing_paused() && total < kBound) {
            // The loop runs between writes, so the transport sees cat's stdin fill while it still reads.
            std::string chunk = pattern(4096, seed++);
            in->write(chunk);
            written.update(chunk);
            total += chunk.size();
            ctx.run_pending();
          }
          // While cat still drains its stdin into the kernel's pipes, the buffer may pause, drain to low and
          // resume before the pipes fill: more than one pause is allowed until the writing stops.
          ctx.check("flow.pause.when-over-high", child->seen.pauses >= 1,
                    fmt::format("{} bytes written to a child that cannot write its output: pause_writing never "
                                "called, stdin buffer {}",
                                total, in->get_write_buffer_size()));
          if (child->seen.pauses == 0) return;
          const int pauses = child->seen.pauses;
          ctx.check("flow.pause.strictly-over-high", size_at_pause > static_cast<std::size_t>(kHigh),
                    fmt::format("pause_writing with {} bytes buffered, high is {}", size_at_pause, kHigh));
          for (int i = 0; i < 3; ++i) {
            std::string chunk = pattern(4096, seed++);
            in->write(chunk);
            written.update(chunk);
            total += chunk.size();
          }
          ctx.check("flow.pairing.alternate", child->seen.pauses == pauses,
                    fmt::format("more writes while paused: pause_writing called {} more time(s)",
                                child->seen.pauses - pauses));
          reader.resume_reading();
          if (!ctx.expect_within("flow.resume.when-at-or-below-low", [&] { return child->seen.resumes >= pauses; },
                                 "resume_writing once the child's output is read")) {
            return;
          }
          ctx.check("flow.resume.at-or-below-low", size_at_resume <= static_cast<std::size_t>(kLow),
                    fmt::format("resume_writing with {} bytes buffered, low is {}", size_at_resume, kLow));
          in->close();  // cat reads end of file once the buffer is written, and exits
          if (!ctx.expect_within("subprocess.connection-lost.last", [&] { return child->seen.lost > 0; },
                                 "connection_lost after the child's stdin closed")) {
            return;
          }
          reader.wait_synced(ctx, "the reader to read everything");
          auto got = reader.snapshot();
          ctx.check("subprocess.pipe-transport.fd0-stdin", got.bytes_received == total && got.received_digest == written.hex(),
                    fmt::format("{} bytes written to the child, {} came out of it{}", total, got.bytes_received,
                                got.received_digest == written.hex() ? "" : ", not the same bytes"));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
