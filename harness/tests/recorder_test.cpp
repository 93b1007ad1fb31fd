// The recorder: wrappers that turn what a protocol sees and does into trace
// events and change no behaviour. Harness machinery (no rule id), tested with
// the GoogleMock doubles of loopspec/mocks.hpp on both sides of the wrapper.
#include "loopspec/recorder.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "loopspec/checker.hpp"
#include "loopspec/digest.hpp"
#include "loopspec/mocks.hpp"

namespace loopspec {
namespace {

using ::testing::_;
using ::testing::Invoke;
using ::testing::NiceMock;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::StrictMock;
using ::testing::Throw;

const nlohmann::json kTcpSockname = nlohmann::json::array({"127.0.0.1", 40000});

// A stream transport double with a fixed state: 7 bytes buffered, limits
// low 4 / high 16, not closing, reading.
std::shared_ptr<NiceMock<MockTransport>> stream_transport(nlohmann::json sockname = kTcpSockname) {
  auto transport = std::make_shared<NiceMock<MockTransport>>();
  ON_CALL(*transport, get_extra_info(std::string_view("sockname"))).WillByDefault(Return(sockname));
  ON_CALL(*transport, get_write_buffer_size()).WillByDefault(Return(7));
  ON_CALL(*transport, get_write_buffer_limits()).WillByDefault(Return(WriteBufferLimits{4, 16}));
  ON_CALL(*transport, is_closing()).WillByDefault(Return(false));
  ON_CALL(*transport, is_reading()).WillByDefault(Return(true));
  return transport;
}

const TransportState kStreamState{7, 4, 16, false, true};

class RecorderTest : public ::testing::Test {
 protected:
  // Hands `transport` to a recorded Protocol and returns the transport the user's protocol got.
  std::shared_ptr<BaseTransport> connect(const std::shared_ptr<StreamProtocol>& recorded,
                                         const std::shared_ptr<MockProtocol>& user,
                                         std::shared_ptr<BaseTransport> transport) {
    std::shared_ptr<BaseTransport> seen;
    EXPECT_CALL(*user, connection_made(_)).WillOnce(SaveArg<0>(&seen));
    recorded->connection_made(std::move(transport));
    return seen;
  }

  const Event& last() const { return trace.events.back(); }

  Trace trace;
  Recorder recorder{trace};
};

// Harness machinery: record_stream returns a wrapper of the same kind and refuses anything else.
TEST_F(RecorderTest, RecordStreamKeepsTheProtocolKind) {
  auto plain = recorder.record_stream(std::make_shared<NiceMock<MockProtocol>>());
  EXPECT_NE(std::dynamic_pointer_cast<Protocol>(plain), nullptr);
  EXPECT_EQ(std::dynamic_pointer_cast<BufferedProtocol>(plain), nullptr);
  auto buffered = recorder.record_stream(std::make_shared<NiceMock<MockBufferedProtocol>>());
  EXPECT_NE(std::dynamic_pointer_cast<BufferedProtocol>(buffered), nullptr);
  EXPECT_EQ(std::dynamic_pointer_cast<Protocol>(buffered), nullptr);

  struct OtherStream : StreamProtocol {};
  EXPECT_THROW(recorder.record_stream(std::make_shared<OtherStream>()), std::invalid_argument);
  EXPECT_THROW(recorder.record_stream(nullptr), std::invalid_argument);
  EXPECT_TRUE(trace.events.empty());
}

// Harness machinery: connection_made wraps the transport and records kinds and state.
TEST_F(RecorderTest, ConnectionMadeRecordsKindsAndState) {
  auto user = std::make_shared<StrictMock<MockProtocol>>();
  auto transport = stream_transport();
  auto seen = connect(recorder.record_stream(user), user, transport);
  ASSERT_NE(seen, nullptr);
  EXPECT_NE(seen, std::shared_ptr<BaseTransport>(transport)) << "the user must get the recording wrapper";
  EXPECT_NE(std::dynamic_pointer_cast<Transport>(seen), nullptr);

  ASSERT_EQ(trace.events.size(), 1u);
  const Event& e = trace.events[0];
  EXPECT_EQ(e.seq, 0u);
  EXPECT_EQ(e.conn, 1u);
  EXPECT_EQ(e.kind, EventKind::Callback);
  EXPECT_EQ(e.name, "connection_made");
  EXPECT_EQ(e.protocol, "Protocol");
  EXPECT_EQ(e.transport, "tcp");
  EXPECT_EQ(e.state, kStreamState);
}

// Harness machinery: the transport kind comes from the transport's class and extra info.
TEST_F(RecorderTest, ClassifiesTransports) {
  auto kind_of = [&](std::shared_ptr<BaseTransport> transport) {
    auto user = std::make_shared<NiceMock<MockProtocol>>();
    recorder.record_stream(user)->connection_made(std::move(transport));
    return last().transport;
  };
  EXPECT_EQ(kind_of(stream_transport()), "tcp");
  EXPECT_EQ(kind_of(stream_transport("/tmp/loopspec.sock")), "unix");
  auto tls = stream_transport();
  ON_CALL(*tls, get_extra_info(std::string_view("ssl_object"))).WillByDefault(Return(nlohmann::json("<SSLObject>")));
  EXPECT_EQ(kind_of(tls), "tls");
  EXPECT_EQ(kind_of(std::make_shared<NiceMock<MockReadTransport>>()), "read-pipe");
  EXPECT_EQ(kind_of(std::make_shared<NiceMock<MockWriteTransport>>()), "write-pipe");
  EXPECT_EQ(trace.events.back().conn, 5u) << "one connection id per connection_made";
}

// Harness machinery: pipes get a wrapper of the same pipe kind, with the state that kind has.
TEST_F(RecorderTest, PipeWrappersKeepThePipeKind) {
  auto read_pipe = std::make_shared<NiceMock<MockReadTransport>>();
  ON_CALL(*read_pipe, is_reading()).WillByDefault(Return(true));
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto seen = connect(recorder.record_stream(user), user, read_pipe);
  EXPECT_NE(std::dynamic_pointer_cast<ReadTransport>(seen), nullptr);
  EXPECT_EQ(std::dynamic_pointer_cast<WriteTransport>(seen), nullptr);
  EXPECT_EQ(last().state, (TransportState{std::nullopt, std::nullopt, std::nullopt, false, true}));
  EXPECT_CALL(*read_pipe, pause_reading());
  std::dynamic_pointer_cast<ReadTransport>(seen)->pause_reading();
  EXPECT_EQ(last().name, "pause_reading");

  auto write_pipe = std::make_shared<NiceMock<MockWriteTransport>>();
  ON_CALL(*write_pipe, get_write_buffer_size()).WillByDefault(Return(3));
  auto user2 = std::make_shared<NiceMock<MockProtocol>>();
  auto seen2 = connect(recorder.record_stream(user2), user2, write_pipe);
  EXPECT_NE(std::dynamic_pointer_cast<WriteTransport>(seen2), nullptr);
  EXPECT_EQ(std::dynamic_pointer_cast<ReadTransport>(seen2), nullptr);
  EXPECT_EQ(last().state, (TransportState{3, 0, 0, false, std::nullopt}));
}

// Harness machinery: Protocol callbacks reach the user's protocol unchanged and are recorded at entry.
TEST_F(RecorderTest, ProtocolCallbacksPassThroughAndAreRecorded) {
  auto user = std::make_shared<StrictMock<MockProtocol>>();
  auto recorded = std::dynamic_pointer_cast<Protocol>(recorder.record_stream(user));
  auto inner = stream_transport();  // the loop keeps its transport alive
  connect(recorded, user, inner);

  const std::string payload = "hello";
  const char* seen_data = nullptr;
  EXPECT_CALL(*user, data_received(std::string_view("hello"))).WillOnce(Invoke([&](std::string_view data) {
    seen_data = data.data();
    EXPECT_EQ(trace.events.back().name, "data_received") << "recorded at entry";
  }));
  recorded->data_received(payload);
  EXPECT_EQ(seen_data, payload.data()) << "the same bytes, not a copy";
  EXPECT_EQ(last().kind, EventKind::Callback);
  EXPECT_EQ(last().size, 5);
  EXPECT_EQ(last().digest, Digest::of("hello"));
  EXPECT_EQ(last().state, kStreamState);

  EXPECT_CALL(*user, pause_writing());
  EXPECT_CALL(*user, resume_writing());
  recorded->pause_writing();
  EXPECT_EQ(last().name, "pause_writing");
  recorded->resume_writing();
  EXPECT_EQ(last().name, "resume_writing");

  EXPECT_CALL(*user, eof_received()).WillOnce(Return(true));
  EXPECT_TRUE(recorded->eof_received());
  ASSERT_GE(trace.events.size(), 2u);
  const Event& entry = trace.events[trace.events.size() - 2];
  EXPECT_EQ(entry.kind, EventKind::Callback);
  EXPECT_EQ(entry.name, "eof_received");
  EXPECT_EQ(last().kind, EventKind::Return);
  EXPECT_EQ(last().name, "eof_received");
  EXPECT_EQ(last().value, true);

  const Error reset = Error::from_errno(ECONNRESET);
  EXPECT_CALL(*user, connection_lost(MaybeError(reset)));
  recorded->connection_lost(reset);
  EXPECT_EQ(last().name, "connection_lost");
  EXPECT_EQ(last().error, reset);

  for (const Event& e : trace.events) EXPECT_EQ(e.conn, 1u);
  for (std::size_t i = 0; i < trace.events.size(); ++i) EXPECT_EQ(trace.events[i].seq, i);
}

// Harness machinery: BufferedProtocol's buffer passes through; the Return and buffer_updated are recorded.
TEST_F(RecorderTest, BufferedProtocolCallbacksPassThroughAndAreRecorded) {
  auto user = std::make_shared<StrictMock<MockBufferedProtocol>>();
  auto recorded = std::dynamic_pointer_cast<BufferedProtocol>(recorder.record_stream(user));
  EXPECT_CALL(*user, connection_made(_));
  recorded->connection_made(stream_transport());
  EXPECT_EQ(last().protocol, "BufferedProtocol");

  std::vector<char> storage(64, '\0');
  EXPECT_CALL(*user, get_buffer(1024)).WillOnce(Return(std::span<char>(storage)));
  std::span<char> buffer = recorded->get_buffer(1024);
  EXPECT_EQ(buffer.data(), storage.data());
  EXPECT_EQ(buffer.size(), storage.size());
  const Event& entry = trace.events[trace.events.size() - 2];
  EXPECT_EQ(entry.kind, EventKind::Callback);
  EXPECT_EQ(entry.size, 1024);
  EXPECT_EQ(last().kind, EventKind::Return);
  EXPECT_EQ(last().size, 64);

  std::string("0123456789").copy(buffer.data(), 10);
  EXPECT_CALL(*user, buffer_updated(10u));
  recorded->buffer_updated(10);
  EXPECT_EQ(last().name, "buffer_updated");
  EXPECT_EQ(last().size, 10);
  EXPECT_EQ(last().digest, Digest::of("0123456789")) << "the bytes the transport wrote";

  EXPECT_CALL(*user, buffer_updated(5u));
  recorded->buffer_updated(5);  // no buffer lent: recorded without a digest, passed on anyway
  EXPECT_EQ(last().digest, std::nullopt);
}

// Harness machinery: transport methods delegate unchanged and are recorded at return.
TEST_F(RecorderTest, TransportCallsPassThroughAndAreRecorded) {
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto inner = stream_transport();
  auto transport = std::dynamic_pointer_cast<Transport>(connect(recorder.record_stream(user), user, inner));
  ASSERT_NE(transport, nullptr);

  EXPECT_CALL(*inner, write(std::string_view("abc")));
  transport->write("abc");
  EXPECT_EQ(last().kind, EventKind::Call);
  EXPECT_EQ(last().name, "write");
  EXPECT_EQ(last().size, 3);
  EXPECT_EQ(last().digest, Digest::of("abc"));
  EXPECT_EQ(last().state, kStreamState);

  std::vector<std::string_view> pieces = {"ab", "", "cde"};
  std::span<const std::string_view> seen_pieces;
  EXPECT_CALL(*inner, writelines(_)).WillOnce(SaveArg<0>(&seen_pieces));
  transport->writelines(pieces);
  EXPECT_EQ(seen_pieces.data(), pieces.data());
  EXPECT_EQ(seen_pieces.size(), 3u);
  EXPECT_EQ(last().size, 5);
  EXPECT_EQ(last().detail, nlohmann::json::array({2, 0, 3}));
  EXPECT_EQ(last().digest, Digest::of("abcde"));

  EXPECT_CALL(*inner, set_write_buffer_limits(std::optional<std::int64_t>(100), std::optional<std::int64_t>()));
  transport->set_write_buffer_limits(100);
  EXPECT_EQ(last().high, 100);
  EXPECT_EQ(last().low, std::nullopt) << "low was not given";

  EXPECT_EQ(transport->get_write_buffer_limits(), (WriteBufferLimits{4, 16}));
  EXPECT_EQ(last().low, 4);
  EXPECT_EQ(last().high, 16);
  EXPECT_EQ(transport->get_write_buffer_size(), 7u);
  EXPECT_EQ(last().size, 7);

  EXPECT_CALL(*inner, can_write_eof()).WillOnce(Return(true));
  EXPECT_TRUE(transport->can_write_eof());
  EXPECT_EQ(last().value, true);
  EXPECT_FALSE(transport->is_closing());
  EXPECT_EQ(last().name, "is_closing");
  EXPECT_EQ(last().value, false);
  EXPECT_TRUE(transport->is_reading());
  EXPECT_EQ(last().value, true);

  EXPECT_EQ(transport->get_extra_info("sockname"), kTcpSockname);
  EXPECT_EQ(last().detail, (nlohmann::json{{"key", "sockname"}, {"value", kTcpSockname}}));
  EXPECT_EQ(transport->get_extra_info("no-such-key"), std::nullopt);
  EXPECT_EQ(last().detail, (nlohmann::json{{"key", "no-such-key"}, {"value", nullptr}}));

  EXPECT_CALL(*inner, pause_reading());
  EXPECT_CALL(*inner, resume_reading());
  EXPECT_CALL(*inner, write_eof());
  EXPECT_CALL(*inner, close());
  EXPECT_CALL(*inner, abort());
  for (auto [name, call] : std::vector<std::pair<std::string, std::function<void()>>>{
           {"pause_reading", [&] { transport->pause_reading(); }},
           {"resume_reading", [&] { transport->resume_reading(); }},
           {"write_eof", [&] { transport->write_eof(); }},
           {"close", [&] { transport->close(); }},
           {"abort", [&] { transport->abort(); }}}) {
    call();
    EXPECT_EQ(last().name, name);
    EXPECT_EQ(last().kind, EventKind::Call);
    EXPECT_EQ(last().error, std::nullopt);
  }
}

// Harness machinery: exceptions are recorded and rethrown unchanged.
TEST_F(RecorderTest, ExceptionsAreRecordedAndRethrownUnchanged) {
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto inner = stream_transport();
  auto transport = std::dynamic_pointer_cast<Transport>(connect(recorder.record_stream(user), user, inner));

  const Error value_error{"ValueError", 0, "high (1) must be >= low (2)"};
  EXPECT_CALL(*inner, set_write_buffer_limits(_, _)).WillOnce(Throw(ContractError(value_error)));
  try {
    transport->set_write_buffer_limits(1, 2);
    FAIL() << "the exception was swallowed";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error(), value_error);
  }
  EXPECT_EQ(last().name, "set_write_buffer_limits");
  EXPECT_EQ(last().high, 1);
  EXPECT_EQ(last().low, 2);
  EXPECT_EQ(last().error, value_error);

  struct Custom : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  EXPECT_CALL(*inner, write(_)).WillOnce(Throw(Custom("disk on fire")));
  EXPECT_THROW(transport->write("x"), Custom);
  EXPECT_EQ(last().error, (Error{"RuntimeError", 0, "disk on fire"}));

  EXPECT_CALL(*inner, can_write_eof()).WillOnce(Throw(ContractError(Error{"NotImplementedError", 0, ""})));
  EXPECT_THROW(transport->can_write_eof(), ContractError);
  EXPECT_EQ(last().value, std::nullopt) << "no result when the call raised";
}

// Harness machinery: state comes from the wrapped transport directly; a failing getter leaves its field absent.
TEST_F(RecorderTest, StateSnapshotIsNotRecordedAndToleratesFailures) {
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto inner = stream_transport();
  ON_CALL(*inner, is_reading()).WillByDefault(Throw(std::runtime_error("no")));
  auto recorded = std::dynamic_pointer_cast<Protocol>(recorder.record_stream(user));
  connect(recorded, user, inner);
  recorded->data_received("x");
  ASSERT_EQ(trace.events.size(), 2u) << "state queries are not events";
  EXPECT_EQ(last().state, (TransportState{7, 4, 16, false, std::nullopt}));
}

// Harness machinery: get_protocol gives back the user's protocol; set_protocol records the new one on the same connection.
TEST_F(RecorderTest, ProtocolSwitchStaysOnTheConnection) {
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto inner = stream_transport();
  auto recorded = recorder.record_stream(user);
  std::shared_ptr<BaseProtocol> installed = recorded;  // what the loop's transport holds
  ON_CALL(*inner, get_protocol()).WillByDefault(Invoke([&] { return installed; }));
  ON_CALL(*inner, set_protocol(_)).WillByDefault(SaveArg<0>(&installed));
  auto transport = connect(recorded, user, inner);

  EXPECT_EQ(transport->get_protocol(), std::shared_ptr<BaseProtocol>(user));
  EXPECT_EQ(last().name, "get_protocol");

  auto next = std::make_shared<StrictMock<MockBufferedProtocol>>();
  transport->set_protocol(next);
  EXPECT_EQ(last().name, "set_protocol");
  EXPECT_EQ(last().protocol, "BufferedProtocol");
  EXPECT_NE(installed, std::shared_ptr<BaseProtocol>(next)) << "the loop gets a recording wrapper";
  EXPECT_EQ(transport->get_protocol(), std::shared_ptr<BaseProtocol>(next));

  auto installed_buffered = std::dynamic_pointer_cast<BufferedProtocol>(installed);
  ASSERT_NE(installed_buffered, nullptr);
  std::vector<char> storage(8);
  EXPECT_CALL(*next, get_buffer(-1)).WillOnce(Return(std::span<char>(storage)));
  EXPECT_EQ(installed_buffered->get_buffer(-1).data(), storage.data());
  EXPECT_EQ(last().name, "get_buffer");
  EXPECT_EQ(last().conn, 1u) << "same connection after the switch";
}

// Harness machinery: after_callback runs after every callback, also when the callback throws.
TEST_F(RecorderTest, AfterCallbackHookRunsAfterEveryCallback) {
  int calls = 0;
  recorder.set_after_callback([&] { ++calls; });
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto recorded = std::dynamic_pointer_cast<Protocol>(recorder.record_stream(user));
  connect(recorded, user, stream_transport());
  EXPECT_EQ(calls, 1);
  EXPECT_CALL(*user, eof_received()).WillOnce(Invoke([&] {
    EXPECT_EQ(calls, 1) << "runs after the callback, not before";
    return false;
  }));
  recorded->eof_received();
  EXPECT_EQ(calls, 2);
  EXPECT_CALL(*user, data_received(_)).WillOnce(Throw(std::runtime_error("protocol bug")));
  EXPECT_THROW(recorded->data_received("x"), std::runtime_error);
  EXPECT_EQ(calls, 3);
}

// Harness machinery: a callback made from inside a transport call follows that call's event, which is
// recorded (with its arguments) when the callback starts; once, not again at return.
TEST_F(RecorderTest, CallThatRunsACallbackIsRecordedBeforeIt) {
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto inner = stream_transport();
  auto recorded = recorder.record_stream(user);
  auto transport = std::dynamic_pointer_cast<Transport>(connect(recorded, user, inner));
  EXPECT_CALL(*inner, write(_))
      .WillOnce(Invoke([&](std::string_view) { recorded->pause_writing(); }))
      .WillOnce(Return());
  EXPECT_CALL(*user, pause_writing());
  transport->write("big");
  transport->write("more");
  ASSERT_EQ(trace.events.size(), 4u);
  EXPECT_EQ(trace.events[1].name, "write");
  EXPECT_EQ(trace.events[1].size, 3);
  EXPECT_EQ(trace.events[2].name, "pause_writing");
  EXPECT_EQ(trace.events[3].name, "write");
  EXPECT_EQ(trace.events[3].size, 4);
}

// Harness machinery: a call recorded early that then raises leaves a note naming its seq and the error.
TEST_F(RecorderTest, CallRaisingAfterItsCallbackIsNoted) {
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto inner = stream_transport();
  auto recorded = recorder.record_stream(user);
  auto transport = std::dynamic_pointer_cast<Transport>(connect(recorded, user, inner));
  EXPECT_CALL(*inner, close()).WillOnce(Invoke([&] {
    recorded->connection_lost(std::nullopt);
    throw ContractError(Error{"RuntimeError", 0, "late"});
  }));
  EXPECT_THROW(transport->close(), ContractError);
  ASSERT_EQ(trace.events.size(), 4u);
  EXPECT_EQ(trace.events[1].name, "close");
  EXPECT_FALSE(trace.events[1].error);
  EXPECT_EQ(trace.events[2].name, "connection_lost");
  EXPECT_EQ(trace.events[3].kind, EventKind::Note);
  EXPECT_THAT(trace.events[3].detail.get<std::string>(), ::testing::HasSubstr("close (seq 1) raised RuntimeError"));
}

// Harness machinery: a recorded session of a well-behaved transport passes the checker.
TEST_F(RecorderTest, RecordedTraceFeedsTheChecker) {
  Checker checker;
  Recorder checked(checker);
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto inner = stream_transport();
  auto recorded = std::dynamic_pointer_cast<Protocol>(checked.record_stream(user));
  std::shared_ptr<BaseTransport> seen;
  EXPECT_CALL(*user, connection_made(_)).WillOnce(SaveArg<0>(&seen));
  recorded->connection_made(inner);
  recorded->data_received("ping");
  std::dynamic_pointer_cast<Transport>(seen)->write("pong");
  recorded->eof_received();
  ON_CALL(*inner, is_closing()).WillByDefault(Return(true));
  std::dynamic_pointer_cast<Transport>(seen)->close();
  recorded->connection_lost(std::nullopt);
  recorded->data_received("late");  // a loop fault the checker must see
  checker.on_end(true);
  ASSERT_EQ(checker.violations().size(), 1u);
  EXPECT_EQ(checker.violations()[0].rule, "proto.order.lost-last");
}

// Harness machinery: datagram endpoints are recorded like streams.
TEST_F(RecorderTest, DatagramEndpointIsRecorded) {
  auto user = std::make_shared<StrictMock<MockDatagramProtocol>>();
  auto recorded = recorder.record_datagram(user);
  auto inner = std::make_shared<NiceMock<MockDatagramTransport>>();
  ON_CALL(*inner, get_write_buffer_size()).WillByDefault(Return(2));
  std::shared_ptr<BaseTransport> seen;
  EXPECT_CALL(*user, connection_made(_)).WillOnce(SaveArg<0>(&seen));
  recorded->connection_made(inner);
  EXPECT_EQ(last().transport, "udp");
  EXPECT_EQ(last().protocol, "DatagramProtocol");
  EXPECT_EQ(last().state, (TransportState{2, std::nullopt, std::nullopt, false, std::nullopt}));

  const Address from = InetAddress{"127.0.0.1", 9};
  EXPECT_CALL(*user, datagram_received(std::string_view("dgram"), from));
  recorded->datagram_received("dgram", from);
  EXPECT_EQ(last().size, 5);
  EXPECT_EQ(last().detail, (nlohmann::json{{"addr", {"127.0.0.1", 9}}}));

  const Error refused = Error::from_errno(ECONNREFUSED);
  EXPECT_CALL(*user, error_received(refused));
  recorded->error_received(refused);
  EXPECT_EQ(last().error, refused);

  auto datagram = std::dynamic_pointer_cast<DatagramTransport>(seen);
  ASSERT_NE(datagram, nullptr);
  EXPECT_CALL(*inner, sendto(std::string_view("reply"), std::optional<Address>(from)));
  datagram->sendto("reply", from);
  EXPECT_EQ(last().name, "sendto");
  EXPECT_EQ(last().digest, Digest::of("reply"));
  EXPECT_EQ(datagram->get_write_buffer_size(), 2u);
  EXPECT_EQ(last().size, 2);
}

// Harness machinery: subprocess protocols and transports are recorded.
TEST_F(RecorderTest, SubprocessIsRecorded) {
  auto user = std::make_shared<StrictMock<MockSubprocessProtocol>>();
  auto recorded = recorder.record_subprocess(user);
  auto inner = std::make_shared<NiceMock<MockSubprocessTransport>>();
  ON_CALL(*inner, get_pid()).WillByDefault(Return(4242));
  std::shared_ptr<BaseTransport> seen;
  EXPECT_CALL(*user, connection_made(_)).WillOnce(SaveArg<0>(&seen));
  recorded->connection_made(inner);
  EXPECT_EQ(last().transport, "subprocess");

  EXPECT_CALL(*user, pipe_data_received(1, std::string_view("out")));
  recorded->pipe_data_received(1, "out");
  EXPECT_EQ(last().fd, 1);
  EXPECT_EQ(last().size, 3);
  EXPECT_CALL(*user, pipe_connection_lost(1, MaybeError()));
  recorded->pipe_connection_lost(1, std::nullopt);
  EXPECT_EQ(last().name, "pipe_connection_lost");
  EXPECT_CALL(*user, process_exited());
  recorded->process_exited();
  EXPECT_EQ(last().name, "process_exited");

  auto process = std::dynamic_pointer_cast<SubprocessTransport>(seen);
  ASSERT_NE(process, nullptr);
  EXPECT_EQ(process->get_pid(), 4242);
  EXPECT_EQ(last().detail, (nlohmann::json{{"pid", 4242}}));
  EXPECT_CALL(*inner, send_signal(15));
  process->send_signal(15);
  EXPECT_EQ(last().detail, (nlohmann::json{{"signal", 15}}));
  EXPECT_CALL(*inner, kill());
  process->kill();
  EXPECT_EQ(last().name, "kill");
}

// Harness machinery: with digests off, data events keep their sizes and carry no digest; the data still
// passes through whole.
TEST_F(RecorderTest, DigestsOffLeaveDataEventsWithSizesOnly) {
  Trace sized;
  Recorder sizes_only(sized, RecorderOptions{.digests = false});
  auto user = std::make_shared<NiceMock<MockProtocol>>();
  auto inner = stream_transport();
  auto recorded = sizes_only.record_stream(user);
  std::shared_ptr<BaseTransport> seen;
  EXPECT_CALL(*user, connection_made(_)).WillOnce(SaveArg<0>(&seen));
  recorded->connection_made(inner);
  auto transport = std::dynamic_pointer_cast<Transport>(seen);
  ASSERT_NE(transport, nullptr);

  EXPECT_CALL(*user, data_received(std::string_view("hello")));
  std::dynamic_pointer_cast<Protocol>(recorded)->data_received("hello");
  EXPECT_EQ(sized.events.back().name, "data_received");
  EXPECT_EQ(sized.events.back().size, 5);
  EXPECT_EQ(sized.events.back().digest, std::nullopt);

  EXPECT_CALL(*inner, write(std::string_view("abc")));
  transport->write("abc");
  EXPECT_EQ(sized.events.back().size, 3);
  EXPECT_EQ(sized.events.back().digest, std::nullopt);

  std::vector<std::string_view> pieces = {"ab", "cde"};
  transport->writelines(pieces);
  EXPECT_EQ(sized.events.back().size, 5);
  EXPECT_EQ(sized.events.back().digest, std::nullopt);
  EXPECT_TRUE(trace.events.empty()) << "the fixture's recorder saw nothing";
}

// Harness machinery: emit numbers events in order for scenario notes and peer actions too.
TEST_F(RecorderTest, EmitAssignsIncreasingSeq) {
  Event note;
  note.kind = EventKind::Note;
  note.name = "phase";
  note.seq = 99;
  recorder.emit(note);
  recorder.emit(note);
  ASSERT_EQ(trace.events.size(), 2u);
  EXPECT_EQ(trace.events[0].seq, 0u);
  EXPECT_EQ(trace.events[1].seq, 1u);
}

}  // namespace
}  // namespace loopspec
