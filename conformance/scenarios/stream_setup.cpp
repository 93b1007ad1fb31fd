// Connection setup: who creates what, factories, pairing, and protocols that
// implement only some callbacks.
#include <fmt/core.h>

#include <sys/poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support.hpp"

namespace loopspec::scenarios {
namespace {

LOOPSPEC_SCENARIO({
    .id = "stream.setup.server-connections",
    .title = "a server accepts two connections: the factory runs once per connection, each protocol gets its own "
             "bidirectional transport, and each peer's bytes reach only its own protocol",
    .rules = {"loop.factory.protocol-per-connection", "loop.pairing.one-to-one", "loop.setup.loop-creates-transport",
              "proto.made.transport-argument", "transport.hierarchy.stream-bidirectional",
              "proto.callbacks.from-own-transport"},
    .variants = {"tcp", "unix"},
    .body =
        [](ScenarioContext& ctx) {
          Address address = InetAddress{"127.0.0.1", 0};
          if (ctx.variant() == "unix") address = UnixAddress{(ctx.temp_dir() / "server").string()};
          struct Side {
            StreamObservations seen;
            StreamHooks hooks;
          };
          std::vector<std::unique_ptr<Side>> sides;
          int factory_calls = 0;
          auto factory = [&]() -> std::shared_ptr<StreamProtocol> {
            ++factory_calls;
            sides.push_back(std::make_unique<Side>());
            return ctx.recorder().record_stream(std::make_shared<ObservingProtocol>(sides.back()->seen, sides.back()->hooks));
          };
          std::shared_ptr<Server> server;
          MaybeError failure;
          bool completed = false;
          ctx.loop().create_server(factory, address, ServerOptions{}, [&](Outcome<Server> outcome) {
            completed = true;
            server = outcome.value;
            failure = outcome.error;
          });
          ctx.wait([&] { return completed; }, "create_server to complete");
          if (!server) throw ScenarioAbort("create_server failed: " + (failure ? failure->to_string() : "no server"));
          auto bound = server->addresses();
          if (bound.empty()) throw ScenarioAbort("the server reports no address");
          ctx.check("loop.setup.loop-creates-transport", factory_calls == 0,
                    fmt::format("the factory ran {} time(s) before any client connected", factory_calls));
          auto first = Peer::connect(bound.front(), ctx.wait_timeout());
          auto second = Peer::connect(bound.front(), ctx.wait_timeout());
          ctx.watch(*first);
          ctx.watch(*second);
          if (!ctx.expect_within("loop.factory.protocol-per-connection",
                                 [&] { return sides.size() >= 2 && sides[0]->seen.made && sides[1]->seen.made; },
                                 "connection_made on two accepted connections")) {
            return;
          }
          ctx.check("loop.factory.protocol-per-connection", factory_calls == 2,
                    fmt::format("two connections, {} factory calls", factory_calls));
          auto& a = sides[0]->seen;
          auto& b = sides[1]->seen;
          ctx.check("transport.hierarchy.stream-bidirectional", a.transport != nullptr && b.transport != nullptr,
                    "connection_made got a transport that is not a bidirectional Transport");
          if (!a.transport || !b.transport) return;
          ctx.check("loop.pairing.one-to-one", a.transport != b.transport, "two connections share one transport");
          ctx.check("proto.made.transport-argument",
                    a.transport->get_protocol() != nullptr && a.transport->get_protocol() != b.transport->get_protocol(),
                    "each transport's get_protocol() names its own protocol");
          ctx.check("loop.setup.loop-creates-transport", a.made == 1 && b.made == 1,
                    fmt::format("connection_made called {} and {} times", a.made, b.made));
          // Which protocol got which connection is the loop's business; tell them apart by content.
          first->send(std::string(1000, 'a'));
          second->send(std::string(2000, 'b'));
          if (!ctx.expect_within("proto.callbacks.from-own-transport",
                                 [&] { return a.received.size() + b.received.size() >= 3000; },
                                 "both peers' bytes")) {
            return;
          }
          auto uniform = [](const std::string& s) { return !s.empty() && s.find_first_not_of(s[0]) == std::string::npos; };
          ctx.check("proto.callbacks.from-own-transport", uniform(a.received) && uniform(b.received) && a.received[0] != b.received[0],
                    fmt::format("protocol 1 got {} bytes, protocol 2 got {} bytes, mixed: {}", a.received.size(),
                                b.received.size(), !(uniform(a.received) && uniform(b.received))));
          a.transport->write("to-first-protocol");
          ctx.check("loop.pairing.one-to-one", true, "each accepted connection has exactly one protocol and transport");
          server->close();
          ctx.check("loop.setup.loop-creates-transport", !server->is_serving(), "is_serving() after Server.close()");
          first.reset();
          second.reset();
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.setup.returns-transport",
    .title = "create_connection completes with the transport that connection_made received",
    .rules = {"loop.setup.returns-transport-and-protocol", "proto.made.transport-argument"},
    .variants = {"tcp", "unix"},
    .body =
        [](ScenarioContext& ctx) {
          Address address = InetAddress{"127.0.0.1", 0};
          if (ctx.variant() == "unix") address = UnixAddress{(ctx.temp_dir() / "listener").string()};
          PeerListener listener(address);
          StreamObservations seen;
          StreamHooks hooks;
          auto inner = std::make_shared<ObservingProtocol>(seen, hooks);
          auto protocol = ctx.recorder().record_stream(inner);
          std::shared_ptr<Transport> returned;
          bool made_before_done = false;
          ctx.loop().create_connection([protocol] { return protocol; }, listener.address(), ConnectOptions{},
                                       [&](Outcome<Transport> outcome) {
                                         returned = outcome.value;
                                         made_before_done = seen.made == 1;
                                       });
          ctx.wait([&] { return returned != nullptr; }, "create_connection to complete");
          auto peer = listener.accept(ctx.wait_timeout());
          ctx.check("loop.setup.returns-transport-and-protocol", made_before_done,
                    "create_connection completed before connection_made was called");
          ctx.check("loop.setup.returns-transport-and-protocol", returned->get_protocol() == protocol,
                    "the returned transport's get_protocol() is not the protocol the factory made");
          ctx.check("proto.made.transport-argument", seen.transport != nullptr && seen.transport->get_protocol() == inner,
                    "connection_made's transport does not lead back to its protocol");
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.setup.partial-protocol",
    .title = "a protocol that implements only data_received works; its default eof_received lets the transport "
             "close when the peer shuts down",
    .rules = {"proto.defaults.empty", "proto.eof.default-returns-none"},
    .variants = {"tcp", "unix"},
    .body =
        [](ScenarioContext& ctx) {
          Address address = InetAddress{"127.0.0.1", 0};
          if (ctx.variant() == "unix") address = UnixAddress{(ctx.temp_dir() / "partial").string()};
          PeerListener listener(address);
          std::string received;
          auto protocol = ctx.recorder().record_stream(std::make_shared<OnlyDataProtocol>(received));
          std::shared_ptr<Transport> transport;
          ctx.loop().create_connection([protocol] { return protocol; }, listener.address(), ConnectOptions{},
                                       [&](Outcome<Transport> outcome) { transport = outcome.value; });
          ctx.wait([&] { return transport != nullptr; }, "create_connection to complete");
          auto peer = listener.accept(ctx.wait_timeout());
          if (!peer) throw ScenarioAbort("the peer did not see the connection");
          ctx.watch(*peer);
          peer->send("hello");
          peer->shutdown_write();
          ctx.expect_within("proto.defaults.empty", [&] { return received == "hello"; }, "data_received");
          ctx.expect_within("proto.eof.default-returns-none", [&] { return peer->snapshot().eof_received; },
                            "the transport to close after the default eof_received");
          ctx.check("proto.eof.default-returns-none", transport->is_closing(),
                    "after the default eof_received the transport is not closing");
          ctx.check("proto.defaults.empty", received == "hello", "the partial protocol received '" + received + "'");
        },
});

LOOPSPEC_SCENARIO({
    .id = "stream.setup.peername-after-reset",
    .title = "a socket adopted with connect_accepted_socket after its peer reset it: get_extra_info('peername') is "
             "None, not an exception",
    .rules = {"transport.extra-info.peername-none-on-error"},
    .variants = {"tcp"},
    .body =
        [](ScenarioContext& ctx) {
          PeerListener listener(InetAddress{"127.0.0.1", 0});
          auto client = Peer::connect(listener.address(), ctx.wait_timeout());
          int fd = ::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC);
          if (fd < 0) throw ScenarioAbort("accept failed");
          client->reset();
          pollfd p{fd, POLLIN, 0};
          int timeout_ms = static_cast<int>(ctx.wait_timeout().count() * 1000);
          if (::poll(&p, 1, timeout_ms) <= 0) throw ScenarioAbort("the reset did not arrive");
          StreamObservations seen;
          StreamHooks hooks;
          auto protocol = ctx.recorder().record_stream(std::make_shared<ObservingProtocol>(seen, hooks));
          bool completed = false;
          ctx.loop().connect_accepted_socket([protocol] { return protocol; }, fd, ServerOptions{},
                                             [&](Outcome<Transport>) { completed = true; });
          ctx.wait([&] { return completed && seen.transport != nullptr; }, "connection_made on the adopted socket");
          MaybeError raised;
          std::optional<nlohmann::json> peername;
          raised = capture_error([&] { peername = seen.transport->get_extra_info("peername"); });
          ctx.check("transport.extra-info.peername-none-on-error", !raised && (!peername || peername->is_null()),
                    raised ? "get_extra_info('peername') raised " + raised->to_string()
                           : "get_extra_info('peername') = " + (peername ? peername->dump() : std::string("None")));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
