// The rest of the stream transport API: extra info, protocol switching,
// writelines, and connection setup failures.
#include <fmt/core.h>

#include "support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "stream.api.extra-info",
    .title = "get_extra_info: peername, sockname and socket are present on a socket transport; an unknown key gives "
             "the default",
    .rules = {"transport.extra-info.socket", "transport.extra-info.default"},
    .variants = variants::kStreamAndServer,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          for (const char* key : {"peername", "sockname", "socket"}) {
            auto value = t.get_extra_info(key);
            ctx.check("transport.extra-info.socket", value.has_value() && !value->is_null(),
                      fmt::format("get_extra_info('{}') = {}", key, value ? value->dump() : "None"));
          }
          auto peername = t.get_extra_info("peername");
          bool inet = ctx.variant().rfind("tcp", 0) == 0 || ctx.tls_variant();
          if (peername && inet) {
            ctx.check("transport.extra-info.socket",
                      peername->is_array() && peername->size() >= 2 && (*peername)[0] == "127.0.0.1",
                      "peername of a TCP connection to 127.0.0.1 is " + peername->dump());
          }
          auto unknown = t.get_extra_info("no-such-key");
          ctx.check("transport.extra-info.default", !unknown.has_value() || unknown->is_null(),
                    "get_extra_info('no-such-key') = " + (unknown ? unknown->dump() : "None"));
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.api.switch-protocol",
    .title = "get_protocol returns the protocol; after set_protocol, data goes to the new protocol only",
    .rules = {"transport.protocol.get-set"},
    .variants = variants::kReceive,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          ctx.check("transport.protocol.get-set", t.get_protocol() == conn.protocol,
                    "get_protocol() does not return the protocol the transport was created with");
          conn.peer_send("first", 0);
          ctx.wait([&] { return conn.seen.received.size() >= 5; }, "the first bytes");

          auto& other = ctx.open_stream();  // a second connection, only to own a second set of observations
          auto next = ctx.make_observing_protocol(other);
          t.set_protocol(next);
          ctx.check("transport.protocol.get-set", t.get_protocol() == next,
                    "get_protocol() does not return the protocol given to set_protocol()");
          conn.peer_send("second", 0);
          if (!ctx.expect_within("transport.protocol.get-set", [&] { return other.seen.received.size() >= 6; },
                                 "data for the new protocol")) {
            return;
          }
          ctx.check("transport.protocol.get-set", conn.seen.received == "first" && other.seen.received == "second",
                    fmt::format("old protocol got '{}', new protocol got '{}'", conn.seen.received, other.seen.received));
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.api.writelines",
    .title = "writelines([a, b, c]) sends a+b+c, both on an idle transport and behind buffered data",
    .rules = {"write.writelines.equivalent", "write.data.in-order"},
    .variants = variants::kStream,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          Digest written;
          std::uint64_t total = 0;
          const std::string a = pattern(3, 81), b = pattern(70000, 82), c = pattern(5, 83);
          std::vector<std::string_view> parts{a, b, c};
          t.writelines(parts);
          for (const auto& p : parts) written.update(p), total += p.size();
          if (!ctx.expect_within("write.writelines.equivalent",
                                 [&] { return conn.peer().snapshot().bytes_received >= total; },
                                 "the peer to receive what writelines() sent")) {
            return;
          }
          check_peer_received(ctx, conn, total, written, "write.writelines.equivalent");

          total += fill_until_buffered(ctx, conn, written);
          t.writelines(parts);
          for (const auto& p : parts) written.update(p), total += p.size();
          if (!drain_to_peer(ctx, conn, total, "write.writelines.equivalent")) return;
          check_peer_received(ctx, conn, total, written, "write.writelines.equivalent");
          check_peer_received(ctx, conn, total, written, "write.data.in-order");
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.setup.refused",
    .title = "create_connection to an address nobody listens on fails with an error and calls no protocol callback",
    .rules = {"proto.setup.no-lost-without-made", "loop.connect.refused-raises"},
    .variants = variants::kStream,
    .body =
        [](ScenarioContext& ctx) {
          Address address = InetAddress{"127.0.0.1", 0};
          if (ctx.variant() == "unix") {
            address = UnixAddress{"/nonexistent-loopspec-dir/socket"};
          } else {
            PeerListener probe(InetAddress{"127.0.0.1", 0});
            address = probe.address();  // closed again when probe goes: nobody listens there
          }
          StreamObservations seen;
          StreamHooks hooks;
          auto protocol = ctx.recorder().record_stream(std::make_shared<ObservingProtocol>(seen, hooks));
          bool completed = false;
          Outcome<Transport> result;
          ctx.loop().create_connection([protocol] { return protocol; }, address, ctx.connect_options(),
                                       [&](Outcome<Transport> outcome) {
                                         completed = true;
                                         result = std::move(outcome);
                                       });
          if (!ctx.expect_within("proto.setup.no-lost-without-made", [&] { return completed; },
                                 "create_connection to fail")) {
            return;
          }
          ctx.run_pending();
          ctx.check("loop.connect.refused-raises", !result.ok() && result.error.has_value(),
                    "create_connection to " + to_string(address) + " completed with " +
                        (result.error ? result.error->to_string() : std::string("a transport")));
          ctx.check("proto.setup.no-lost-without-made", !result.ok() && result.error.has_value(),
                    "create_connection to " + to_string(address) + " completed with " +
                        (result.error ? result.error->to_string() : std::string("a transport")));
          ctx.check("proto.setup.no-lost-without-made", seen.made == 0 && seen.lost == 0,
                    fmt::format("a failed connection called connection_made {} and connection_lost {} time(s)",
                                seen.made, seen.lost));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
