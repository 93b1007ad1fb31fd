// The libuv datagram endpoint (uv_udp_t): whole datagrams with their sender,
// errors that keep the endpoint open, and closing.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "uv_test_support.hpp"

namespace loopspec::libuv {
namespace {

using testing::LoopRunner;

class RecordingDatagramProtocol : public DatagramProtocol {
 public:
  std::shared_ptr<DatagramTransport> transport;
  std::vector<std::pair<std::string, Address>> datagrams;
  std::vector<Error> errors;
  int lost = 0;
  MaybeError lost_error;

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<DatagramTransport>(t);
  }
  void datagram_received(std::string_view data, const Address& addr) override {
    datagrams.emplace_back(std::string(data), addr);
  }
  void error_received(const Error& exc) override { errors.push_back(exc); }
  void connection_lost(const MaybeError& exc) override {
    ++lost;
    lost_error = exc;
    transport.reset();
  }
};

// One endpoint of the fixture's loop.
struct Endpoint {
  std::shared_ptr<RecordingDatagramProtocol> protocol = std::make_shared<RecordingDatagramProtocol>();
  DatagramTransport& transport() { return *protocol->transport; }
  Address sockname() {
    auto name = *transport().get_extra_info("sockname");
    if (name.is_string()) return UnixAddress{name.get<std::string>()};
    return InetAddress{name[0].get<std::string>(), name[1].get<std::uint16_t>()};
  }
};

class UvDatagram : public ::testing::Test {
 protected:
  // An endpoint for options, once create_datagram_endpoint completed.
  Endpoint open(std::optional<Address> local, std::optional<Address> remote) {
    Endpoint endpoint;
    std::optional<Outcome<DatagramTransport>> outcome;
    loop.create_datagram_endpoint([p = endpoint.protocol] { return p; }, DatagramOptions{local, remote},
                                  [&](Outcome<DatagramTransport> o) { outcome = o; });
    EXPECT_TRUE(runner.run_until([&] { return outcome.has_value(); }));
    if (outcome && !outcome->ok()) ADD_FAILURE() << outcome->error->to_string();
    return endpoint;
  }
  // A server bound to loopback and a client connected to it.
  void open_pair() {
    server = open(InetAddress{"127.0.0.1", 0}, std::nullopt);
    client = open(std::nullopt, server.sockname());
  }

  UvLoop loop;
  LoopRunner runner{loop};
  Endpoint server, client;
};

TEST_F(UvDatagram, WholeDatagramsWithTheirSenderIncludingEmptyOnes) {
  // Rule: datagram.received.whole-datagram
  open_pair();
  client.transport().sendto("first");
  client.transport().sendto("");
  client.transport().sendto(std::string(60000, 'x'));
  ASSERT_TRUE(runner.run_until([&] { return server.protocol->datagrams.size() == 3; }));
  EXPECT_EQ(server.protocol->datagrams[0].first, "first");
  EXPECT_EQ(server.protocol->datagrams[1].first, "");
  EXPECT_EQ(server.protocol->datagrams[2].first.size(), 60000u);
  EXPECT_EQ(server.protocol->datagrams[0].second, client.sockname());
  server.transport().sendto("reply", client.sockname());
  ASSERT_TRUE(runner.run_until([&] { return client.protocol->datagrams.size() == 1; }));
  EXPECT_EQ(client.protocol->datagrams[0].second, server.sockname());
}

TEST_F(UvDatagram, WrongOrMissingAddressIsAValueError) {
  // Rule: datagram.sendto.default-remote
  open_pair();
  EXPECT_THROW(client.transport().sendto("x", InetAddress{"127.0.0.1", 9}), ContractError);
  EXPECT_THROW(server.transport().sendto("x"), ContractError);
}

TEST_F(UvDatagram, RefusedSendGoesToErrorReceivedAndTheEndpointStaysOpen) {
  // Rule: datagram.error.reported
  open_pair();
  server.transport().close();
  ASSERT_TRUE(runner.run_until([&] { return server.protocol->lost == 1; }));
  // The ICMP port unreachable of one send comes back as ECONNREFUSED on a later receive or send.
  ASSERT_TRUE(runner.run_until([&] {
    if (client.protocol->errors.empty()) client.transport().sendto("anyone?");
    return !client.protocol->errors.empty();
  }));
  EXPECT_EQ(client.protocol->errors.front().type, "ConnectionRefusedError");
  EXPECT_EQ(client.protocol->lost, 0);
  EXPECT_FALSE(client.transport().is_closing());
}

TEST_F(UvDatagram, UnixDatagramsAndClose) {
  // Rule: proto.connection-lost.none-on-close
  auto dir = std::filesystem::temp_directory_path() / ("loopspec-uv-dgram-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  UnixAddress server_path{(dir / "server").string()}, client_path{(dir / "client").string()};
  server = open(server_path, std::nullopt);
  client = open(client_path, server_path);
  client.transport().sendto("over unix");
  ASSERT_TRUE(runner.run_until([&] { return server.protocol->datagrams.size() == 1; }));
  EXPECT_EQ(server.protocol->datagrams[0], (std::pair<std::string, Address>{"over unix", client_path}));
  client.transport().close();
  EXPECT_TRUE(client.transport().is_closing());
  ASSERT_TRUE(runner.run_until([&] { return client.protocol->lost == 1; }));
  EXPECT_FALSE(client.protocol->lost_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace loopspec::libuv
