// Datagram endpoints: what create_datagram_endpoint makes, the transport's
// BaseTransport side, and protocols that implement only some callbacks.
#include <fmt/core.h>

#include "dgram_support.hpp"
#include "support.hpp"

namespace loopspec::scenarios {
namespace {

std::string json_text(const std::optional<nlohmann::json>& value) { return value ? value->dump() : "None"; }

LOOPSPEC_SCENARIO({
    .id = "dgram.setup.endpoint",
    .title = "create_datagram_endpoint(local_addr): completes after connection_made with the DatagramTransport "
             "connection_made got; sockname/socket/peername; a second endpoint has its own transport and protocol; "
             "close() ends with connection_lost(None)",
    .rules = {"transport.hierarchy.datagram", "loop.setup.returns-transport-and-protocol",
              "loop.setup.loop-creates-transport", "loop.pairing.one-to-one", "proto.made.transport-argument",
              "proto.callbacks.from-own-transport", "transport.closing.false-while-open",
              "transport.closing.after-close", "transport.closing.after-lost", "transport.extra-info.socket",
              "transport.extra-info.peername-none-on-error", "transport.extra-info.default",
              "proto.connection-lost.none-on-close", "proto.order.lost-exactly-once"},
    .variants = datagram_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          Address bound = local_address_for(ctx, "endpoint");
          auto endpoint = open_endpoint(ctx, DatagramOptions{bound, std::nullopt, false});
          auto& t = endpoint->transport();
          ctx.check("transport.hierarchy.datagram",
                    endpoint->completed != nullptr && std::dynamic_pointer_cast<Transport>(endpoint->completed) == nullptr,
                    "create_datagram_endpoint completed with a DatagramTransport (not a stream Transport)");
          ctx.check("loop.setup.returns-transport-and-protocol", endpoint->made_before_done,
                    "create_datagram_endpoint completed before connection_made was called");
          ctx.check("loop.setup.returns-transport-and-protocol",
                    endpoint->completed->get_protocol() == endpoint->recorded,
                    "the completed transport's get_protocol() is not the protocol the factory made");
          ctx.check("proto.made.transport-argument", t.get_protocol() == endpoint->protocol,
                    "connection_made's transport does not lead back to its protocol");
          ctx.check("loop.setup.loop-creates-transport", endpoint->seen.made == 1,
                    fmt::format("connection_made called {} times", endpoint->seen.made));
          ctx.check("transport.closing.false-while-open", !t.is_closing(), "is_closing() is true on a new endpoint");

          auto sockname = t.get_extra_info("sockname");
          auto socket = t.get_extra_info("socket");
          bool sockname_ok = sockname && !sockname->is_null();
          if (sockname_ok && unix_variant(ctx)) sockname_ok = *sockname == to_json(bound);
          if (sockname_ok && !unix_variant(ctx)) {
            sockname_ok = sockname->is_array() && sockname->size() >= 2 && (*sockname)[0] == std::get<InetAddress>(bound).host &&
                          (*sockname)[1] != 0;
          }
          ctx.check("transport.extra-info.socket", sockname_ok,
                    fmt::format("get_extra_info('sockname') = {} for an endpoint bound to {}", json_text(sockname),
                                to_string(bound)));
          ctx.check("transport.extra-info.socket", socket && !socket->is_null(),
                    "get_extra_info('socket') = " + json_text(socket));
          MaybeError raised;
          std::optional<nlohmann::json> peername;
          raised = capture_error([&] { peername = t.get_extra_info("peername"); });
          ctx.check("transport.extra-info.peername-none-on-error", !raised && (!peername || peername->is_null()),
                    raised ? "get_extra_info('peername') raised " + raised->to_string()
                           : "get_extra_info('peername') on an unconnected endpoint = " + json_text(peername));
          auto unknown = t.get_extra_info("no-such-key");
          ctx.check("transport.extra-info.default", !unknown || unknown->is_null(),
                    "get_extra_info('no-such-key') = " + json_text(unknown));

          // A second endpoint: its own transport and protocol; each gets only its own datagrams.
          auto other = open_endpoint(ctx, DatagramOptions{local_address_for(ctx, "other"), std::nullopt, false});
          ctx.check("loop.pairing.one-to-one", &other->transport() != &t && other->completed != endpoint->completed,
                    "two endpoints share one transport");
          DatagramPeer peer(ctx, "peer");
          peer.send("to-first", sockname_address(t));
          peer.send("to-second", sockname_address(other->transport()));
          if (ctx.expect_within("proto.callbacks.from-own-transport",
                                [&] { return !endpoint->seen.datagrams.empty() && !other->seen.datagrams.empty(); },
                                "a datagram on each endpoint")) {
            ctx.check("proto.callbacks.from-own-transport",
                      endpoint->seen.datagrams.size() == 1 && endpoint->seen.datagrams[0].data == "to-first" &&
                          other->seen.datagrams.size() == 1 && other->seen.datagrams[0].data == "to-second",
                      "each endpoint's protocol got exactly the datagram sent to its own address");
          }

          t.close();
          ctx.check("transport.closing.after-close", t.is_closing(), "is_closing() is false right after close()");
          if (!ctx.expect_within("proto.order.lost-exactly-once", [&] { return endpoint->seen.lost > 0; },
                                 "connection_lost after close()")) {
            return;
          }
          ctx.run_pending();
          check_lost_once_with_none(ctx, endpoint->seen, " after close()");
          ctx.check("transport.closing.after-lost", t.is_closing(), "is_closing() is false after connection_lost");
        },
});

LOOPSPEC_SCENARIO({
    .id = "dgram.api.switch-protocol",
    .title = "get_protocol returns the endpoint's protocol; after set_protocol, datagrams go to the new protocol only",
    .rules = {"transport.protocol.get-set"},
    .variants = datagram_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          auto endpoint = open_unconnected_endpoint(ctx);
          auto& t = endpoint->transport();
          ctx.check("transport.protocol.get-set", t.get_protocol() == endpoint->protocol,
                    "get_protocol() does not return the protocol the endpoint was created with");
          DatagramPeer peer(ctx, "peer");
          Address to = sockname_address(t);
          peer.send("first", to);
          ctx.wait([&] { return !endpoint->seen.datagrams.empty(); }, "the first datagram");

          DatagramObservations next_seen;
          DatagramHooks next_hooks;
          auto next = std::make_shared<ObservingDatagramProtocol>(next_seen, next_hooks);
          t.set_protocol(next);
          ctx.check("transport.protocol.get-set", t.get_protocol() == next,
                    "get_protocol() does not return the protocol given to set_protocol()");
          peer.send("second", to);
          if (!ctx.expect_within("transport.protocol.get-set", [&] { return !next_seen.datagrams.empty(); },
                                 "a datagram for the new protocol")) {
            return;
          }
          ctx.check("transport.protocol.get-set",
                    endpoint->seen.datagrams.size() == 1 && next_seen.datagrams.size() == 1 &&
                        next_seen.datagrams[0].data == "second",
                    fmt::format("old protocol got {} datagram(s), new protocol got {}", endpoint->seen.datagrams.size(),
                                next_seen.datagrams.size()));
        },
});

class OnlyDatagramsProtocol : public DatagramProtocol {
 public:
  explicit OnlyDatagramsProtocol(std::vector<std::string>& received) : received_(received) {}
  void datagram_received(std::string_view data, const Address&) override { received_.emplace_back(data); }

 private:
  std::vector<std::string>& received_;
};

LOOPSPEC_SCENARIO({
    .id = "dgram.setup.partial-protocol",
    .title = "a DatagramProtocol that implements only datagram_received works; its default callbacks do nothing",
    .rules = {"proto.defaults.empty"},
    .variants = datagram_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          std::vector<std::string> received;
          auto protocol = ctx.recorder().record_datagram(std::make_shared<OnlyDatagramsProtocol>(received));
          std::shared_ptr<DatagramTransport> transport;
          MaybeError failure;
          bool completed = false;
          ctx.loop().create_datagram_endpoint(
              [protocol] { return protocol; }, DatagramOptions{local_address_for(ctx, "partial"), std::nullopt, false},
              [&](Outcome<DatagramTransport> outcome) {
                completed = true;
                transport = outcome.value;
                failure = outcome.error;
              });
          ctx.wait([&] { return completed; }, "create_datagram_endpoint to complete");
          if (!transport) throw ScenarioAbort("create_datagram_endpoint failed: " + (failure ? failure->to_string() : "?"));
          DatagramPeer peer(ctx, "peer");
          Address to = sockname_address(*transport);
          peer.send("hello", to);
          ctx.expect_within("proto.defaults.empty", [&] { return !received.empty(); }, "datagram_received");
          transport->close();
          ctx.expect_within("proto.defaults.empty", [&] { return transport->is_closing(); }, "the endpoint to close");
          ctx.run_pending();
          ctx.check("proto.defaults.empty", received == std::vector<std::string>{"hello"},
                    fmt::format("the partial protocol received {} datagram(s)", received.size()));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
