// Setting streams up: create_server and create_connection over TCP (numeric
// and named hosts) and Unix sockets, and the errors asyncio gives when that
// fails. Each test names the rule it checks.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "asio_test_support.hpp"

namespace loopspec::asio {
namespace {

using testing::LogProtocol;
using testing::wait_for;

struct Served {
  std::shared_ptr<Server> server;
  std::vector<std::shared_ptr<LogProtocol>> accepted;
};

// A server on `address` whose connections log into `served`; fails the test when it cannot start.
void serve(AsioLoop& loop, const Address& address, Served& served) {
  MaybeError error;
  bool done = false;
  loop.create_server([&served] { return served.accepted.emplace_back(std::make_shared<LogProtocol>()); }, address, {},
                     [&](Outcome<Server> outcome) {
                       served.server = outcome.value;
                       error = outcome.error;
                       done = true;
                     });
  ASSERT_TRUE(wait_for(loop, [&] { return done; }));
  ASSERT_FALSE(error) << error->to_string();
}

// A connection to `address`: the outcome, once create_connection completed.
Outcome<Transport> connect(AsioLoop& loop, const Address& address, std::shared_ptr<LogProtocol> protocol) {
  std::optional<Outcome<Transport>> result;
  loop.create_connection([protocol] { return protocol; }, address, {}, [&](Outcome<Transport> o) { result = o; });
  EXPECT_TRUE(wait_for(loop, [&] { return result.has_value(); }));
  return result.value_or(Outcome<Transport>{});
}

void echo_round_trip(AsioLoop& loop, const Address& address) {
  Served served;
  serve(loop, address, served);
  ASSERT_EQ(served.server->addresses().size(), 1u);
  auto client = std::make_shared<LogProtocol>();
  auto outcome = connect(loop, served.server->addresses().front(), client);
  ASSERT_TRUE(outcome.ok()) << outcome.error->to_string();
  EXPECT_EQ(client->log, (std::vector<std::string>{"made"}));  // done follows connection_made
  ASSERT_TRUE(wait_for(loop, [&] { return served.accepted.size() == 1 && served.accepted[0]->transport; }));
  outcome.value->write("ping");
  ASSERT_TRUE(wait_for(loop, [&] { return served.accepted[0]->bytes == "ping"; }));
  served.accepted[0]->transport->write("pong");
  ASSERT_TRUE(wait_for(loop, [&] { return client->bytes == "pong"; }));
  served.server->close();
  EXPECT_FALSE(served.server->is_serving());
  outcome.value->close();
  ASSERT_TRUE(wait_for(loop, [&] { return client->lost() && served.accepted[0]->lost(); }));
}

TEST(AsioStreamSetup, TcpServerAndConnectionTalk) {
  // Rule: loop.setup.returns-transport-and-protocol
  AsioLoop loop;
  echo_round_trip(loop, InetAddress{"127.0.0.1", 0});
}

TEST(AsioStreamSetup, ANamedHostIsResolved) {
  // Rule: loop.setup.loop-creates-transport
  AsioLoop loop;
  Served served;
  serve(loop, InetAddress{"127.0.0.1", 0}, served);
  auto port = std::get<InetAddress>(served.server->addresses().front()).port;
  auto client = std::make_shared<LogProtocol>();
  auto outcome = connect(loop, InetAddress{"localhost", port}, client);
  // localhost may resolve to ::1 first, where nothing listens: the next address is tried.
  ASSERT_TRUE(outcome.ok()) << outcome.error->to_string();
  auto peername = outcome.value->get_extra_info("peername");
  ASSERT_TRUE(peername);
  EXPECT_EQ((*peername)[1], port);
  outcome.value->abort();
}

TEST(AsioStreamSetup, UnixServerAndConnectionTalkAndTheSocketFileGoesWithTheServer) {
  // Rule: loop.setup.returns-transport-and-protocol
  AsioLoop loop;
  std::string path = ::testing::TempDir() + "asio-unix-" + std::to_string(::getpid());
  echo_round_trip(loop, UnixAddress{path});
  struct stat st {};
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

TEST(AsioStreamSetup, ARefusedConnectionIsConnectionRefusedErrorAndNoCallback) {
  // Rule: loop.connect.refused-raises
  AsioLoop loop;
  Served served;
  serve(loop, InetAddress{"127.0.0.1", 0}, served);
  Address closed_port = served.server->addresses().front();
  served.server->close();
  auto client = std::make_shared<LogProtocol>();
  auto outcome = connect(loop, closed_port, client);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error->type, "ConnectionRefusedError");
  EXPECT_TRUE(client->log.empty());  // proto.setup.no-lost-without-made
}

TEST(AsioStreamSetup, BindingABusyAddressIsAsyncioBindError) {
  // Rule: loop.setup.loop-creates-transport
  AsioLoop loop;
  Served first;
  serve(loop, InetAddress{"127.0.0.1", 0}, first);
  std::optional<Outcome<Server>> second;
  loop.create_server([] { return std::make_shared<LogProtocol>(); }, first.server->addresses().front(), {},
                     [&](Outcome<Server> o) { second = o; });
  ASSERT_TRUE(wait_for(loop, [&] { return second.has_value(); }));
  ASSERT_FALSE(second->ok());
  EXPECT_EQ(second->error->type, "OSError");
  EXPECT_EQ(second->error->errnum, EADDRINUSE);
  EXPECT_NE(second->error->message.find("error while attempting to bind on address"), std::string::npos);
}

TEST(AsioStreamSetup, AnUnknownHostIsAGaierror) {
  // Rule: loop.setup.loop-creates-transport
  AsioLoop loop;
  auto outcome = connect(loop, InetAddress{"no-such-host.invalid", 80}, std::make_shared<LogProtocol>());
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error->type, "gaierror");
}

TEST(AsioStreamSetup, AUnixPathTooLongIsOSErrorWithoutASocket) {
  // Rule: loop.setup.loop-creates-transport
  AsioLoop loop;
  auto outcome = connect(loop, UnixAddress{std::string(200, 'x')}, std::make_shared<LogProtocol>());
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error->type, "OSError");
}

TEST(AsioStreamSetup, ConnectAcceptedSocketRefusesADatagramSocket) {
  // Rule: loop.setup.loop-creates-transport
  AsioLoop loop;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::optional<Outcome<Transport>> result;
  loop.connect_accepted_socket([] { return std::make_shared<LogProtocol>(); }, fd, {}, [&](Outcome<Transport> o) { result = o; });
  EXPECT_FALSE(result.has_value());  // never inside the call
  ASSERT_TRUE(wait_for(loop, [&] { return result.has_value(); }));
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error->type, "ValueError");
}

TEST(AsioStreamSetup, AFactoryThatThrowsFailsTheConnectionWithItsError) {
  // Rule: loop.factory.protocol-per-connection
  AsioLoop loop;
  Served served;
  serve(loop, InetAddress{"127.0.0.1", 0}, served);
  std::optional<Outcome<Transport>> result;
  loop.create_connection([]() -> std::shared_ptr<StreamProtocol> { throw ContractError(Error{"ValueError", 0, "no"}); },
                         served.server->addresses().front(), {}, [&](Outcome<Transport> o) { result = o; });
  ASSERT_TRUE(wait_for(loop, [&] { return result.has_value(); }));
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error->type, "ValueError");
}

}  // namespace
}  // namespace loopspec::asio
