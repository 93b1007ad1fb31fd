// The reference loop's datagram endpoints (datagram_transport.hpp): sending
// and receiving over UDP (IPv4, IPv6) and Unix datagram sockets, the send
// queue and its flow control, errors, closing, and the options of
// create_datagram_endpoint.
#include "loopspec/reference/datagram_transport.hpp"

#include <arpa/inet.h>
#include <sys/un.h>

#include <filesystem>

#include "loop_test_support.hpp"

namespace loopspec::reference::testing {
namespace {

class RecordingDatagramProtocol : public DatagramProtocol, public EventLog {
 public:
  using EventLog::EventLog;
  std::shared_ptr<DatagramSocketTransport> transport;
  std::vector<std::pair<std::string, Address>> datagrams;
  std::vector<Error> errors;
  std::vector<std::size_t> sizes_at_pause, sizes_at_resume;
  MaybeError lost_error;
  int lost = 0;

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<DatagramSocketTransport>(t);
    note("made");
  }
  void datagram_received(std::string_view data, const Address& addr) override {
    datagrams.emplace_back(std::string(data), addr);
    note("datagram");
  }
  void error_received(const Error& exc) override {
    errors.push_back(exc);
    note("error");
  }
  void pause_writing() override {
    sizes_at_pause.push_back(transport->get_write_buffer_size());
    note("pause");
  }
  void resume_writing() override {
    sizes_at_resume.push_back(transport->get_write_buffer_size());
    note("resume");
  }
  void connection_lost(const MaybeError& exc) override {
    ++lost;
    lost_error = exc;
    note("lost");
  }
};

// A plain datagram socket watched by the loop under test; it reads only while reading is on.
class RawDatagram final : public WatchedFd {
 public:
  using WatchedFd::WatchedFd;

  std::vector<std::pair<std::string, std::string>> received;  // data, sender (as text)

  static std::shared_ptr<RawDatagram> bind(EpollLoop& loop, LoopRunner& runner, const SocketAddress& address) {
    int fd = ::socket(address.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket");
    auto raw = std::make_shared<RawDatagram>(loop, runner, fd);
    if (::bind(fd, address.get(), address.length) < 0) throw std::runtime_error("bind");
    return watch(raw);
  }

  Address address() const { return *local_address(fd_); }
  void send_to(std::string_view data, const Address& to) {
    SocketAddress target = connect_candidates(to).front();
    ASSERT_EQ(::sendto(fd_, data.data(), data.size(), 0, target.get(), target.length), static_cast<ssize_t>(data.size()));
  }

  void on_readable() override {
    char buffer[70000];
    sockaddr_storage from{};
    socklen_t length = sizeof from;
    ssize_t n = ::recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (n >= 0) received.emplace_back(std::string(buffer, static_cast<std::size_t>(n)), to_string(to_address(reinterpret_cast<sockaddr*>(&from), length)));
    runner_.notify();
  }
};

struct DatagramRig : LoopRig {
  using LoopRig::LoopRig;

  Outcome<DatagramTransport> open(std::shared_ptr<DatagramProtocol> protocol, DatagramOptions options) {
    return await_outcome<DatagramTransport>(
        runner,
        [&](Completion<DatagramTransport> done) {
          loop.create_datagram_endpoint([protocol] { return protocol; }, std::move(options), std::move(done));
        },
        "create_datagram_endpoint");
  }
};

Address sockname_of(DatagramTransport& transport) {
  auto name = transport.get_extra_info("sockname");
  if (!name) throw std::runtime_error("no sockname");
  if (name->is_string()) return UnixAddress{name->get<std::string>()};
  return InetAddress{(*name)[0].get<std::string>(), (*name)[1].get<std::uint16_t>()};
}

std::filesystem::path temp_socket_dir() {
  char dir[] = "/tmp/loopspec-dgram-XXXXXX";
  if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp");
  return dir;
}

class DatagramFamilies : public ::testing::TestWithParam<std::string> {
 protected:
  // An address of the parameter's family to bind to.
  Address local(const std::string& name) {
    if (GetParam() == "unix") {
      if (dir_.empty()) dir_ = temp_socket_dir();
      return UnixAddress{(dir_ / name).string()};
    }
    return InetAddress{GetParam() == "ipv6" ? "::1" : "127.0.0.1", 0};
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

// Rule: datagram.received.whole-datagram
// Rule: datagram.received.sender-address
// Rule: datagram.sendto.to-addr
TEST_P(DatagramFamilies, DatagramsBothWaysKeepBoundariesAndAddresses) {
  DatagramRig rig;
  auto protocol = std::make_shared<RecordingDatagramProtocol>(rig.runner);
  auto outcome = rig.open(protocol, DatagramOptions{local("endpoint"), std::nullopt, false});
  ASSERT_TRUE(outcome.ok()) << outcome.error->to_string();
  auto raw = RawDatagram::bind(rig.loop, rig.runner, bind_address(local("raw")));
  Address to_endpoint = sockname_of(*outcome.value);
  const std::vector<std::string> inbound{"a", pattern(1500, 1), "", pattern(60000, 2)};
  for (const auto& d : inbound) raw->send_to(d, to_endpoint);
  ASSERT_TRUE(rig.run_until([&] { return protocol->datagrams.size() == inbound.size(); }));
  for (std::size_t i = 0; i < inbound.size(); ++i) {
    EXPECT_EQ(protocol->datagrams[i].first, inbound[i]) << "datagram " << i;
    EXPECT_EQ(protocol->datagrams[i].second, raw->address()) << "datagram " << i;
  }
  const std::vector<std::string> outbound{pattern(3, 3), "", pattern(40000, 4)};
  for (const auto& d : outbound) outcome.value->sendto(d, raw->address());
  ASSERT_TRUE(rig.run_until([&] { return raw->received.size() == outbound.size(); }));
  for (std::size_t i = 0; i < outbound.size(); ++i) {
    EXPECT_EQ(raw->received[i].first, outbound[i]);
    EXPECT_EQ(raw->received[i].second, to_string(to_endpoint));
  }
}

// Rule: datagram.sendto.default-remote
TEST_P(DatagramFamilies, ConnectedEndpointSendsToItsRemoteAndRejectsOtherAddresses) {
  DatagramRig rig;
  auto raw = RawDatagram::bind(rig.loop, rig.runner, bind_address(local("raw")));
  auto protocol = std::make_shared<RecordingDatagramProtocol>(rig.runner);
  auto outcome = rig.open(protocol, DatagramOptions{local("endpoint"), raw->address(), false});
  ASSERT_TRUE(outcome.ok()) << outcome.error->to_string();
  auto& t = *outcome.value;
  EXPECT_EQ(t.get_extra_info("peername"), to_json(raw->address()));
  t.sendto("default");
  t.sendto("explicit", raw->address());
  ASSERT_TRUE(rig.run_until([&] { return raw->received.size() == 2; }));
  EXPECT_EQ(raw->received[0].first, "default");
  EXPECT_EQ(raw->received[1].first, "explicit");
  try {
    t.sendto("elsewhere", local("elsewhere"));
    ADD_FAILURE() << "sendto(data, another address) on a connected endpoint did not raise";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "ValueError");
  }
}

// Rule: datagram.sendto.to-addr
TEST_P(DatagramFamilies, UnconnectedEndpointNeedsAnAddress) {
  DatagramRig rig;
  auto protocol = std::make_shared<RecordingDatagramProtocol>(rig.runner);
  auto outcome = rig.open(protocol, DatagramOptions{local("endpoint"), std::nullopt, false});
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.value->get_extra_info("peername"), std::nullopt);
  try {
    outcome.value->sendto("nowhere");
    ADD_FAILURE() << "sendto(data) on an unconnected endpoint did not raise";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "ValueError");
  }
}

// Rule: datagram.error.reported
TEST_P(DatagramFamilies, RefusedSendReachesErrorReceivedAndTheEndpointStaysOpen) {
  DatagramRig rig;
  auto raw = RawDatagram::bind(rig.loop, rig.runner, bind_address(local("raw")));
  auto protocol = std::make_shared<RecordingDatagramProtocol>(rig.runner);
  auto outcome = rig.open(protocol, DatagramOptions{local("endpoint"), raw->address(), false});
  ASSERT_TRUE(outcome.ok());
  raw->close();
  outcome.value->sendto("ping");
  ASSERT_TRUE(rig.run_until([&] { return !protocol->errors.empty(); }));
  EXPECT_EQ(protocol->errors[0].type, "ConnectionRefusedError");
  EXPECT_EQ(protocol->errors[0].errnum, ECONNREFUSED);
  rig.runner.run_iterations(2);
  EXPECT_FALSE(outcome.value->is_closing());
  EXPECT_EQ(protocol->lost, 0);
  EXPECT_NO_THROW(outcome.value->sendto("again"));
}

INSTANTIATE_TEST_SUITE_P(Families, DatagramFamilies, ::testing::Values("ipv4", "ipv6", "unix"));

// Unix datagram receivers push back (UDP on loopback drops instead), so the
// send queue is exercised over them.
class DatagramQueue : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_socket_dir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // An endpoint sending to a raw socket that does not read, with `queued` datagrams queued.
  void open_with_backlog(std::size_t queued, kit::Faults faults = {}) {
    rig = std::make_unique<DatagramRig>(faults);
    raw = RawDatagram::bind(rig->loop, rig->runner, bind_address(UnixAddress{(dir_ / "raw").string()}));
    raw->set_reading(false);
    protocol = std::make_shared<RecordingDatagramProtocol>(rig->runner);
    auto outcome = rig->open(protocol, DatagramOptions{UnixAddress{(dir_ / "endpoint").string()}, std::nullopt, false});
    ASSERT_TRUE(outcome.ok());
    transport = protocol->transport;
    while (queued_count < queued) {
      std::string datagram = pattern(1000, sent.size());
      bool was_empty = transport->get_write_buffer_size() == 0;
      transport->sendto(datagram, raw->address());
      if (!was_empty || transport->get_write_buffer_size() > 0) ++queued_count;
      sent.push_back(std::move(datagram));
      ASSERT_LT(sent.size(), 10000u) << "nothing was ever queued";
    }
  }
  std::vector<std::string> received() const {
    std::vector<std::string> out;
    for (const auto& r : raw->received) out.push_back(r.first);
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<DatagramRig> rig;
  std::shared_ptr<RawDatagram> raw;
  std::shared_ptr<RecordingDatagramProtocol> protocol;
  std::shared_ptr<DatagramSocketTransport> transport;
  std::vector<std::string> sent;
  std::size_t queued_count = 0;
};

// Rule: datagram.sendto.nonblocking
// Rule: transport.close.flushes-buffer
// Rule: transport.close.connection-lost-after-flush
TEST_F(DatagramQueue, CloseSendsTheQueueInOrderThenReportsLost) {
  open_with_backlog(30);
  EXPECT_EQ(transport->get_write_buffer_size(), queued_count * 1000);
  transport->close();
  EXPECT_TRUE(transport->is_closing());
  rig->runner.run_iterations(3);
  EXPECT_EQ(protocol->lost, 0) << "connection_lost before the queue was sent";
  raw->set_reading(true);
  ASSERT_TRUE(rig->run_until([&] { return protocol->lost == 1 && raw->received.size() == sent.size(); }));
  EXPECT_EQ(received(), sent);
  EXPECT_EQ(protocol->lost_error, std::nullopt);
}

// Rule: datagram.abort.discards-buffer
// Rule: datagram.abort.connection-lost
TEST_F(DatagramQueue, AbortDropsTheQueue) {
  open_with_backlog(30);
  std::size_t accepted = sent.size() - queued_count;
  transport->abort();
  EXPECT_TRUE(transport->is_closing());
  raw->set_reading(true);
  ASSERT_TRUE(rig->run_until([&] { return protocol->lost == 1 && raw->received.size() == accepted; }));
  rig->runner.run_iterations(3);
  EXPECT_EQ(raw->received.size(), accepted);
  EXPECT_EQ(protocol->lost_error, std::nullopt);
  EXPECT_EQ(transport->get_write_buffer_size(), 0u);
}

// Rule: flow.pause.strictly-over-high
// Rule: flow.resume.at-or-below-low
TEST_F(DatagramQueue, FlowControlFollowsTheLimits) {
  open_with_backlog(1);
  transport->set_write_buffer_limits(2500, 1000);
  EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{1000, 2500}));
  while (protocol->sizes_at_pause.empty()) {
    sent.push_back(pattern(1000, sent.size()));
    transport->sendto(sent.back(), raw->address());
  }
  EXPECT_EQ(protocol->sizes_at_pause, std::vector<std::size_t>{3000});
  raw->set_reading(true);
  ASSERT_TRUE(rig->run_until([&] { return raw->received.size() == sent.size(); }));
  ASSERT_EQ(protocol->sizes_at_resume.size(), 1u);
  EXPECT_LE(protocol->sizes_at_resume[0], 1000u);
  EXPECT_EQ(received(), sent);
  EXPECT_THROW(transport->set_write_buffer_limits(10, 20), ContractError);
}

// Machinery test: the send queue's default watermarks are CPython's (64 KiB, 16 KiB).
TEST_F(DatagramQueue, DefaultLimitsAreAsyncios) {
  open_with_backlog(0);
  EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{16 * 1024, 64 * 1024}));
}

// Machinery test: the options of create_datagram_endpoint and its failures.
TEST(DatagramSetup, OptionsAndFailures) {
  DatagramRig rig;
  auto protocol = std::make_shared<RecordingDatagramProtocol>(rig.runner);
  auto none = rig.open(protocol, DatagramOptions{});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error->type, "ValueError");
  auto mixed = rig.open(protocol, DatagramOptions{InetAddress{"127.0.0.1", 0}, UnixAddress{"/tmp/x"}, false});
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error->type, "ValueError");

  auto first = rig.open(std::make_shared<RecordingDatagramProtocol>(rig.runner),
                        DatagramOptions{InetAddress{"127.0.0.1", 0}, std::nullopt, true});
  ASSERT_TRUE(first.ok());
  auto port = std::get<InetAddress>(sockname_of(*first.value)).port;
  auto second = rig.open(std::make_shared<RecordingDatagramProtocol>(rig.runner),
                         DatagramOptions{InetAddress{"127.0.0.1", port}, std::nullopt, true});
  EXPECT_TRUE(second.ok()) << "reuse_port on both endpoints lets them share the port";
  auto third = rig.open(std::make_shared<RecordingDatagramProtocol>(rig.runner),
                        DatagramOptions{InetAddress{"127.0.0.1", port}, std::nullopt, false});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error->errnum, EADDRINUSE);

  std::optional<Outcome<DatagramTransport>> thrown;
  rig.loop.create_datagram_endpoint([]() -> std::shared_ptr<DatagramProtocol> { throw std::runtime_error("factory"); },
                                    DatagramOptions{InetAddress{"127.0.0.1", 0}, std::nullopt, false},
                                    [&](Outcome<DatagramTransport> o) {
                                      thrown = std::move(o);
                                      rig.runner.notify();
                                    });
  ASSERT_TRUE(rig.run_until([&] { return thrown.has_value(); }));
  ASSERT_FALSE(thrown->ok());
  EXPECT_EQ(thrown->error->message, "factory");
}

// Machinery test: every descriptor an endpoint opens is non-blocking and
// close-on-exec, and is closed after connection_lost or with the loop.
TEST(DatagramSetup, NoDescriptorLeaks) {
  auto before = open_fds();
  {
    DatagramRig rig;
    auto with_loop = open_fds();
    auto protocol = std::make_shared<RecordingDatagramProtocol>(rig.runner);
    auto closed = rig.open(protocol, DatagramOptions{InetAddress{"127.0.0.1", 0}, std::nullopt, false});
    ASSERT_TRUE(closed.ok());
    auto open = rig.open(std::make_shared<RecordingDatagramProtocol>(rig.runner),
                         DatagramOptions{InetAddress{"::1", 0}, InetAddress{"::1", 9}, false});
    ASSERT_TRUE(open.ok());
    EXPECT_EQ(fds_not_cloexec_nonblocking(with_loop, true), "");
    closed.value->close();
    ASSERT_TRUE(rig.run_until([&] { return protocol->lost == 1; }));
    EXPECT_EQ(closed.value->get_extra_info("socket")->at("fd"), -1);
  }
  EXPECT_EQ(open_fds(), before);
}

// Machinery test: an exception from a protocol callback ends the endpoint with
// its canonical error and reaches the loop's exception handler.
TEST(DatagramSetup, ProtocolExceptionEndsTheEndpoint) {
  DatagramRig rig;
  std::vector<std::string> reported;
  rig.loop.set_exception_handler([&](std::string_view context, const Error&) { reported.emplace_back(context); });
  struct Throwing : RecordingDatagramProtocol {
    using RecordingDatagramProtocol::RecordingDatagramProtocol;
    void datagram_received(std::string_view, const Address&) override { throw std::runtime_error("bad datagram"); }
  };
  auto protocol = std::make_shared<Throwing>(rig.runner);
  auto outcome = rig.open(protocol, DatagramOptions{InetAddress{"127.0.0.1", 0}, std::nullopt, false});
  ASSERT_TRUE(outcome.ok());
  auto raw = RawDatagram::bind(rig.loop, rig.runner, bind_address(InetAddress{"127.0.0.1", 0}));
  raw->send_to("x", sockname_of(*outcome.value));
  ASSERT_TRUE(rig.run_until([&] { return protocol->lost == 1; }));
  ASSERT_TRUE(protocol->lost_error.has_value());
  EXPECT_EQ(protocol->lost_error->type, "RuntimeError");
  EXPECT_EQ(reported, std::vector<std::string>{"datagram_received"});
}

}  // namespace
}  // namespace loopspec::reference::testing
