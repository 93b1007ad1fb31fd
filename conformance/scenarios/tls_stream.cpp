// What a TLS stream does differently from a socket: no half-close, its extra
// info, and the layer between the application and the socket, which must
// pass back-pressure through and stop delivering at pause_reading() even
// with decrypted data in hand.
#include <fmt/core.h>

#include "tls_support.hpp"

namespace loopspec::scenarios {
namespace {

std::string shown(const std::optional<nlohmann::json>& value) { return value ? value->dump() : "None"; }

LOOPSPEC_SCENARIO({
    .id = "tls.api.extra-info",
    .title = "a TLS transport answers 'compression' (a name or None), 'cipher' (name, protocol version, secret "
             "bits), 'peercert' (on the verifying client), 'sslcontext' and 'ssl_object'",
    .rules = {"transport.extra-info.ssl", "transport.extra-info.ssl-object", "transport.extra-info.ssl-cipher-triple",
              "transport.extra-info.ssl-compression-name-or-none"},
    .variants = variants::kTls,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          auto compression = t.get_extra_info("compression");
          ctx.check("transport.extra-info.ssl-compression-name-or-none",
                    !compression || compression->is_null() ||
                        (compression->is_string() && !compression->get<std::string>().empty()),
                    "get_extra_info('compression') = " + shown(compression));
          auto cipher = t.get_extra_info("cipher");
          bool answered = cipher && !cipher->is_null();
          bool triple = answered && cipher->is_array() && cipher->size() == 3 && (*cipher)[0].is_string() &&
                        !(*cipher)[0].get<std::string>().empty() && (*cipher)[1].is_string() &&
                        !(*cipher)[1].get<std::string>().empty() && (*cipher)[2].is_number_integer() &&
                        (*cipher)[2].get<std::int64_t>() > 0;
          ctx.check("transport.extra-info.ssl-cipher-triple", !answered || triple,
                    "get_extra_info('cipher') = " + shown(cipher));
          auto context = t.get_extra_info("sslcontext");
          auto peercert = t.get_extra_info("peercert");
          // The backend's server asks for no client certificate, so only its client has a peer certificate.
          bool client = ctx.variant() == "tls";
          bool has_peercert = peercert && !peercert->is_null();
          ctx.check("transport.extra-info.ssl",
                    answered && context && !context->is_null() && (!client || has_peercert),
                    fmt::format("cipher {}, sslcontext {}, peercert {}", shown(cipher), shown(context),
                                shown(peercert)));
          auto ssl_object = t.get_extra_info("ssl_object");
          ctx.check("transport.extra-info.ssl-object", ssl_object && !ssl_object->is_null(),
                    "get_extra_info('ssl_object') = " + shown(ssl_object));
        },
});

LOOPSPEC_SCENARIO({
    .id = "tls.api.write-eof-unsupported",
    .title = "a TLS transport has no half-close: can_write_eof() and write_eof() agree (False and "
             "NotImplementedError, or True and no such error)",
    .rules = {"write.eof.may-be-unsupported", "write.eof.can-write-eof-consistent"},
    .variants = variants::kTls,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          bool can = t.can_write_eof();
          auto raised = capture_error([&] { t.write_eof(); });
          bool not_implemented = raised && raised->type == "NotImplementedError";
          std::string observed = fmt::format("can_write_eof() = {}; write_eof() raised {}", can,
                                             raised ? raised->to_string() : std::string("nothing"));
          ctx.check("write.eof.can-write-eof-consistent", can != not_implemented, observed);
          ctx.check("write.eof.may-be-unsupported", true, observed);
        },
});

LOOPSPEC_SCENARIO({
    .id = "tls.eof.true-still-closes",
    .title = "the TLS peer sends data and close_notify; eof_received returns true, yet the connection closes: "
             "connection_lost(None) follows, after every byte",
    .rules = {"proto.eof.true-closes-without-half-close", "proto.eof.at-most-once", "proto.eof.on-peer-shutdown", "proto.data.in-order",
              "proto.connection-lost.none-on-close"},
    .variants = variants::kTlsReceive,
    .body =
        [](ScenarioContext& ctx) {
          StreamHooks hooks;
          hooks.on_eof = [] { return true; };
          auto& conn = ctx.open_stream(hooks);
          const std::string data = pattern(50000, 111);
          conn.peer_send(data, 0);
          conn.peer_shutdown_write();
          if (!ctx.expect_within("proto.eof.true-closes-without-half-close", [&] { return conn.seen.lost > 0; },
                                 "connection_lost after eof_received returned true")) {
            return;
          }
          ctx.run_pending();
          ctx.check("proto.eof.true-closes-without-half-close", conn.seen.eof == 1 && conn.seen.lost == 1,
                    fmt::format("eof_received {} time(s), then connection_lost {} time(s)", conn.seen.eof,
                                conn.seen.lost));
          check_eof_once(ctx, conn.seen);
          ctx.check("proto.data.in-order", conn.seen.received == data,
                    fmt::format("received {} of {} bytes before the close", conn.seen.received.size(), data.size()));
          ctx.check("proto.connection-lost.none-on-close", !conn.seen.lost_error,
                    lost_text(conn.seen) + " after the peer's close_notify");
        },
});

LOOPSPEC_SCENARIO({
    .id = "tls.reading.pause-inside-callback",
    .title = "pause_reading() inside the first data callback of a 64 KiB burst: nothing more is delivered, though "
             "the TLS layer may hold decrypted data; resume_reading() delivers the rest in order",
    .rules = {"read.pause.stops-delivery", "read.pause.no-data-while-paused", "read.resume.delivers-pending",
              "proto.data.in-order"},
    .variants = variants::kTlsReceive,
    .body =
        [](ScenarioContext& ctx) {
          // BufferedProtocols get 1000-byte buffers, so one arrival takes many deliveries.
          auto& conn = ctx.open_stream({}, StreamOptions{1000});
          auto& t = *conn.transport();
          std::size_t at_pause = 0;
          bool paused = false;
          conn.hooks.on_data = [&](std::string_view) {
            if (paused) return;
            paused = true;
            t.pause_reading();
            at_pause = conn.seen.received.size();
          };
          const std::string data = pattern(64 * 1024, 112);
          conn.peer_send(data, 0);
          ctx.wait([&] { return paused && conn.peer().snapshot().bytes_sent >= data.size(); },
                   "the first delivery and the peer's last byte sent");
          ctx.run_pending();
          ctx.run_pending();
          ctx.check("read.pause.stops-delivery", conn.seen.received.size() == at_pause,
                    fmt::format("{} bytes delivered when pause_reading() was called, {} by now",
                                at_pause, conn.seen.received.size()));
          t.resume_reading();
          if (!ctx.expect_within("read.resume.delivers-pending",
                                 [&] { return conn.seen.received.size() >= data.size(); },
                                 "the rest after resume_reading()")) {
            return;
          }
          ctx.check("proto.data.in-order", conn.seen.received == data, "the burst as delivered around the pause");
        },
});

LOOPSPEC_SCENARIO({
    .id = "tls.flow.blocked-socket-pauses-writer",
    .title = "with watermarks 64 KiB / 16 KiB and a TLS peer that stops reading, writes are held back until "
             "pause_writing (strictly over high); once the peer reads, resume_writing comes at or below low and "
             "every byte arrives in order",
    .rules = {"flow.pause.strictly-over-high", "flow.pause.when-over-high", "flow.resume.at-or-below-low",
              "flow.resume.when-at-or-below-low", "flow.pairing.alternate", "write.buffer-size.reports-buffered",
              "write.data.in-order"},
    .variants = variants::kTls,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          constexpr std::size_t kHigh = 64 * 1024;
          constexpr std::size_t kLow = 16 * 1024;
          t.set_write_buffer_limits(kHigh, kLow);
          std::size_t size_at_pause = 0;
          std::size_t size_at_resume = 0;
          conn.hooks.on_pause = [&] { size_at_pause = t.get_write_buffer_size(); };
          conn.hooks.on_resume = [&] { size_at_resume = t.get_write_buffer_size(); };
          conn.peer_stop_reading();
          ctx.wait([&] { return !conn.peer().snapshot().reading; }, "the peer to stop reading");
          Digest written;
          std::uint64_t total = 0;
          const std::string chunk = pattern(16 * 1024, 113);
          while (!conn.seen.writing_paused()) {
            if (total >= (64u << 20)) {
              ctx.check("write.buffer-size.reports-buffered", false,
                        fmt::format("{} bytes written to a peer that does not read, no pause_writing; buffer size {}",
                                    total, t.get_write_buffer_size()));
              return;
            }
            write_tracked(conn, chunk, written, total);
          }
          ctx.check("flow.pause.strictly-over-high", size_at_pause > kHigh,
                    fmt::format("pause_writing with {} bytes buffered, high {}", size_at_pause, kHigh));
          ctx.run_pending();
          auto peer = conn.peer().snapshot();
          ctx.check("write.buffer-size.reports-buffered",
                    t.get_write_buffer_size() > 0 && peer.bytes_received < total,
                    fmt::format("paused with {} bytes buffered; the peer has {} of {} written", t.get_write_buffer_size(),
                                peer.bytes_received, total));
          if (!drain_to_peer(ctx, conn, total, "write.data.in-order")) return;
          if (!ctx.expect_within("flow.resume.when-at-or-below-low", [&] { return conn.seen.resumes > 0; },
                                 "resume_writing once the peer reads")) {
            return;
          }
          ctx.check("flow.resume.at-or-below-low", size_at_resume <= kLow,
                    fmt::format("resume_writing with {} bytes buffered, low {}", size_at_resume, kLow));
          check_peer_received(ctx, conn, total, written, "write.data.in-order");
        },
});

}  // namespace
}  // namespace loopspec::scenarios
