// Read pipes (connect_read_pipe): data, end of file, pausing, closing.
#include <fmt/core.h>

#include "pipes_support.hpp"
#include "support.hpp"

namespace loopspec::scenarios {
namespace {

bool buffered_variant(const ScenarioContext& ctx) { return ctx.variant().find("+buffered") != std::string::npos; }

// A read pipe whose eof_received returns true, so what follows the end of file is the scenario's to decide.
std::unique_ptr<PipeConnection> open_read_pipe_kept_open_at_eof(ScenarioContext& ctx,
                                                                std::optional<std::size_t> buffer_size = std::nullopt) {
  StreamHooks hooks;
  hooks.on_eof = [] { return true; };
  return open_read_pipe(ctx, hooks, buffer_size);
}

LOOPSPEC_SCENARIO({
    .id = "pipes.read.data-then-eof",
    .title = "connect_read_pipe: a read-only transport; 300 KB written by the other end arrive in order, then its "
             "close (once they arrived) brings eof_received once (returning true) and connection_lost(None)",
    .rules = {"transport.hierarchy.read-pipe", "loop.setup.returns-transport-and-protocol",
              "loop.setup.loop-creates-transport", "proto.made.transport-argument", "proto.streaming.factories",
              "buffered.supported-wherever-streaming", "transport.extra-info.pipe", "transport.extra-info.default",
              "transport.closing.false-while-open", "proto.data.in-order", "buffered.data.in-order",
              "proto.eof.on-peer-shutdown", "proto.eof.read-pipe-return-value", "proto.connection-lost.none-on-close",
              "proto.order.lost-exactly-once", "transport.closing.after-lost"},
    .variants = pipe_variants::kRead,
    .body =
        [](ScenarioContext& ctx) {
          auto conn = open_read_pipe_kept_open_at_eof(ctx);
          auto& t = conn->reader();
          ctx.check("transport.hierarchy.read-pipe",
                    std::dynamic_pointer_cast<ReadTransport>(conn->completed) != nullptr &&
                        std::dynamic_pointer_cast<WriteTransport>(conn->completed) == nullptr,
                    "connect_read_pipe completed with a read-only transport");
          ctx.check("loop.setup.returns-transport-and-protocol", conn->made_before_done,
                    "connect_read_pipe completed before connection_made was called");
          ctx.check("loop.setup.returns-transport-and-protocol", conn->completed->get_protocol() == conn->recorded,
                    "the completed transport's get_protocol() is not the protocol the factory made");
          ctx.check("proto.made.transport-argument", t.get_protocol() == conn->protocol,
                    "connection_made's transport does not lead back to its protocol");
          ctx.check("loop.setup.loop-creates-transport", conn->seen.made == 1,
                    fmt::format("connection_made called {} times", conn->seen.made));
          ctx.check("proto.streaming.factories", true, "connect_read_pipe accepted a streaming protocol factory");
          auto pipe = t.get_extra_info("pipe");
          ctx.check("transport.extra-info.pipe", pipe && !pipe->is_null(),
                    "get_extra_info('pipe') = " + (pipe ? pipe->dump() : std::string("None")));
          auto unknown = t.get_extra_info("peername");
          ctx.check("transport.extra-info.default", !unknown || unknown->is_null(),
                    "get_extra_info('peername') on a pipe = " + (unknown ? unknown->dump() : std::string("None")));
          ctx.check("transport.closing.false-while-open", !t.is_closing(), "is_closing() is true on a new read pipe");

          const std::string data = pattern(300000, 911);
          conn->peer->send(data);
          // The writer closes once everything arrived, so the end of file meets an empty pipe in every run; an
          // end with data still waiting is pipes.read.eof-with-data-waiting's question.
          ctx.run_until([&] { return conn->seen.received.size() >= data.size() || conn->seen.lost > 0; },
                        "the 300000 bytes before the writer closes");
          conn->peer->close();
          if (!ctx.expect_within("proto.eof.on-peer-shutdown", [&] { return conn->seen.eof > 0 || conn->seen.lost > 0; },
                                 "eof_received after the writer closed")) {
            return;
          }
          ctx.run_pending();
          // eof_received returned true: closing is the protocol's call, so a pipe that stayed open is closed here.
          const bool closed_itself = conn->seen.lost > 0;
          if (!closed_itself) {
            t.close();
            if (!ctx.expect_within("proto.connection-lost.none-on-close", [&] { return conn->seen.lost > 0; },
                                   "connection_lost after close()")) {
              return;
            }
          }
          bool intact = conn->seen.received == data;
          std::string message = fmt::format("{} bytes written, {} received{}", data.size(), conn->seen.received.size(),
                                            intact ? "" : ", not the same bytes");
          ctx.check("proto.data.in-order", intact, message);
          if (buffered_variant(ctx)) {
            ctx.check("buffered.data.in-order", intact, message);
            // Supported: the bytes come through get_buffer/buffer_updated, in order (whether all of them arrive
            // is buffered.data.in-order's question).
            const bool through_buffers = !conn->seen.received.empty() && data.starts_with(conn->seen.received);
            ctx.check("buffered.supported-wherever-streaming", through_buffers,
                      "a BufferedProtocol on a read pipe: " + message);
          }
          ctx.check("proto.eof.on-peer-shutdown", conn->seen.eof == 1,
                    fmt::format("eof_received called {} times after the writer closed", conn->seen.eof));
          ctx.check("proto.eof.read-pipe-return-value", true,
                    closed_itself ? "eof_received returned true and the read pipe closed anyway"
                                  : "eof_received returned true and the read pipe stayed open");
          check_lost_once_with_none(ctx, conn->seen, " after EOF");
          ctx.check("transport.closing.after-lost", t.is_closing(), "is_closing() is false after connection_lost");
        },
});

LOOPSPEC_SCENARIO({
    .id = "pipes.read.eof-with-data-waiting",
    .title = "while reading is paused the other end writes 8000 bytes and closes; resume_reading delivers every byte "
             "in order, then eof_received (a BufferedProtocol lends 64 KiB buffers)",
    .rules = {"proto.data.in-order", "buffered.data.in-order", "proto.eof.on-peer-shutdown"},
    .variants = pipe_variants::kRead,
    .body =
        [](ScenarioContext& ctx) {
          // Buffers larger than everything waiting: then no read fills its buffer, whatever the kernel's
          // timing, so a loop that takes a short read at hang-up for the end does so in every run.
          auto conn = open_read_pipe_kept_open_at_eof(ctx, 64 * 1024);
          auto& t = conn->reader();
          t.pause_reading();
          // Fits what every kind holds unread: a raw pty takes about 12 KB, pipes and FIFOs 64 KB.
          const std::string data = pattern(8000, 914);
          conn->peer->send(data);
          conn->peer->close();
          ctx.wait([&] { return conn->peer->snapshot().closed; }, "the writer to write everything and close");
          t.resume_reading();
          if (!ctx.expect_within("proto.eof.on-peer-shutdown", [&] { return conn->seen.eof > 0 || conn->seen.lost > 0; },
                                 "eof_received after the writer closed")) {
            return;
          }
          ctx.run_pending();
          const bool intact = conn->seen.received == data;
          const std::string message = fmt::format("{} bytes waited in the pipe when its writer closed, {} were delivered{}",
                                                  data.size(), conn->seen.received.size(), intact ? "" : ", not the same bytes");
          ctx.check("proto.data.in-order", intact, message);
          if (buffered_variant(ctx)) ctx.check("buffered.data.in-order", intact, message);
          ctx.check("proto.eof.on-peer-shutdown", conn->seen.eof == 1 && !conn->seen.lost_error,
                    fmt::format("eof_received called {} times after the writer closed{}", conn->seen.eof,
                                conn->seen.lost ? ", then " + lost_text(conn->seen) : ""));
        },
});

LOOPSPEC_SCENARIO({
    .id = "pipes.read.eof-false-closes",
    .title = "eof_received returns false on a read pipe: connection_lost(None) follows",
    .rules = {"proto.eof.false-closes", "proto.eof.at-most-once", "proto.eof.on-peer-shutdown", "proto.connection-lost.none-on-close"},
    .variants = pipe_variants::kRead,
    .body =
        [](ScenarioContext& ctx) {
          StreamHooks hooks;
          hooks.on_eof = [] { return false; };
          auto conn = open_read_pipe(ctx, hooks);
          conn->peer->send("last words");
          // Closed once they arrived: the end of file meets an empty pipe in every run.
          ctx.run_until([&] { return conn->seen.received.size() >= 10 || conn->seen.lost > 0; }, "'last words'");
          conn->peer->close();
          if (!ctx.expect_within("proto.eof.false-closes", [&] { return conn->seen.lost > 0; },
                                 "connection_lost after eof_received returned false")) {
            return;
          }
          ctx.run_pending();
          check_eof_once(ctx, conn->seen);
          ctx.check("proto.connection-lost.none-on-close", !conn->seen.lost_error, lost_text(conn->seen) + " after EOF");
          ctx.check("proto.eof.false-closes", conn->reader().is_closing(), "is_closing() is false after connection_lost");
        },
});

LOOPSPEC_SCENARIO({
    .id = "pipes.read.partial-protocol",
    .title = "a protocol that implements only data_received on a read pipe: data arrives; its default eof_received "
             "lets the pipe close",
    .rules = {"proto.defaults.empty", "proto.eof.default-returns-none"},
    .variants = pipe_variants::kReadPlain,
    .body =
        [](ScenarioContext& ctx) {
          auto conn = open_read_pipe(ctx);  // only for the peer and the pipe kind
          std::string received;
          // The pipe's transport switches to the partial protocol before any data (the recorded
          // transport records it on the same connection).
          conn->reader().set_protocol(std::make_shared<OnlyDataProtocol>(received));
          conn->peer->send("hello");
          conn->peer->close();
          ctx.expect_within("proto.defaults.empty", [&] { return received == "hello"; }, "data_received");
          ctx.expect_within("proto.eof.default-returns-none", [&] { return conn->reader().is_closing(); },
                            "the pipe to close after the default eof_received");
          ctx.check("proto.defaults.empty", received == "hello", "the partial protocol received '" + received + "'");
        },
});

LOOPSPEC_SCENARIO({
    .id = "pipes.read.pause-resume",
    .title = "pause_reading on a read pipe: nothing is delivered while data waits in the pipe, is_reading() is "
             "false, a second pause is harmless; resume_reading delivers it all",
    .rules = {"read.pause.stops-delivery", "read.pause.no-data-while-paused", "read.resume.delivers-pending",
              "read.is-reading.reflects-state", "read.pause.idempotent", "read.resume.idempotent",
              "read.pause-resume.repeat-unspecified"},
    .variants = pipe_variants::kRead,
    .body =
        [](ScenarioContext& ctx) {
          auto conn = open_read_pipe(ctx);
          auto& t = conn->reader();
          // A loop whose read pipes lack is_reading() breaks that rule only; pausing is checked all the same.
          auto check_reading = [&](bool expected, std::string_view when) {
            bool reading = !expected;
            auto error = capture_error([&] { reading = t.is_reading(); });
            ctx.check("read.is-reading.reflects-state", !error && reading == expected,
                      error ? fmt::format("is_reading() {} raised {}", when, error->to_string())
                            : fmt::format("is_reading() is {} {}", reading, when));
          };
          check_reading(true, "on a new read pipe");
          t.pause_reading();
          auto second = capture_error([&] { t.pause_reading(); });
          ctx.check("read.pause.idempotent", !second, "a second pause_reading() raised " + (second ? second->to_string() : ""));
          ctx.check("read.pause-resume.repeat-unspecified", true,
                    second ? "a second pause_reading() raised" : "a second pause_reading() is harmless");
          check_reading(false, "after pause_reading()");
          const std::string data = pattern(2000, 912);  // fits the smallest pipe buffer (a pty's)
          conn->peer->send(data);
          ctx.wait([&] { return conn->peer->snapshot().bytes_sent >= data.size(); }, "the writer to write");
          ctx.run_pending();
          ctx.run_pending();
          ctx.check("read.pause.stops-delivery", conn->seen.received.empty(),
                    fmt::format("{} bytes delivered while reading was paused", conn->seen.received.size()));
          t.resume_reading();
          auto again = capture_error([&] { t.resume_reading(); });
          ctx.check("read.resume.idempotent", !again, "a second resume_reading() raised " + (again ? again->to_string() : ""));
          check_reading(true, "after resume_reading()");
          if (!ctx.expect_within("read.resume.delivers-pending", [&] { return conn->seen.received.size() >= data.size(); },
                                 "the data waiting in the pipe")) {
            return;
          }
          ctx.check("read.resume.delivers-pending", conn->seen.received == data, "the data arrived intact after resume");
        },
});

LOOPSPEC_SCENARIO({
    .id = "pipes.read.close",
    .title = "close() on a read pipe with data waiting in it: is_closing() at once, the data is never delivered, "
             "connection_lost(None) exactly once",
    .rules = {"transport.close.no-more-data", "transport.close.connection-lost-after-flush",
              "transport.closing.after-close", "proto.connection-lost.none-on-close", "proto.order.lost-exactly-once"},
    .variants = pipe_variants::kRead,
    .body =
        [](ScenarioContext& ctx) {
          auto conn = open_read_pipe(ctx);
          auto& t = conn->reader();
          const std::string data = pattern(5000, 913);
          conn->peer->send(data);
          ctx.wait([&] { return conn->peer->snapshot().bytes_sent >= data.size(); }, "the writer to write");
          const std::size_t before = conn->seen.received.size();
          t.close();
          ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after close()");
          if (!ctx.expect_within("transport.close.connection-lost-after-flush", [&] { return conn->seen.lost > 0; },
                                 "connection_lost after close()")) {
            return;
          }
          ctx.run_pending();
          ctx.check("transport.close.no-more-data", conn->seen.received.size() == before,
                    fmt::format("{} bytes were delivered after close()", conn->seen.received.size() - before));
          check_lost_once_with_none(ctx, conn->seen, " after close()");
        },
});

}  // namespace
}  // namespace loopspec::scenarios
