// BufferedProtocol specifics: buffers smaller than the data, and the zero-size error.
#include <fmt/core.h>

#include "support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "stream.buffered.small-buffers",
    .title = "BufferedProtocols whose buffers hold 7 bytes and 1 MiB each receive 100 KiB: every buffer_updated "
             "fits its buffer and the bytes arrive in order",
    .rules = {"buffered.buffer.nbytes-within-buffer", "buffered.order.updated-after-get-buffer", "proto.data.in-order",
              "buffered.get-buffer.any-size-accepted", "buffered.data.in-order"},
    .variants = variants::kBuffered,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream({}, StreamOptions{7});
          const std::string data = pattern(100 * 1024, 71);
          conn.peer_send(data, 0);
          // 14,629 buffers: through a driver in another process that is as many lock-step round trips.
          ctx.expect_progressing("proto.data.in-order", [&] { return conn.seen.received.size() >= data.size(); },
                                 [&] { return conn.seen.received.size(); }, "100 KiB through 7-byte buffers");
          std::size_t largest = 0;
          for (auto n : conn.seen.chunk_sizes) largest = std::max(largest, n);
          ctx.check("buffered.buffer.nbytes-within-buffer", largest <= 7,
                    fmt::format("largest buffer_updated: {} bytes into 7-byte buffers", largest));
          ctx.check("proto.data.in-order", conn.seen.received == data, "the bytes as received through small buffers");
          ctx.check("buffered.data.in-order", conn.seen.received == data, "the bytes as received through 7-byte buffers");

          auto& large = ctx.open_stream({}, StreamOptions{1 << 20});
          large.peer_send(data, 0);
          ctx.expect_within("buffered.get-buffer.any-size-accepted",
                            [&] { return large.seen.received.size() >= data.size(); }, "100 KiB into 1 MiB buffers");
          ctx.check("buffered.get-buffer.any-size-accepted", large.seen.received == data && conn.seen.received == data,
                    fmt::format("7-byte buffers delivered {} bytes, 1 MiB buffers {} bytes, of {}", conn.seen.received.size(),
                                large.seen.received.size(), data.size()));
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.buffered.zero-size-buffer",
    .title = "get_buffer returns an empty buffer: the transport treats it as an error (connection_lost with an "
             "exception), not as an end of stream, and never calls buffer_updated",
    .rules = {"buffered.get-buffer.zero-size-error"},
    .variants = variants::kBuffered,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream({}, StreamOptions{0});
          conn.peer_send("data", 0);
          if (!ctx.expect_within("buffered.get-buffer.zero-size-error", [&] { return conn.seen.lost > 0; },
                                 "connection_lost after an empty buffer")) {
            return;
          }
          // An error, not an end of stream: no eof_received either.
          ctx.check("buffered.get-buffer.zero-size-error",
                    conn.seen.lost_error.has_value() && conn.seen.data_calls == 0 && conn.seen.eof == 0,
                    fmt::format("connection_lost({}) with {} buffer_updated and {} eof_received calls",
                                conn.seen.lost_error ? conn.seen.lost_error->to_string() : "None", conn.seen.data_calls,
                                conn.seen.eof));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
