// pause_reading / resume_reading / is_reading.
#include <fmt/core.h>

#include "support.hpp"

namespace loopspec::scenarios {
namespace {

// With reading paused, the peer sends `data`: none of it may be delivered. Then resume_reading() must deliver
// all of it, in order. False when it did not arrive in time.
bool send_paused_then_resume(ScenarioContext& ctx, StreamConnection& conn, const std::string& data) {
  auto& t = *conn.transport();
  conn.peer_send(data, 0);
  ctx.wait([&] { return conn.peer().snapshot().bytes_sent >= data.size(); }, "the peer to send");
  // The bytes sit in the socket now; give the loop two turns to (wrongly) deliver them.
  ctx.run_pending();
  ctx.run_pending();
  ctx.check("read.pause.stops-delivery", conn.seen.received.empty(),
            fmt::format("{} bytes delivered while reading was paused", conn.seen.received.size()));
  t.resume_reading();
  ctx.check("read.is-reading.reflects-state", t.is_reading(), "is_reading() is false after resume_reading()");
  if (!ctx.expect_within("read.resume.delivers-pending", [&] { return conn.seen.received.size() >= data.size(); },
                         "the pending data after resume_reading()")) {
    return false;
  }
  ctx.check("proto.data.in-order", conn.seen.received == data, "the data delivered after resume_reading()");
  return true;
}

LOOPSPEC_SCENARIO({
    .id = "stream.reading.pause-and-resume",
    .title = "pause_reading: data waiting in the socket is not delivered and is_reading() is false; a second "
             "pause_reading is harmless; resume_reading delivers it all",
    .rules = {"read.pause.stops-delivery", "read.pause.no-data-while-paused", "read.resume.delivers-pending",
              "read.is-reading.reflects-state", "read.pause.idempotent", "read.resume.idempotent",
              "proto.data.in-order", "read.pause-resume.repeat-unspecified"},
    .variants = variants::kReceive,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          ctx.check("read.is-reading.reflects-state", t.is_reading(), "is_reading() is false on a new connection");
          auto second_resume = capture_error([&] { t.resume_reading(); });
          ctx.check("read.resume.idempotent", !second_resume,
                    "resume_reading() on a reading transport raised " + (second_resume ? second_resume->to_string() : ""));
          t.pause_reading();
          ctx.check("read.is-reading.reflects-state", !t.is_reading(), "is_reading() is true after pause_reading()");
          auto second_pause = capture_error([&] { t.pause_reading(); });
          ctx.check("read.pause.idempotent", !second_pause,
                    "a second pause_reading() raised " + (second_pause ? second_pause->to_string() : ""));
          ctx.check("read.pause-resume.repeat-unspecified", true,
                    "resume_reading() while reading: " + (second_resume ? "raised " + second_resume->to_string() : std::string("no error")) +
                        "; a second pause_reading(): " + (second_pause ? "raised " + second_pause->to_string() : std::string("no error")));

          if (!send_paused_then_resume(ctx, conn, pattern(48000, 61))) return;
          auto again = capture_error([&] { t.resume_reading(); });
          ctx.check("read.resume.idempotent", !again, "a second resume_reading() raised " + (again ? again->to_string() : ""));
          t.close();
          auto after_close = capture_error([&] { t.pause_reading(); });
          ctx.check("read.pause.idempotent", !after_close,
                    "pause_reading() on a closing transport raised " + (after_close ? after_close->to_string() : ""));
          auto resume_closed = capture_error([&] { t.resume_reading(); });
          ctx.check("read.resume.idempotent", !resume_closed,
                    "resume_reading() on a closing transport raised " + (resume_closed ? resume_closed->to_string() : ""));
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.reading.paused-in-connection-made",
    .title = "pause_reading() inside connection_made: nothing is delivered until resume_reading(), then everything, "
             "in order",
    .rules = {"read.pause.stops-delivery", "read.pause.no-data-while-paused", "read.resume.delivers-pending",
              "read.is-reading.reflects-state", "proto.data.in-order", "loop.tls.encrypted-stream"},
    .variants = variants::kReceive,
    .body =
        [](ScenarioContext& ctx) {
          StreamHooks hooks;
          hooks.on_made = [](Transport& t) { t.pause_reading(); };
          auto& conn = ctx.open_stream(hooks);
          auto& t = *conn.transport();
          ctx.check("read.is-reading.reflects-state", !t.is_reading(),
                    "is_reading() is true after pause_reading() in connection_made");
          // A paused application must not hold up the TLS layer: the handshake's last flight still goes out.
          if (ctx.tls_variant() &&
              !ctx.expect_within("loop.tls.encrypted-stream", [&] { return conn.peer().snapshot().tls_handshake_done; },
                                 "the peer to finish the TLS handshake while the application has paused reading")) {
            return;
          }
          send_paused_then_resume(ctx, conn, pattern(48000, 62));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
