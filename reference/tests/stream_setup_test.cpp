// Setting connections up and tearing them down: create_connection,
// create_server, connect_accepted_socket, extra info, socket options, and
// that no descriptor leaks.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <filesystem>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "loop_test_support.hpp"
#include "loopspec/reference/socket_address.hpp"
#include "loopspec/reference/stream_transport.hpp"

namespace loopspec::reference {
namespace {

using testing::count_open_fds;
using testing::RawEnd;
using testing::RecordingProtocol;
using testing::Rig;

// A port nothing listens on: bound, then released.
std::uint16_t unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), length);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// A raw blocking client connected to address (loopback connects complete without the server's accept).
int raw_connect(const Address& address) {
  if (const auto* inet = std::get_if<InetAddress>(&address)) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(inet->port);
    ::inet_pton(AF_INET, inet->host.c_str(), &sa.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  const auto& path = std::get<UnixAddress>(address).path;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string temp_socket_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("loopspec-ref-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

// Runs create_connection to address and returns its outcome; counts factory calls.
struct ConnectAttempt {
  std::optional<Outcome<Transport>> outcome;
  int factory_calls = 0;
  std::shared_ptr<RecordingProtocol> protocol;
};

ConnectAttempt connect_to(Rig& rig, const Address& address, ConnectOptions options = {}) {
  ConnectAttempt attempt;
  attempt.protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  rig.loop.create_connection(
      [&] {
        ++attempt.factory_calls;
        return attempt.protocol;
      },
      address, std::move(options),
      [&](Outcome<Transport> o) {
        attempt.outcome = std::move(o);
        rig.runner.notify();
      });
  EXPECT_FALSE(attempt.outcome.has_value()) << "done ran inside create_connection";
  EXPECT_TRUE(rig.run_until([&] { return attempt.outcome.has_value(); }));
  return attempt;
}

std::shared_ptr<Server> serve(Rig& rig, const Address& address, const StreamProtocolFactory& factory) {
  std::optional<Outcome<Server>> outcome;
  rig.loop.create_server(factory, address, {}, [&](Outcome<Server> o) {
    outcome = std::move(o);
    rig.runner.notify();
  });
  EXPECT_TRUE(rig.run_until([&] { return outcome.has_value(); }));
  if (!outcome->ok()) throw std::runtime_error("create_server failed: " + outcome->error->to_string());
  return outcome->value;
}

// ---- create_connection ----

TEST(CreateConnection, TcpConnectsWithNodelayAndExtraInfo) {
  // Rule: transport.extra-info.socket
  // Rule: transport.extra-info.default
  // Rule: proto.order.made-first
  Rig rig;
  auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  auto transport = rig.connect_tcp(protocol);
  EXPECT_EQ(protocol->events.front(), "made");
  auto socket = transport->get_extra_info("socket");
  ASSERT_TRUE(socket.has_value());
  EXPECT_EQ((*socket)["family"], "AF_INET");
  EXPECT_EQ((*socket)["type"], "SOCK_STREAM");
  int fd = (*socket)["fd"];
  int nodelay = 0;
  socklen_t length = sizeof nodelay;
  ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &length), 0);
  EXPECT_NE(nodelay, 0);
  // The raw end's address is the transport's peer, and the other way round.
  auto raw_local = local_address(rig.raw->fd());
  auto raw_peer = peer_address(rig.raw->fd());
  ASSERT_TRUE(raw_local && raw_peer);
  EXPECT_EQ(transport->get_extra_info("peername"), to_json(*raw_local));
  EXPECT_EQ(transport->get_extra_info("sockname"), to_json(*raw_peer));
  EXPECT_FALSE(transport->get_extra_info("no-such-key").has_value());
}

TEST(CreateConnection, TransportFdsAreCloseOnExecAndNonBlocking) {
  // Machinery: every descriptor the loop opens is close-on-exec and non-blocking.
  Rig rig;
  auto before = testing::open_fds();
  auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  auto transport = rig.connect_tcp(protocol);
  int fd = (*transport->get_extra_info("socket"))["fd"];
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
  auto server = serve(rig, InetAddress{"127.0.0.1", 0}, [&] { return std::make_shared<RecordingProtocol>(); });
  int listen_fd = -1;
  for (int candidate : testing::open_fds()) {
    if (before.count(candidate) == 0 && candidate != fd && candidate != rig.raw->fd()) listen_fd = candidate;
  }
  ASSERT_GE(listen_fd, 0);
  EXPECT_TRUE(::fcntl(listen_fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(listen_fd, F_GETFL) & O_NONBLOCK);
}

TEST(CreateConnection, LocalhostConnects) {
  // Rule: proto.order.made-first
  Rig rig;
  auto server_protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  auto server = serve(rig, InetAddress{"localhost", 0}, [&] { return server_protocol; });
  auto port = std::get<InetAddress>(server->addresses().at(0)).port;
  auto attempt = connect_to(rig, InetAddress{"localhost", port});
  ASSERT_TRUE(attempt.outcome->ok());
  EXPECT_EQ(attempt.protocol->made_count, 1);
  attempt.outcome->value->write("ping");
  ASSERT_TRUE(rig.run_until([&] { return server_protocol->received == "ping"; }));
}

TEST(CreateConnection, Ipv6LoopbackConnects) {
  // Rule: transport.extra-info.socket
  Rig rig;
  std::optional<Outcome<Server>> outcome;
  auto server_protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  rig.loop.create_server([&] { return server_protocol; }, InetAddress{"::1", 0}, {},
                         [&](Outcome<Server> o) {
                           outcome = std::move(o);
                           rig.runner.notify();
                         });
  ASSERT_TRUE(rig.run_until([&] { return outcome.has_value(); }));
  if (!outcome->ok()) GTEST_SKIP() << "no IPv6 loopback here: " << outcome->error->to_string();
  auto port = std::get<InetAddress>(outcome->value->addresses().at(0)).port;
  auto attempt = connect_to(rig, InetAddress{"::1", port});
  ASSERT_TRUE(attempt.outcome->ok());
  auto transport = attempt.outcome->value;
  EXPECT_EQ((*transport->get_extra_info("socket"))["family"], "AF_INET6");
  EXPECT_EQ(transport->get_extra_info("peername"), to_json(Address{InetAddress{"::1", port}}));
}

TEST(CreateConnection, RefusedConnectCallsNoProtocolCallback) {
  // Rule: proto.setup.no-lost-without-made
  // Rule: loop.connect.refused-raises
  Rig rig;
  int before = count_open_fds();
  auto attempt = connect_to(rig, InetAddress{"127.0.0.1", unused_port()});
  ASSERT_FALSE(attempt.outcome->ok());
  EXPECT_EQ(attempt.outcome->error->type, "ConnectionRefusedError");
  EXPECT_EQ(attempt.outcome->error->errnum, ECONNREFUSED);
  EXPECT_EQ(attempt.factory_calls, 0);
  rig.runner.run_iterations(2);
  EXPECT_TRUE(attempt.protocol->events.empty());
  EXPECT_EQ(count_open_fds(), before);
}

TEST(CreateConnection, LocalhostTriesEveryAddressBeforeFailing) {
  // Rule: proto.setup.no-lost-without-made
  Rig rig;
  auto attempt = connect_to(rig, InetAddress{"localhost", unused_port()});
  ASSERT_FALSE(attempt.outcome->ok());
  // 127.0.0.1 refuses; ::1 refuses too or is unavailable: either way an OSError class.
  EXPECT_FALSE(attempt.outcome->error->type.empty());
  EXPECT_EQ(attempt.factory_calls, 0);
}

TEST(CreateConnection, MissingUnixPathFailsWithFileNotFoundError) {
  // Rule: proto.setup.no-lost-without-made
  Rig rig;
  auto attempt = connect_to(rig, UnixAddress{temp_socket_path("missing")});
  ASSERT_FALSE(attempt.outcome->ok());
  EXPECT_EQ(attempt.outcome->error->type, "FileNotFoundError");
  EXPECT_EQ(attempt.factory_calls, 0);
}

TEST(CreateConnection, UnknownHostFailsWithGaierror) {
  // Rule: proto.setup.no-lost-without-made
  Rig rig;
  auto attempt = connect_to(rig, InetAddress{"no.such.host.invalid", 80});
  ASSERT_FALSE(attempt.outcome->ok());
  EXPECT_EQ(attempt.outcome->error->type, "gaierror");
  EXPECT_EQ(attempt.factory_calls, 0);
}

TEST(CreateConnection, ThrowingFactoryFailsTheConnectionWithoutLeaking) {
  // Rule: proto.setup.no-lost-without-made
  Rig rig;
  auto server = serve(rig, InetAddress{"127.0.0.1", 0}, [&] { return std::make_shared<RecordingProtocol>(); });
  int before = count_open_fds();
  std::optional<Outcome<Transport>> outcome;
  rig.loop.create_connection([]() -> std::shared_ptr<StreamProtocol> { throw std::runtime_error("no protocol"); },
                             server->addresses().at(0), {},
                             [&](Outcome<Transport> o) {
                               outcome = std::move(o);
                               rig.runner.notify();
                             });
  ASSERT_TRUE(rig.run_until([&] { return outcome.has_value(); }));
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error, (Error{"RuntimeError", 0, "no protocol"}));
  EXPECT_LE(count_open_fds(), before + 1);  // at most the server's accepted side
}

// ---- create_server ----

TEST(CreateServer, TcpServesUntilClosedAndAcceptedConnectionsOutliveIt) {
  // Rule: transport.extra-info.socket
  // Rule: proto.order.made-first
  Rig rig;
  std::vector<std::shared_ptr<RecordingProtocol>> accepted;
  auto server = serve(rig, InetAddress{"127.0.0.1", 0}, [&] {
    accepted.push_back(std::make_shared<RecordingProtocol>(&rig.runner));
    return accepted.back();
  });
  EXPECT_TRUE(server->is_serving());
  ASSERT_EQ(server->addresses().size(), 1u);
  auto address = server->addresses()[0];
  EXPECT_NE(std::get<InetAddress>(address).port, 0);
  int client = raw_connect(address);
  ASSERT_GE(client, 0);
  rig.raw = RawEnd::adopt(rig.loop, rig.runner, client);
  ASSERT_TRUE(rig.run_until([&] { return accepted.size() == 1 && accepted[0]->made_count == 1; }));
  auto transport = accepted[0]->transport;
  EXPECT_EQ(transport->get_extra_info("sockname"), to_json(address));
  EXPECT_EQ(transport->get_extra_info("peername"), to_json(*local_address(client)));

  server->close();
  EXPECT_FALSE(server->is_serving());
  server->close();  // idempotent
  EXPECT_EQ(raw_connect(address), -1);
  transport->write("still here");
  ASSERT_TRUE(rig.run_until([&] { return rig.raw->received == "still here"; }));
}

TEST(CreateServer, UnixServerReplacesAStaleSocketAndRemovesItsOwnOnClose) {
  // Rule: transport.extra-info.socket
  Rig rig;
  std::string path = temp_socket_path("server");
  {
    // A stale socket file, as a crashed server leaves it.
    int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), path.size());
    ASSERT_EQ(::bind(stale, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ::close(stale);
  }
  std::shared_ptr<RecordingProtocol> accepted;
  auto server = serve(rig, UnixAddress{path}, [&] {
    accepted = std::make_shared<RecordingProtocol>(&rig.runner);
    return accepted;
  });
  EXPECT_EQ(server->addresses().at(0), Address{UnixAddress{path}});
  auto attempt = connect_to(rig, UnixAddress{path});
  ASSERT_TRUE(attempt.outcome->ok());
  auto client = attempt.outcome->value;
  EXPECT_EQ(client->get_extra_info("peername"), nlohmann::json(path));
  EXPECT_EQ((*client->get_extra_info("socket"))["family"], "AF_UNIX");
  ASSERT_TRUE(rig.run_until([&] { return accepted && accepted->made_count == 1; }));
  EXPECT_EQ(accepted->transport->get_extra_info("sockname"), nlohmann::json(path));
  client->write("over unix");
  ASSERT_TRUE(rig.run_until([&] { return accepted->received == "over unix"; }));
  server->close();
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

TEST(CreateServer, AbstractUnixNamespaceWorks) {
  // Rule: transport.extra-info.socket
  Rig rig;
  std::string name = std::string(1, '\0') + "loopspec-ref-abstract-" + std::to_string(::getpid());
  std::shared_ptr<RecordingProtocol> accepted;
  auto server = serve(rig, UnixAddress{name}, [&] {
    accepted = std::make_shared<RecordingProtocol>(&rig.runner);
    return accepted;
  });
  EXPECT_EQ(server->addresses().at(0), Address{UnixAddress{name}});
  auto attempt = connect_to(rig, UnixAddress{name});
  ASSERT_TRUE(attempt.outcome->ok());
  EXPECT_EQ(attempt.outcome->value->get_extra_info("peername"), nlohmann::json(name));
  attempt.outcome->value->write("abstract");
  ASSERT_TRUE(rig.run_until([&] { return accepted && accepted->received == "abstract"; }));
}

TEST(CreateServer, AddressInUseFailsWithTheCanonicalError) {
  // Machinery: bind failures arrive through done as canonical errors.
  Rig rig;
  auto first = serve(rig, InetAddress{"127.0.0.1", 0}, [] { return std::make_shared<RecordingProtocol>(); });
  std::optional<Outcome<Server>> outcome;
  rig.loop.create_server([] { return std::make_shared<RecordingProtocol>(); }, first->addresses().at(0), {},
                         [&](Outcome<Server> o) {
                           outcome = std::move(o);
                           rig.runner.notify();
                         });
  ASSERT_TRUE(rig.run_until([&] { return outcome.has_value(); }));
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error->type, "OSError");
  EXPECT_EQ(outcome->error->errnum, EADDRINUSE);
}

// ---- connect_accepted_socket ----

TEST(ConnectAcceptedSocket, RejectsADatagramSocketAndClosesIt) {
  // Machinery: asyncio's "A Stream Socket was expected" check; the fd is the loop's from the call on.
  Rig rig;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::optional<Outcome<Transport>> outcome;
  rig.loop.connect_accepted_socket([] { return std::make_shared<RecordingProtocol>(); }, fd, {},
                                   [&](Outcome<Transport> o) {
                                     outcome = std::move(o);
                                     rig.runner.notify();
                                   });
  ASSERT_TRUE(rig.run_until([&] { return outcome.has_value(); }));
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error->type, "ValueError");
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
}

TEST(ConnectAcceptedSocket, MakesABlockingSocketNonBlocking) {
  // Machinery: adopted fds become non-blocking and close-on-exec.
  Rig rig;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  rig.raw = RawEnd::adopt(rig.loop, rig.runner, fds[1]);
  auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  std::optional<Outcome<Transport>> outcome;
  rig.loop.connect_accepted_socket([&] { return protocol; }, fds[0], {},
                                   [&](Outcome<Transport> o) {
                                     outcome = std::move(o);
                                     rig.runner.notify();
                                   });
  ASSERT_TRUE(rig.run_until([&] { return outcome.has_value(); }));
  ASSERT_TRUE(outcome->ok());
  EXPECT_TRUE(::fcntl(fds[0], F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
  auto socket = outcome->value->get_extra_info("socket");
  EXPECT_EQ((*socket)["fd"], fds[0]);
  EXPECT_EQ((*socket)["family"], "AF_UNIX");
  EXPECT_EQ(outcome->value->get_extra_info("peername"), nlohmann::json(""));
}

// ---- descriptors ----

TEST(StreamLifecycle, ConnectExchangeAndCloseLeaksNoDescriptor) {
  // Rule: proto.order.lost-exactly-once
  Rig rig;
  int before = count_open_fds();
  {
    std::shared_ptr<RecordingProtocol> server_side;
    auto server = serve(rig, InetAddress{"127.0.0.1", 0}, [&] {
      server_side = std::make_shared<RecordingProtocol>(&rig.runner);
      return server_side;
    });
    auto attempt = connect_to(rig, server->addresses().at(0));
    ASSERT_TRUE(attempt.outcome->ok());
    auto client = attempt.outcome->value;
    ASSERT_TRUE(rig.run_until([&] { return server_side && server_side->made_count == 1; }));
    client->write("hello");
    ASSERT_TRUE(rig.run_until([&] { return server_side->received == "hello"; }));
    client->close();
    ASSERT_TRUE(rig.run_until([&] { return attempt.protocol->lost_count == 1 && server_side->lost_count == 1; }));
    server->close();
  }
  EXPECT_EQ(count_open_fds(), before);
}

}  // namespace
}  // namespace loopspec::reference
