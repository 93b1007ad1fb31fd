// Datagrams both ways: boundaries kept, sender addresses, sendto with and
// without an address.
#include <algorithm>

#include <fmt/core.h>

#include "dgram_support.hpp"
#include "support.hpp"

namespace loopspec::scenarios {
namespace {

// Datagrams of sizes that differ in content, the empty one included.
std::vector<std::string> datagrams_of_sizes(std::initializer_list<std::size_t> sizes, std::uint32_t seed) {
  std::vector<std::string> out;
  for (std::size_t size : sizes) out.push_back(pattern(size, seed++));
  return out;
}

std::string sizes_text(const std::vector<ReceivedDatagram>& datagrams) {
  std::string text;
  for (const auto& d : datagrams) text += (text.empty() ? "" : ", ") + std::to_string(d.data.size());
  return "[" + text + "]";
}

// Every non-empty datagram sent arrived exactly once, whole; nothing else arrived.
bool whole_and_once(const std::vector<std::string>& sent, const std::vector<ReceivedDatagram>& received) {
  for (const auto& d : sent) {
    if (d.empty()) continue;
    auto count = std::count_if(received.begin(), received.end(), [&](const auto& r) { return r.data == d; });
    if (count != 1) return false;
  }
  return std::all_of(received.begin(), received.end(), [&](const auto& r) {
    return std::find(sent.begin(), sent.end(), r.data) != sent.end();
  });
}

LOOPSPEC_SCENARIO({
    .id = "dgram.exchange.unconnected",
    .title = "an unconnected endpoint: a peer's datagrams of 1 B to 60 KB (and an empty one) each arrive by one "
             "datagram_received, whole, with the peer's address; sendto(data, addr) delivers whole datagrams to addr",
    .rules = {"datagram.received.whole-datagram", "datagram.received.empty-datagram",
              "datagram.received.sender-address", "datagram.sendto.to-addr"},
    .variants = datagram_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          auto endpoint = open_unconnected_endpoint(ctx);
          auto& t = endpoint->transport();
          DatagramPeer peer(ctx, "peer");
          Address to_endpoint = sockname_address(t);

          // In: the empty datagram goes before the last one, so whether it was delivered is known once every
          // byte is (a loopback keeps the order).
          auto inbound = datagrams_of_sizes({1, 1000, 8000, 60000, 0, 17}, 101);
          for (const auto& d : inbound) peer.send(d, to_endpoint);
          if (!ctx.expect_within("datagram.received.whole-datagram",
                                 [&] {
                                   std::size_t bytes = 0;
                                   for (const auto& r : endpoint->seen.datagrams) bytes += r.data.size();
                                   return bytes >= 1 + 1000 + 8000 + 60000 + 17;
                                 },
                                 "the peer's datagrams")) {
            return;
          }
          const auto& got = endpoint->seen.datagrams;
          ctx.check("datagram.received.whole-datagram", whole_and_once(inbound, got),
                    fmt::format("sent sizes [1, 1000, 8000, 60000, 0, 17], datagram_received sizes {}", sizes_text(got)));
          bool from_peer = std::all_of(got.begin(), got.end(), [&](const auto& r) { return r.from == peer.address(); });
          ctx.check("datagram.received.sender-address", from_peer,
                    fmt::format("every datagram came from {}; datagram_received said {}", to_string(peer.address()),
                                got.empty() ? std::string("nothing") : to_string(got.front().from)));
          bool empty_delivered = std::any_of(got.begin(), got.end(), [](const auto& r) { return r.data.empty(); });
          ctx.check("datagram.received.empty-datagram", true,
                    empty_delivered ? "an empty datagram was delivered as datagram_received(b'')"
                                    : "an empty datagram was not delivered");

          // Out: sendto(data, addr) to the peer.
          auto outbound = datagrams_of_sizes({1, 1000, 60000, 5}, 201);
          for (const auto& d : outbound) t.sendto(d, peer.address());
          if (!ctx.expect_within("datagram.sendto.to-addr",
                                 [&] { return peer.snapshot().received.size() >= outbound.size(); },
                                 "the peer to receive what sendto() sent")) {
            return;
          }
          auto at_peer = peer.snapshot().received;
          ctx.check("datagram.sendto.to-addr", whole_and_once(outbound, at_peer),
                    fmt::format("sendto sizes [1, 1000, 60000, 5], the peer received sizes {}", sizes_text(at_peer)));
          bool from_endpoint =
              std::all_of(at_peer.begin(), at_peer.end(), [&](const auto& r) { return r.from == to_endpoint; });
          ctx.check("datagram.sendto.to-addr", from_endpoint,
                    "the peer received datagrams from an address other than the endpoint's sockname " +
                        to_string(to_endpoint));
        },
});

LOOPSPEC_SCENARIO({
    .id = "dgram.exchange.connected",
    .title = "an endpoint created with remote_addr: peername is the remote address, sendto(data) without addr "
             "reaches it, its datagrams arrive with its address (sendto with an address is recorded)",
    .rules = {"datagram.sendto.default-remote", "datagram.received.sender-address", "transport.extra-info.socket"},
    .variants = datagram_variants::kAll,
    .body =
        [](ScenarioContext& ctx) {
          DatagramPeer peer(ctx, "peer");
          auto endpoint =
              open_endpoint(ctx, DatagramOptions{local_address_for(ctx, "endpoint"), peer.address(), false});
          auto& t = endpoint->transport();
          auto peername = t.get_extra_info("peername");
          ctx.check("transport.extra-info.socket", peername && *peername == to_json(peer.address()),
                    fmt::format("get_extra_info('peername') = {}, the remote address is {}",
                                peername ? peername->dump() : "None", to_json(peer.address()).dump()));
          const std::string first = pattern(700, 301);
          t.sendto(first);
          if (!ctx.expect_within("datagram.sendto.default-remote", [&] { return !peer.snapshot().received.empty(); },
                                 "the remote peer to receive the datagram")) {
            return;
          }
          auto at_peer = peer.snapshot().received;
          ctx.check("datagram.sendto.default-remote", whole_and_once({first}, at_peer),
                    fmt::format("sendto(data) sent size [700]; the remote got {}", sizes_text(at_peer)));

          const std::string reply = pattern(300, 303);
          peer.send(reply, sockname_address(t));
          if (!ctx.expect_within("datagram.received.sender-address",
                                 [&] { return !endpoint->seen.datagrams.empty(); }, "the remote peer's datagram")) {
            return;
          }
          const auto& got = endpoint->seen.datagrams.front();
          ctx.check("datagram.received.sender-address", got.data == reply && got.from == peer.address(),
                    fmt::format("datagram_received({} bytes, {}) for {} bytes from {}", got.data.size(), to_string(got.from),
                                reply.size(), to_string(peer.address())));

          // Addresses on a connected endpoint are beyond the documents (asyncio accepts the remote address
          // itself): recorded, last, since a loop may end the endpoint over them.
          const std::string second = pattern(900, 302);
          auto same = capture_error([&] { t.sendto(second, peer.address()); });
          ctx.note("sendto(data, remote_addr) on a connected endpoint: " +
                   (same ? "raised " + same->to_string() : std::string("returned")));
          auto other = capture_error([&] { t.sendto("elsewhere", local_address_for(ctx, "elsewhere")); });
          ctx.note("sendto(data, another address) on a connected endpoint: " +
                   (other ? "raised " + other->to_string() : std::string("returned")));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
