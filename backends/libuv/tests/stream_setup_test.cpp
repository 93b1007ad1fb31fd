// Setting streams up on the libuv loop: create_server/create_connection over
// TCP and Unix sockets, their errors, TLS through the kit, and descriptor
// hygiene.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <optional>

#include <gtest/gtest.h>

#include "loopspec/tls_material.hpp"
#include "uv_test_support.hpp"

namespace loopspec::libuv {
namespace {

using testing::LoopRunner;
using testing::RecordingProtocol;

// A server of the loop and one client of it on the same loop.
struct Pair {
  UvLoop loop;
  LoopRunner runner{loop};
  std::shared_ptr<RecordingProtocol> client = std::make_shared<RecordingProtocol>();
  std::shared_ptr<RecordingProtocol> server = std::make_shared<RecordingProtocol>();
  std::shared_ptr<Server> listener;
  std::optional<Outcome<Transport>> connected;

  void start(const Address& where, ServerOptions server_options = {}, ConnectOptions client_options = {}) {
    std::optional<Outcome<Server>> served;
    loop.create_server([this] { return server; }, where, server_options, [&](Outcome<Server> o) {
      served = o;
    });
    ASSERT_TRUE(runner.run_until([&] { return served.has_value(); }));
    ASSERT_TRUE(served->ok()) << served->error->to_string();
    listener = served->value;
    loop.create_connection([this] { return client; }, listener->addresses().front(), client_options,
                           [this](Outcome<Transport> o) { connected = o; });
  }
};

TEST(UvSetup, TcpServerAndClientExchange) {
  // Rule: loop.setup.returns-transport-and-protocol
  Pair pair;
  pair.start(InetAddress{"127.0.0.1", 0});
  ASSERT_TRUE(pair.runner.run_until([&] { return pair.connected && pair.server->transport; }));
  ASSERT_TRUE(pair.connected->ok());
  EXPECT_EQ(pair.connected->value, pair.client->transport);
  auto port = std::get<InetAddress>(pair.listener->addresses().front()).port;
  EXPECT_NE(port, 0);
  EXPECT_EQ(pair.client->transport->get_extra_info("peername"), nlohmann::json::array({"127.0.0.1", port}));
  pair.client->transport->write("ping");
  ASSERT_TRUE(pair.runner.run_until([&] { return pair.server->received == "ping"; }));
  pair.server->transport->write("pong");
  ASSERT_TRUE(pair.runner.run_until([&] { return pair.client->received == "pong"; }));
  pair.client->transport->close();
  ASSERT_TRUE(pair.runner.run_until([&] { return pair.client->lost() && pair.server->lost(); }));
  EXPECT_EQ(pair.server->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
  EXPECT_TRUE(pair.listener->is_serving());
  pair.listener->close();
  EXPECT_FALSE(pair.listener->is_serving());
}

TEST(UvSetup, UnixServerRemovesItsSocketFileOnClose) {
  // Rule: loop.setup.loop-creates-transport
  auto dir = std::filesystem::temp_directory_path() / ("loopspec-uv-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "server.sock").string();
  {
    Pair pair;
    pair.start(UnixAddress{path});
    ASSERT_TRUE(pair.runner.run_until([&] { return pair.connected && pair.server->transport; }));
    ASSERT_TRUE(pair.connected->ok());
    EXPECT_EQ(pair.server->transport->get_extra_info("sockname"), nlohmann::json(path));
    pair.listener->close();
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  std::filesystem::remove_all(dir);
}

TEST(UvSetup, UnixServerListensOnAnAbstractName) {
  // Rule: loop.setup.loop-creates-transport
  // Machinery: the server binds its own socket, so the name's leading NUL and length are kept
  // (uv_pipe_bind of libuv 1.44 stops at the NUL).
  std::string name = std::string(1, '\0') + "loopspec-uv-abstract-" + std::to_string(::getpid());
  UvLoop loop;
  LoopRunner runner(loop);
  auto accepted = std::make_shared<RecordingProtocol>();
  std::optional<Outcome<Server>> served;
  loop.create_server([&] { return accepted; }, UnixAddress{name}, {}, [&](Outcome<Server> o) { served = o; });
  ASSERT_TRUE(runner.run_until([&] { return served.has_value(); }));
  ASSERT_TRUE(served->ok()) << served->error->to_string();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, name.data(), name.size());
  int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&address),
                      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())),
            0)
      << std::strerror(errno);
  ASSERT_EQ(::write(client, "ping", 4), 4);
  EXPECT_TRUE(runner.run_until([&] { return accepted->received == "ping"; }));
  ::close(client);
  served->value->close();
}

TEST(UvSetup, RefusedConnectionCompletesWithTheErrorAndNoProtocol) {
  // Rule: loop.connect.refused-raises
  UvLoop loop;
  LoopRunner runner(loop);
  int port = 0;
  {
    // A port nobody listens on: bound, then closed.
    std::optional<Outcome<Server>> served;
    loop.create_server([] { return nullptr; }, InetAddress{"127.0.0.1", 0}, {}, [&](Outcome<Server> o) { served = o; });
    runner.run_iterations(1);
    ASSERT_TRUE(served && served->ok());
    port = std::get<InetAddress>(served->value->addresses().front()).port;
    served->value->close();
  }
  int factory_calls = 0;
  std::optional<Outcome<Transport>> outcome;
  loop.create_connection([&]() -> std::shared_ptr<StreamProtocol> {
    ++factory_calls;
    return std::make_shared<RecordingProtocol>();
  }, InetAddress{"127.0.0.1", static_cast<std::uint16_t>(port)}, {}, [&](Outcome<Transport> o) { outcome = o; });
  EXPECT_FALSE(outcome) << "done must not run inside create_connection";
  ASSERT_TRUE(runner.run_until([&] { return outcome.has_value(); }));
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error->type, "ConnectionRefusedError");
  EXPECT_EQ(factory_calls, 0);
}

TEST(UvSetup, BindingAPortInUseIsAnOSErrorNamingTheAddress) {
  // Machinery: the server's own bind fails with EADDRINUSE; it comes as asyncio's bind error.
  UvLoop loop;
  LoopRunner runner(loop);
  std::optional<Outcome<Server>> first, second;
  loop.create_server([] { return nullptr; }, InetAddress{"127.0.0.1", 0}, {}, [&](Outcome<Server> o) { first = o; });
  runner.run_iterations(1);
  ASSERT_TRUE(first && first->ok());
  loop.create_server([] { return nullptr; }, first->value->addresses().front(), {}, [&](Outcome<Server> o) { second = o; });
  runner.run_iterations(1);
  ASSERT_TRUE(second && !second->ok());
  EXPECT_EQ(second->error->errnum, EADDRINUSE);
  EXPECT_NE(second->error->message.find("error while attempting to bind on address"), std::string::npos);
}

TEST(UvSetup, UnknownHostIsAGaierror) {
  // Machinery: names go to uv_getaddrinfo; an unresolvable one fails like socket.gaierror.
  UvLoop loop;
  LoopRunner runner(loop);
  std::optional<Outcome<Transport>> outcome;
  loop.create_connection([] { return nullptr; }, InetAddress{"no-such-host.invalid", 80}, {}, [&](Outcome<Transport> o) { outcome = o; });
  ASSERT_TRUE(runner.run_until([&] { return outcome.has_value(); }, 30));
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error->type, "gaierror");
}

TEST(UvSetup, TlsConnectionExchangesPlaintext) {
  // Rule: loop.tls.encrypted-stream
  static const TlsMaterial material = TlsMaterial::locate();
  auto server_config = std::make_shared<TlsConfig>();
  server_config->cert_file = material.server_cert();
  server_config->key_file = material.server_key();
  server_config->verify_peer = false;
  ServerOptions server_options;
  server_options.ssl = server_config;
  auto client_config = std::make_shared<TlsConfig>();
  client_config->ca_file = material.ca();
  ConnectOptions client_options;
  client_options.ssl = client_config;
  client_options.server_hostname = "localhost";

  Pair pair;
  pair.start(InetAddress{"127.0.0.1", 0}, server_options, client_options);
  ASSERT_TRUE(pair.runner.run_until([&] { return pair.connected && pair.server->transport; }));
  ASSERT_TRUE(pair.connected->ok()) << pair.connected->error->to_string();
  EXPECT_TRUE(pair.client->transport->get_extra_info("cipher"));
  pair.client->transport->write("secret");
  ASSERT_TRUE(pair.runner.run_until([&] { return pair.server->received == "secret"; }));
  pair.client->transport->close();
  ASSERT_TRUE(pair.runner.run_until([&] { return pair.client->lost() && pair.server->lost(); }));
  EXPECT_FALSE(pair.client->lost_error);
}

TEST(UvSetup, NoDescriptorOutlivesConnectionsOrTheLoop) {
  // Machinery: connect, exchange, close; then a loop dropped with live connections and a
  // serving server: every descriptor is closed and every protocol let go of.
  int before = testing::open_fd_count();
  std::weak_ptr<RecordingProtocol> client_left_open;
  {
    Pair pair;
    pair.start(InetAddress{"127.0.0.1", 0});
    ASSERT_TRUE(pair.runner.run_until([&] { return pair.connected && pair.server->transport; }));
    pair.client->transport->write("bye");
    pair.client->transport->close();
    ASSERT_TRUE(pair.runner.run_until([&] { return pair.client->lost() && pair.server->lost(); }));

    pair.client = std::make_shared<RecordingProtocol>();
    pair.server = std::make_shared<RecordingProtocol>();
    pair.connected.reset();
    pair.loop.create_connection([&] { return pair.client; }, pair.listener->addresses().front(), {},
                                [&](Outcome<Transport> o) { pair.connected = o; });
    ASSERT_TRUE(pair.runner.run_until([&] { return pair.connected && pair.server->transport; }));
    pair.client->transport->write(std::string(1 << 20, 'x'));  // left queued and in flight
    client_left_open = pair.client;
    pair.client.reset();
    pair.server.reset();
    pair.listener.reset();
    pair.connected.reset();
  }
  EXPECT_TRUE(client_left_open.expired()) << "a protocol <-> transport cycle survived the loop";
  EXPECT_EQ(testing::open_fd_count(), before);
}

}  // namespace
}  // namespace loopspec::libuv
