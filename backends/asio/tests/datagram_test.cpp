// Datagram endpoints over UDP and Unix datagram sockets. Each test names the
// rule it checks.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "asio_test_support.hpp"

namespace loopspec::asio {
namespace {

using testing::wait_for;

class LogDatagrams : public DatagramProtocol {
 public:
  std::shared_ptr<DatagramTransport> transport;
  std::vector<std::pair<std::string, Address>> received;
  std::vector<Error> errors;
  int lost = 0;
  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<DatagramTransport>(t);
  }
  void datagram_received(std::string_view data, const Address& from) override { received.emplace_back(data, from); }
  void error_received(const Error& exc) override { errors.push_back(exc); }
  void connection_lost(const MaybeError&) override {
    ++lost;
    transport.reset();
  }
};

std::shared_ptr<LogDatagrams> open(AsioLoop& loop, DatagramOptions options) {
  auto protocol = std::make_shared<LogDatagrams>();
  MaybeError error;
  bool done = false;
  loop.create_datagram_endpoint([protocol] { return protocol; }, std::move(options), [&](Outcome<DatagramTransport> o) {
    error = o.error;
    done = true;
  });
  EXPECT_TRUE(wait_for(loop, [&] { return done; }));
  EXPECT_FALSE(error) << error->to_string();
  return protocol;
}

Address name_of(const std::shared_ptr<LogDatagrams>& endpoint) {
  auto json = endpoint->transport->get_extra_info("sockname").value();
  if (json.is_string()) return UnixAddress{json.get<std::string>()};
  return InetAddress{json[0].get<std::string>(), json[1].get<std::uint16_t>()};
}

TEST(AsioDatagram, UdpDatagramsArriveWholeWithTheirSenderEvenEmptyOnes) {
  // Rule: datagram.received.whole-datagram
  AsioLoop loop;
  auto a = open(loop, {InetAddress{"127.0.0.1", 0}, std::nullopt});
  auto b = open(loop, {InetAddress{"127.0.0.1", 0}, std::nullopt});
  a->transport->sendto("first", name_of(b));
  a->transport->sendto("", name_of(b));  // datagram.received.empty-datagram
  a->transport->sendto(std::string(60000, 'z'), name_of(b));
  ASSERT_TRUE(wait_for(loop, [&] { return b->received.size() == 3; }));
  EXPECT_EQ(b->received[0].first, "first");
  EXPECT_EQ(b->received[1].first, "");
  EXPECT_EQ(b->received[2].first, std::string(60000, 'z'));
  EXPECT_EQ(b->received[0].second, name_of(a));  // datagram.received.sender-address
}

TEST(AsioDatagram, AConnectedEndpointSendsToItsRemoteAndRefusesAnother) {
  // Rule: datagram.sendto.default-remote
  AsioLoop loop;
  auto b = open(loop, {InetAddress{"127.0.0.1", 0}, std::nullopt});
  auto a = open(loop, {std::nullopt, name_of(b)});
  a->transport->sendto("to the remote");
  ASSERT_TRUE(wait_for(loop, [&] { return b->received.size() == 1; }));
  EXPECT_EQ(b->received[0].first, "to the remote");
  EXPECT_THROW(a->transport->sendto("x", InetAddress{"127.0.0.1", 9}), ContractError);
}

TEST(AsioDatagram, AnIcmpRefusalGoesToErrorReceivedAndTheEndpointStaysOpen) {
  // Rule: datagram.error.reported
  AsioLoop loop;
  auto gone = open(loop, {InetAddress{"127.0.0.1", 0}, std::nullopt});
  Address nobody = name_of(gone);
  gone->transport->abort();
  ASSERT_TRUE(wait_for(loop, [&] { return gone->lost == 1; }));
  auto a = open(loop, {std::nullopt, nobody});
  a->transport->sendto("anyone?");
  ASSERT_TRUE(wait_for(loop, [&] { return !a->errors.empty(); }));
  EXPECT_EQ(a->errors.front().type, "ConnectionRefusedError");
  EXPECT_FALSE(a->transport->is_closing());
  EXPECT_EQ(a->lost, 0);
}

TEST(AsioDatagram, UnixDatagramsCarryTheirSenderPath) {
  // Rule: datagram.received.sender-address
  AsioLoop loop;
  std::string base = ::testing::TempDir() + "asio-dgram-" + std::to_string(::getpid());
  auto b = open(loop, {UnixAddress{base + "-b"}, std::nullopt});
  auto a = open(loop, {UnixAddress{base + "-a"}, std::nullopt});
  a->transport->sendto("hello", UnixAddress{base + "-b"});
  ASSERT_TRUE(wait_for(loop, [&] { return b->received.size() == 1; }));
  EXPECT_EQ(b->received[0].first, "hello");
  EXPECT_EQ(b->received[0].second, Address(UnixAddress{base + "-a"}));
  ::unlink((base + "-a").c_str());
  ::unlink((base + "-b").c_str());
}

TEST(AsioDatagram, CloseSendsTheQueueOnceABlockedUnixPeerReadsThenLosesOnce) {
  // Rule: transport.close.flushes-buffer
  // (A Unix datagram socket whose receiver's queue is full says EAGAIN; the
  // queue waits for the receiver to take datagrams.)
  AsioLoop loop;
  std::string base = ::testing::TempDir() + "asio-dgram-full-" + std::to_string(::getpid());
  int reader = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un name{};
  name.sun_family = AF_UNIX;
  std::snprintf(name.sun_path, sizeof name.sun_path, "%s", (base + "-reader").c_str());
  ::unlink(name.sun_path);
  ASSERT_EQ(::bind(reader, reinterpret_cast<sockaddr*>(&name), sizeof name), 0);
  auto a = open(loop, {UnixAddress{base + "-a"}, std::nullopt});
  auto held = a->transport;
  std::vector<std::string> sent;
  for (int i = 0; held->get_write_buffer_size() < 5000; ++i) {
    ASSERT_LT(i, 10000);
    sent.push_back(std::string(1000, static_cast<char>('a' + i % 26)));
    held->sendto(sent.back(), UnixAddress{base + "-reader"});
  }
  held->close();
  EXPECT_TRUE(held->is_closing());
  std::vector<std::string> got;
  ASSERT_TRUE(wait_for(loop, [&] {
    char buffer[2000];
    ssize_t n;
    while ((n = ::recv(reader, buffer, sizeof buffer, 0)) >= 0) got.emplace_back(buffer, static_cast<std::size_t>(n));
    return a->lost == 1;
  }));
  char buffer[2000];
  ssize_t n;
  while ((n = ::recv(reader, buffer, sizeof buffer, 0)) >= 0) got.emplace_back(buffer, static_cast<std::size_t>(n));
  EXPECT_EQ(got, sent);
  ::close(reader);
  ::unlink(name.sun_path);
  ::unlink((base + "-a").c_str());
}

TEST(AsioDatagram, AbortDropsWhatIsPendingAndLosesOnce) {
  // Rule: datagram.abort.connection-lost
  AsioLoop loop;
  auto a = open(loop, {InetAddress{"127.0.0.1", 0}, std::nullopt});
  auto held = a->transport;
  held->abort();
  held->abort();
  held->sendto("dropped", InetAddress{"127.0.0.1", 9});  // datagram.abort.no-more-data: silently
  EXPECT_EQ(held->get_write_buffer_size(), 0u);
  ASSERT_TRUE(wait_for(loop, [&] { return a->lost == 1; }));
  EXPECT_EQ(a->lost, 1);
}

}  // namespace
}  // namespace loopspec::asio
