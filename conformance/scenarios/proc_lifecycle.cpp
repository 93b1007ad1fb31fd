// Subprocesses: what subprocess_exec/subprocess_shell make, the pipes, the
// pid, and the order of the callbacks up to connection_lost.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/core.h>

#include "proc_support.hpp"
#include "support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "proc.lifecycle.pipes-and-pid",
    .title = "a child with stdin, stdout and stderr pipes: the transport's pipes are a write and two read "
             "transports, get_pid() is the pid the child reports, output arrives on fds 1 and 2, stdin reaches the "
             "child; its exit gives process_exited once with the return code set, pipe_connection_lost per pipe, "
             "then connection_lost(None) last",
    .rules = {"transport.hierarchy.subprocess", "transport.hierarchy.read-pipe", "transport.hierarchy.write-pipe",
              "loop.setup.returns-transport-and-protocol", "loop.setup.loop-creates-transport",
              "proto.made.transport-argument", "transport.protocol.get-set", "transport.extra-info.subprocess",
              "transport.extra-info.default", "transport.closing.false-while-open", "transport.closing.after-lost",
              "subprocess.class.base-subprocess-transport", "subprocess.get-pid.returns-pid",
              "subprocess.pipe-transport.fd0-stdin", "subprocess.pipe-transport.fd1-stdout",
              "subprocess.pipe-transport.fd2-stderr", "subprocess.pipe-transport.other-fd-none",
              "subprocess.returncode.none-while-running", "subprocess.returncode.after-exit", "subprocess.pipe-data.fd",
              "subprocess.pipe-data.non-empty", "subprocess.pipe-lost.per-pipe", "subprocess.exited.called",
              "subprocess.exited.order-vs-pipes", "subprocess.connection-lost.last",
              "proto.connection-lost.none-on-close", "proto.order.lost-exactly-once"},
    .variants = process_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          auto child = start_child(ctx, "echo $$; echo to-stderr >&2; read line; echo \"got:$line\"; exit 7", all_pipes());
          auto& t = child->transport();
          ctx.check("transport.hierarchy.subprocess",
                    child->completed != nullptr && std::dynamic_pointer_cast<Transport>(child->completed) == nullptr,
                    "the setup completed with a SubprocessTransport");
          ctx.check("loop.setup.returns-transport-and-protocol",
                    child->made_before_done && child->completed->get_protocol() == child->recorded,
                    "the setup completed before connection_made, or with another protocol");
          ctx.check("proto.made.transport-argument", t.get_protocol() == child->protocol,
                    "connection_made's transport does not lead back to its protocol");
          ctx.check("transport.protocol.get-set", t.get_protocol() == child->protocol,
                    "get_protocol() does not return the protocol the transport was created with");
          ctx.check("loop.setup.loop-creates-transport", child->seen.made == 1,
                    fmt::format("connection_made called {} times", child->seen.made));
          ctx.check("subprocess.class.base-subprocess-transport", true,
                    "the transport is the contract's SubprocessTransport (3.4.3: BaseSubprocessTransport)");
          auto info = t.get_extra_info("subprocess");
          ctx.check("transport.extra-info.subprocess", info && !info->is_null(),
                    "get_extra_info('subprocess') = " + (info ? info->dump() : std::string("None")));
          auto unknown = t.get_extra_info("no-such-key");
          ctx.check("transport.extra-info.default", !unknown || unknown->is_null(),
                    "get_extra_info('no-such-key') = " + (unknown ? unknown->dump() : std::string("None")));
          ctx.check("transport.closing.false-while-open", !t.is_closing(), "is_closing() is true on a running child");

          auto in = t.get_pipe_transport(0);
          auto out = t.get_pipe_transport(1);
          auto err = t.get_pipe_transport(2);
          bool stdin_ok = std::dynamic_pointer_cast<WriteTransport>(in) && !std::dynamic_pointer_cast<ReadTransport>(in);
          bool stdout_ok = std::dynamic_pointer_cast<ReadTransport>(out) && !std::dynamic_pointer_cast<WriteTransport>(out);
          bool stderr_ok = std::dynamic_pointer_cast<ReadTransport>(err) && !std::dynamic_pointer_cast<WriteTransport>(err);
          ctx.check("subprocess.pipe-transport.fd0-stdin", stdin_ok,
                    "get_pipe_transport(0) with stdin=PIPE is not a write-only transport");
          ctx.check("subprocess.pipe-transport.fd1-stdout", stdout_ok,
                    "get_pipe_transport(1) with stdout=PIPE is not a read-only transport");
          ctx.check("subprocess.pipe-transport.fd2-stderr", stderr_ok,
                    "get_pipe_transport(2) with stderr=PIPE is not a read-only transport");
          ctx.check("transport.hierarchy.write-pipe", stdin_ok, "the stdin pipe is a WriteTransport");
          ctx.check("transport.hierarchy.read-pipe", stdout_ok && stderr_ok, "the stdout and stderr pipes are ReadTransports");
          for (int fd : {3, 4, 255}) {
            ctx.check("subprocess.pipe-transport.other-fd-none", t.get_pipe_transport(fd) == nullptr,
                      fmt::format("get_pipe_transport({}) is not None", fd));
          }

          if (!ctx.expect_within("subprocess.get-pid.returns-pid",
                                 [&] { return child->seen.output[1].find('\n') != std::string::npos; },
                                 "the child's pid on its stdout")) {
            return;
          }
          std::string reported = child->seen.output[1].substr(0, child->seen.output[1].find('\n'));
          ctx.check("subprocess.get-pid.returns-pid", reported == std::to_string(t.get_pid()),
                    fmt::format("get_pid() = {}, the child says its pid is {}", t.get_pid(), reported));
          ctx.check("subprocess.returncode.none-while-running", !t.get_returncode(),
                    "get_returncode() = " + returncode_text(t.get_returncode()) + " while the child waits for its stdin");
          if (!stdin_ok) return;
          std::dynamic_pointer_cast<WriteTransport>(in)->write("hello\n");

          if (!ctx.expect_within("subprocess.connection-lost.last", [&] { return child->seen.lost > 0; },
                                 "connection_lost after the child exited")) {
            return;
          }
          ctx.run_pending();
          const auto& seen = child->seen;
          ctx.check("subprocess.pipe-data.fd",
                    seen.output[1] == reported + "\ngot:hello\n" && seen.output[2] == "to-stderr\n",
                    fmt::format("fd 1 got '{}', fd 2 got '{}'", seen.output[1], seen.output[2]));
          ctx.check("subprocess.exited.called", seen.exited == 1, fmt::format("process_exited called {} times", seen.exited));
          ctx.check("subprocess.returncode.after-exit", seen.returncode_at_exit == 7 && t.get_returncode() == 7,
                    fmt::format("the child exited with 7: get_returncode() {} in process_exited, {} afterwards",
                                returncode_text(seen.returncode_at_exit), returncode_text(t.get_returncode())));
          for (int fd = 0; fd < 3; ++fd) {
            ctx.check("subprocess.pipe-lost.per-pipe",
                      std::count_if(seen.pipes_lost.begin(), seen.pipes_lost.end(),
                                    [fd](const auto& e) { return e.first == fd; }) == 1,
                      fmt::format("pipe_connection_lost({}) was not called exactly once; calls: {}", fd, seen.order_text()));
          }
          ctx.check("subprocess.exited.order-vs-pipes", true, "callbacks in order: " + seen.order_text());
          ctx.check("subprocess.connection-lost.last", !seen.order.empty() && seen.order.back() == "lost",
                    "callbacks in order: " + seen.order_text());
          check_lost_once_with_none(ctx, seen, " after the child exited");
          ctx.check("transport.closing.after-lost", t.is_closing(), "is_closing() is false after connection_lost");
        },
});

LOOPSPEC_SCENARIO({
    .id = "proc.lifecycle.pipes-close-before-exit",
    .title = "a child closes its stdout and stderr, then waits: pipe_connection_lost(1) and (2) come, but no "
             "connection_lost while it runs; once it exits: process_exited, then connection_lost",
    .rules = {"subprocess.connection-lost.last", "subprocess.pipe-lost.per-pipe", "subprocess.exited.called",
              "subprocess.exited.order-vs-pipes", "subprocess.returncode.after-exit"},
    .variants = process_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          HeldPipe input(true);
          auto child = start_child_with(ctx, "exec 1>&- 2>&-; read line; exit 3", input);
          const auto& seen = child->seen;
          if (!ctx.expect_within("subprocess.pipe-lost.per-pipe",
                                 [&] { return seen.pipe_lost(1) && seen.pipe_lost(2); },
                                 "pipe_connection_lost for stdout and stderr")) {
            return;
          }
          ctx.run_pending();
          ctx.run_pending();
          ctx.check("subprocess.connection-lost.last", seen.lost == 0 && seen.exited == 0,
                    "while the child still runs: " + seen.order_text());
          input.close_held_end();  // the child's read sees end of file and it exits
          if (!ctx.expect_within("subprocess.connection-lost.last", [&] { return seen.lost > 0; },
                                 "connection_lost once the child exited")) {
            return;
          }
          ctx.run_pending();
          ctx.check("subprocess.exited.called", seen.exited == 1, fmt::format("process_exited called {} times", seen.exited));
          ctx.check("subprocess.returncode.after-exit", seen.returncode_at_exit == 3,
                    "get_returncode() in process_exited = " + returncode_text(seen.returncode_at_exit) + ", exit status 3");
          ctx.check("subprocess.connection-lost.last", seen.order.back() == "lost", "callbacks in order: " + seen.order_text());
          ctx.check("subprocess.exited.order-vs-pipes", true, "callbacks in order: " + seen.order_text());
        },
});

LOOPSPEC_SCENARIO({
    .id = "proc.lifecycle.stdio-not-piped",
    .title = "streams that are not pipes (DEVNULL, inherited, a descriptor) have no pipe transport; the child "
             "reads /dev/null and writes to the given descriptor",
    .rules = {"subprocess.pipe-transport.fd0-stdin", "subprocess.pipe-transport.fd1-stdout",
              "subprocess.pipe-transport.fd2-stderr", "subprocess.pipe-data.fd", "subprocess.connection-lost.last"},
    .variants = process_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          // stdin /dev/null, stdout a pipe, stderr inherited (the child writes nothing there).
          SubprocessOptions first;
          first.stdin_spec = StdioSpec{Stdio::DevNull};
          first.stderr_spec = StdioSpec{Stdio::Inherit};
          // The child finishes only once a line comes through a FIFO, sent after connection_made: a child that
          // finished before connection_made would race the loop's own bookkeeping.
          const std::string gate = (ctx.temp_dir() / "gate").string();
          if (::mkfifo(gate.c_str(), 0600) < 0) throw ScenarioAbort("mkfifo " + gate + " failed");
          auto a = start_child(ctx, "cat; read go < '" + gate + "'; echo done", first);
          // O_RDWR never waits for the child to open its end; held open until the scenario ends, so the line
          // stays in the FIFO until the child reads it.
          struct GateEnd {
            int fd;
            ~GateEnd() { ::close(fd); }
          } opened{::open(gate.c_str(), O_RDWR | O_CLOEXEC)};
          if (opened.fd < 0 || ::write(opened.fd, "go\n", 3) != 3) throw ScenarioAbort("writing to " + gate + " failed");
          ctx.check("subprocess.pipe-transport.fd0-stdin", a->transport().get_pipe_transport(0) == nullptr,
                    "get_pipe_transport(0) with stdin=DEVNULL is not None");
          ctx.check("subprocess.pipe-transport.fd2-stderr", a->transport().get_pipe_transport(2) == nullptr,
                    "get_pipe_transport(2) with stderr inherited is not None");
          ctx.check("subprocess.pipe-transport.fd1-stdout", a->output_pipe(1) != nullptr,
                    "get_pipe_transport(1) with stdout=PIPE is not a read transport");
          if (!ctx.expect_within("subprocess.connection-lost.last", [&] { return a->seen.lost > 0; },
                                 "the first child to finish")) {
            return;
          }
          ctx.check("subprocess.pipe-data.fd", a->seen.output[1] == "done\n" && a->seen.output[2].empty(),
                    fmt::format("a child reading /dev/null: fd 1 got '{}', fd 2 got '{}'", a->seen.output[1],
                                a->seen.output[2]));

          // stdin a pipe, stdout a descriptor the scenario holds, stderr /dev/null.
          HeldPipe output(false);
          SubprocessOptions second;
          second.stdout_spec = output.child_spec();
          second.stderr_spec = StdioSpec{Stdio::DevNull};
          auto b = start_child(ctx, "read line; echo \"to-fd:$line\"; echo lost >&2", second);
          output.close_child_end();
          ctx.check("subprocess.pipe-transport.fd1-stdout", b->transport().get_pipe_transport(1) == nullptr,
                    "get_pipe_transport(1) with stdout a descriptor is not None");
          ctx.check("subprocess.pipe-transport.fd2-stderr", b->transport().get_pipe_transport(2) == nullptr,
                    "get_pipe_transport(2) with stderr=DEVNULL is not None");
          auto in = b->stdin_pipe();
          ctx.check("subprocess.pipe-transport.fd0-stdin", in != nullptr,
                    "get_pipe_transport(0) with stdin=PIPE is not a write transport");
          if (!in) return;
          in->write("x\n");
          if (!ctx.expect_within("subprocess.connection-lost.last", [&] { return b->seen.lost > 0; },
                                 "the second child to finish")) {
            return;
          }
          std::string written = output.read_available();
          ctx.check("subprocess.pipe-data.fd", written == "to-fd:x\n" && b->seen.data_fds.empty(),
                    fmt::format("the descriptor got '{}'; pipe_data_received was called {} times", written,
                                b->seen.data_fds.size()));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
