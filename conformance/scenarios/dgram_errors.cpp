// Datagram errors: they reach error_received and the endpoint stays open.
#include <unistd.h>

#include <fmt/core.h>

#include "dgram_support.hpp"
#include "support.hpp"

namespace loopspec::scenarios {
namespace {

std::string errors_text(const std::vector<Error>& errors) {
  std::string text;
  for (const auto& e : errors) text += (text.empty() ? "" : "; ") + e.to_string();
  return text.empty() ? "none" : text;
}

LOOPSPEC_SCENARIO({
    .id = "dgram.errors.refused",
    .title = "a connected endpoint sends to an address nobody receives on (a closed UDP port on loopback, or a Unix "
             "datagram socket that was closed): ConnectionRefusedError reaches error_received, the endpoint stays "
             "open and sendto() still works",
    .rules = {"datagram.error.reported", "datagram.error.undeliverable-may-drop", "transport.closing.false-while-open"},
    .variants = datagram_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          // Connected to a socket that then goes away: nobody receives there any more.
          auto receiver = std::make_unique<DatagramPeer>(ctx, "closed");
          Address gone = receiver->address();
          auto endpoint = open_endpoint(ctx, DatagramOptions{local_address_for(ctx, "endpoint"), gone, false});
          receiver.reset();
          auto& t = endpoint->transport();
          t.sendto("ping");
          // Linux reports the ICMP port unreachable (or the missing Unix receiver) as ECONNREFUSED on the next operation.
          bool reported = ctx.expect_within(
              "datagram.error.reported", [&] { return !endpoint->seen.errors.empty() || endpoint->seen.lost > 0; },
              "error_received after sending to " + to_string(gone));
          if (reported && endpoint->seen.errors.empty()) {  // no need to wait out the timeout: the endpoint is gone
            ctx.check("datagram.error.reported", false,
                      lost_text(endpoint->seen) + " instead of error_received after sending to " + to_string(gone));
            return;
          }
          ctx.check("datagram.error.undeliverable-may-drop", true,
                    reported ? "the undeliverable datagram was reported to error_received"
                             : "the undeliverable datagram was dropped silently");
          if (!reported) return;
          const Error& error = endpoint->seen.errors.front();
          ctx.check("datagram.error.reported", error.type == "ConnectionRefusedError",
                    "error_received got " + error.to_string() + ", expected ConnectionRefusedError");
          ctx.run_pending();
          ctx.check("datagram.error.reported", !t.is_closing() && endpoint->seen.lost == 0,
                    fmt::format("after error_received: is_closing() {}, connection_lost called {} time(s)", t.is_closing(),
                                endpoint->seen.lost));
          ctx.check("transport.closing.false-while-open", !t.is_closing(), "is_closing() is true after error_received");
          auto raised = capture_error([&] { t.sendto("ping again"); });
          ctx.check("datagram.error.reported", !raised,
                    "sendto() after error_received raised " + (raised ? raised->to_string() : std::string()));
          ctx.run_pending();
          ctx.check("datagram.error.reported", endpoint->seen.lost == 0,
                    "the endpoint was lost after a second send to the refusing address; errors: " +
                        errors_text(endpoint->seen.errors));
        },
});

LOOPSPEC_SCENARIO({
    .id = "dgram.errors.burst-then-marker",
    .title = "a burst of datagrams to a peer that does not read (the kernel may drop them or report ENOBUFS): any "
             "error reaches error_received only, the endpoint stays open, and a datagram sent once the peer reads "
             "again arrives",
    .rules = {"datagram.enobufs.reported-and-ignored", "datagram.error.undeliverable-may-drop"},
    .variants = datagram_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          auto endpoint = open_unconnected_endpoint(ctx);
          auto& t = endpoint->transport();
          DatagramPeer peer(ctx, "peer");
          peer.stop_reading();
          peer.wait_synced(ctx, "the peer to stop reading");
          const std::string datagram = pattern(8192, 401);
          for (int i = 0; i < 64; ++i) t.sendto(datagram, peer.address());
          ctx.run_pending();
          peer.resume_reading();
          peer.wait_synced(ctx, "the peer to read what arrived");
          // Whatever is still queued goes out now; then the marker.
          if (!ctx.expect_within("datagram.enobufs.reported-and-ignored",
                                 [&] { return t.get_write_buffer_size() == 0 || endpoint->seen.lost > 0; },
                                 "the endpoint's queue to drain")) {
            return;
          }
          bool enobufs = false;
          for (const auto& e : endpoint->seen.errors) enobufs = enobufs || e.errnum == ENOBUFS;
          ctx.check("datagram.enobufs.reported-and-ignored", !t.is_closing() && endpoint->seen.lost == 0,
                    fmt::format("after the burst: is_closing() {}, connection_lost({}) called {} time(s); errors: {}",
                                t.is_closing(),
                                endpoint->seen.lost_error ? endpoint->seen.lost_error->to_string() : "None",
                                endpoint->seen.lost, errors_text(endpoint->seen.errors)));
          if (endpoint->seen.lost > 0) return;
          const std::string marker = "marker";
          t.sendto(marker, peer.address());
          if (!ctx.expect_within("datagram.enobufs.reported-and-ignored",
                                 [&] {
                                   auto got = peer.snapshot().received;
                                   return !got.empty() && got.back().data == marker;
                                 },
                                 "the marker datagram sent after the burst")) {
            return;
          }
          std::size_t delivered = peer.snapshot().received.size() - 1;
          ctx.check("datagram.error.undeliverable-may-drop", true,
                    fmt::format("{} of 64 datagrams sent to a peer that did not read arrived; ENOBUFS {}", delivered,
                                enobufs ? "was reported" : "was not reported"));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
