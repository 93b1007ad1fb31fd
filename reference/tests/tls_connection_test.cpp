// TLS connections of the reference loop (tls_protocol.hpp, tls_transport.hpp,
// tls_setup.hpp): setup and its failures, the transport's TLS answers, EOF,
// closing, and that nothing outlives the loop.
#include <gtest/gtest.h>

#include "loopspec/reference/reference_backend.hpp"
#include "loopspec/kit/tls_protocol.hpp"
#include "loopspec/kit/tls_transport.hpp"
#include "tls_test_support.hpp"

namespace loopspec::reference {
namespace {

using testing::RecordingProtocol;
using testing::Rig;
using testing::tls_client_options;
using testing::tls_material;
using testing::tls_server_options;
using testing::TlsPair;

// A client of the reference loop connected to a TLS server peer, the handshake done.
struct ClientOfTlsPeer {
  Rig rig;
  PeerListener listener{InetAddress{"127.0.0.1", 0}};
  std::shared_ptr<RecordingProtocol> protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  std::unique_ptr<Peer> peer;

  // False (with a test failure) when the connection or its handshake fails.
  bool connect(ConnectOptions options = tls_client_options()) {
    std::optional<Outcome<Transport>> outcome;
    rig.loop.create_connection([&] { return protocol; }, listener.address(), options, [&](Outcome<Transport> o) {
      outcome = std::move(o);
      rig.runner.notify();
    });
    PeerTls peer_side;
    peer_side.server = true;
    peer_side.cert_file = tls_material().server_cert();
    peer_side.key_file = tls_material().server_key();
    peer = listener.accept(Duration(10), peer_side);  // the TCP connection is made at once on loopback
    if (peer == nullptr) {
      ADD_FAILURE() << "the peer accepted no connection";
      return false;
    }
    testing::watch_peer(rig, *peer);
    if (!rig.run_until([&] { return outcome.has_value(); })) {
      ADD_FAILURE() << "create_connection never completed";
      return false;
    }
    if (!outcome->ok()) ADD_FAILURE() << outcome->error->to_string();
    return outcome->ok();
  }
};

TEST(TlsConnection, HandshakeThenMadeThenDataBothWays) {
  // Rule: loop.tls.encrypted-stream
  // Rule: loop.setup.returns-transport-and-protocol
  TlsPair pair;
  pair.start();
  // connection_made waits for the handshake, which needs the loop to run.
  EXPECT_EQ(pair.client->made_count, 0);
  ASSERT_TRUE(pair.rig.run_until([&] { return pair.client->made_count == 1 && pair.server->made_count == 1; }));
  ASSERT_TRUE(pair.client_outcome.has_value());
  ASSERT_TRUE(pair.client_outcome->ok());
  EXPECT_EQ(pair.client_outcome->value, pair.client->transport);
  EXPECT_EQ(pair.client->transport->get_protocol(), pair.client);
  EXPECT_NE(std::dynamic_pointer_cast<kit::TlsTransport>(pair.client->transport), nullptr);

  const std::string request = testing::pattern(300000, 1);
  pair.client->transport->write(request);
  pair.server->on_data = [&](std::string_view) {
    if (pair.server->received.size() == request.size()) pair.server->transport->write("done");
  };
  ASSERT_TRUE(pair.rig.run_until([&] { return pair.client->received == "done"; }));
  EXPECT_EQ(pair.server->received, request);
}

TEST(TlsConnection, ExtraInfoAnswersTlsKeysAndTheSocketsOwn) {
  // Rule: transport.extra-info.ssl
  // Rule: transport.extra-info.ssl-object
  // Rule: transport.extra-info.socket
  // Rule: transport.extra-info.default
  TlsPair pair;
  ASSERT_TRUE(pair.establish(tls_client_options({"h2"}), tls_server_options(true, {"h2"})));
  auto& client = *pair.client->transport;
  EXPECT_EQ(client.get_extra_info("cipher")->size(), 3u);
  EXPECT_TRUE(client.get_extra_info("compression")->is_null());
  EXPECT_EQ((*client.get_extra_info("peercert"))["subject"][0][0][1], "localhost");
  EXPECT_EQ((*client.get_extra_info("sslcontext"))["verify_mode"], "CERT_REQUIRED");
  EXPECT_EQ((*client.get_extra_info("ssl_object"))["selected_alpn_protocol"], "h2");
  EXPECT_EQ((*client.get_extra_info("socket"))["type"], "SOCK_STREAM");
  EXPECT_TRUE(client.get_extra_info("peername").has_value());
  EXPECT_FALSE(client.get_extra_info("no-such-key").has_value());
  // The server asked for no client certificate.
  EXPECT_FALSE(pair.server->transport->get_extra_info("peercert").has_value());
}

TEST(TlsConnection, UntrustedCertificateFailsTheSetupWithoutCallbacks) {
  // Rule: proto.setup.no-lost-without-made
  // Rule: loop.tls.verifies-certificate
  TlsPair pair;
  pair.start(tls_client_options(), tls_server_options(false));
  ASSERT_TRUE(pair.rig.run_until([&] { return pair.client_outcome.has_value(); }));
  ASSERT_FALSE(pair.client_outcome->ok());
  EXPECT_EQ(pair.client_outcome->error->type, "SSLCertVerificationError");
  // The server hears the client's alert and drops the connection, telling its protocol nothing either.
  ASSERT_EQ(pair.server_factory_calls, 1);
  pair.rig.runner.run_iterations(20);
  EXPECT_TRUE(pair.client->events.empty());
  EXPECT_TRUE(pair.server->events.empty());
}

TEST(TlsConnection, HandshakeTimeoutFailsTheSetup) {
  // Rule: loop.tls.handshake-timeout
  // Rule: proto.setup.no-lost-without-made
  Rig rig;
  PeerListener silent(InetAddress{"127.0.0.1", 0});  // never answers the hello
  auto protocol = std::make_shared<RecordingProtocol>(&rig.runner);
  ConnectOptions options = tls_client_options();
  options.ssl_handshake_timeout = Duration(0.1);
  std::optional<Outcome<Transport>> outcome;
  Duration started = rig.loop.time();
  rig.loop.create_connection([&] { return protocol; }, silent.address(), options, [&](Outcome<Transport> o) {
    outcome = std::move(o);
    rig.runner.notify();
  });
  ASSERT_TRUE(rig.run_until([&] { return outcome.has_value(); }));
  EXPECT_GE((rig.loop.time() - started).count(), 0.09);
  ASSERT_FALSE(outcome->ok());
  EXPECT_EQ(outcome->error->type, "ConnectionAbortedError");
  EXPECT_NE(outcome->error->message.find("0.1 seconds"), std::string::npos) << outcome->error->message;
  rig.runner.run_iterations(5);
  EXPECT_TRUE(protocol->events.empty());
}

TEST(TlsConnection, OptionsAreCheckedBeforeConnecting) {
  // Machinery: bad input gets a clear error, as asyncio raises it.
  Rig rig;
  auto run = [&](ConnectOptions options, Address address) {
    std::optional<Outcome<Transport>> outcome;
    int factory_calls = 0;
    rig.loop.create_connection(
        [&] {
          ++factory_calls;
          return std::make_shared<Protocol>();
        },
        address, std::move(options), [&](Outcome<Transport> o) {
          outcome = std::move(o);
          rig.runner.notify();
        });
    EXPECT_TRUE(rig.run_until([&] { return outcome.has_value(); }));
    EXPECT_EQ(factory_calls, 0);
    return outcome->error.value_or(Error{});
  };
  ConnectOptions zero = tls_client_options();
  zero.ssl_handshake_timeout = Duration(0);
  EXPECT_EQ(run(zero, InetAddress{"127.0.0.1", 1}).type, "ValueError");
  ConnectOptions negative = tls_client_options();
  negative.ssl_shutdown_timeout = Duration(-1);
  EXPECT_EQ(run(negative, InetAddress{"127.0.0.1", 1}).type, "ValueError");
  ConnectOptions nameless = tls_client_options();
  nameless.server_hostname.clear();
  EXPECT_EQ(run(nameless, UnixAddress{"/nonexistent/loopspec-tls"}).type, "ValueError");
  auto missing = std::make_shared<TlsConfig>(*tls_client_options().ssl);
  missing->ca_file = "/nonexistent/ca.pem";
  ConnectOptions unreadable = tls_client_options();
  unreadable.ssl = missing;
  EXPECT_EQ(run(unreadable, InetAddress{"127.0.0.1", 1}).type, "FileNotFoundError");

  std::optional<Outcome<Server>> served;
  ServerOptions certless;
  certless.ssl = std::make_shared<TlsConfig>();
  rig.loop.create_server([] { return std::make_shared<Protocol>(); }, InetAddress{"127.0.0.1", 0}, certless,
                         [&](Outcome<Server> o) {
                           served = std::move(o);
                           rig.runner.notify();
                         });
  ASSERT_TRUE(rig.run_until([&] { return served.has_value(); }));
  EXPECT_EQ(served->error.value_or(Error{}).type, "ValueError");
}

TEST(TlsConnection, NoHalfClose) {
  // Rule: write.eof.may-be-unsupported
  // Rule: write.eof.can-write-eof-consistent
  TlsPair pair;
  ASSERT_TRUE(pair.establish());
  auto& t = *pair.client->transport;
  EXPECT_FALSE(t.can_write_eof());
  try {
    t.write_eof();
    FAIL() << "write_eof() did not raise";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "NotImplementedError");
  }
  t.write("still open");
  ASSERT_TRUE(pair.rig.run_until([&] { return pair.server->received == "still open"; }));
}

TEST(TlsConnection, EofReturningTrueStillCloses) {
  // Rule: proto.eof.true-closes-without-half-close
  // Rule: proto.connection-lost.none-on-close
  TlsPair pair;
  ASSERT_TRUE(pair.establish());
  pair.server->keep_open_on_eof = true;
  pair.client->transport->write("bye");
  pair.client->transport->close();
  ASSERT_TRUE(pair.rig.run_until([&] { return pair.server->lost_count == 1 && pair.client->lost_count == 1; }));
  EXPECT_EQ(pair.server->received, "bye");
  EXPECT_EQ(pair.server->events, (std::vector<std::string>{"made", "data", "eof", "lost"}));
  EXPECT_FALSE(pair.server->lost_error.has_value());
  EXPECT_FALSE(pair.client->lost_error.has_value());
  // The side that closed hears no EOF after its close().
  EXPECT_EQ(pair.client->events, (std::vector<std::string>{"made", "lost"}));
}

TEST(TlsConnection, FaultEofTrueKeepsOpen) {
  // Machinery: the tls-eof-true-keeps-open fault deviates where it says.
  TlsPair pair(kit::faults_from_name("tls-eof-true-keeps-open", reference_backend_info()));
  ASSERT_TRUE(pair.establish());
  pair.server->keep_open_on_eof = true;
  pair.client->transport->close();
  ASSERT_TRUE(pair.rig.run_until([&] { return pair.server->eof_count == 1; }));
  pair.rig.runner.run_iterations(20);
  EXPECT_EQ(pair.server->lost_count, 0);
  EXPECT_FALSE(pair.server->transport->is_closing());
}

TEST(TlsConnection, CloseSendsCloseNotifyAfterTheData) {
  // Rule: loop.tls.close-notify
  // Rule: transport.close.flushes-buffer
  ClientOfTlsPeer c;
  ASSERT_TRUE(c.connect());
  const std::string data = testing::pattern(500000, 3);
  c.protocol->transport->write(data);
  c.protocol->transport->close();
  EXPECT_TRUE(c.protocol->transport->is_closing());
  c.protocol->transport->write("dropped after close");
  ASSERT_TRUE(c.rig.run_until([&] { return c.protocol->lost_count == 1; }));
  auto seen = c.peer->snapshot();
  EXPECT_TRUE(seen.tls_close_notify_received);
  EXPECT_EQ(c.peer->received(), data);
  EXPECT_FALSE(c.protocol->lost_error.has_value());
  EXPECT_FALSE(seen.tls_error.has_value()) << *seen.tls_error;
}

TEST(TlsConnection, ConnectExchangeCloseAndARejectedHandshakeLeakNoDescriptor) {
  // Rule: proto.order.lost-exactly-once
  // Rule: loop.tls.verifies-certificate
  const int before = testing::count_open_fds();
  {
    TlsPair pair;
    ASSERT_TRUE(pair.establish());
    pair.client->transport->write("hello");
    ASSERT_TRUE(pair.rig.run_until([&] { return pair.server->received == "hello"; }));
    pair.client->transport->close();
    ASSERT_TRUE(pair.rig.run_until([&] { return pair.client->lost_count == 1 && pair.server->lost_count == 1; }));
    pair.listener->close();
  }
  {
    TlsPair rejected;
    rejected.start(tls_client_options(), tls_server_options(false));
    ASSERT_TRUE(rejected.rig.run_until([&] { return rejected.client_outcome.has_value(); }));
    EXPECT_FALSE(rejected.client_outcome->ok());
    rejected.listener->close();
  }
  EXPECT_EQ(testing::count_open_fds(), before);
}

TEST(TlsConnection, ShutdownTimeoutEndsAConnectionThePeerNeverCloses) {
  // Rule: loop.tls.shutdown-timeout
  ClientOfTlsPeer c;
  ConnectOptions options = tls_client_options();
  options.ssl_shutdown_timeout = Duration(0.1);
  ASSERT_TRUE(c.connect(options));
  c.peer->stop_reading();
  ASSERT_TRUE(c.rig.run_until([&] { return !c.peer->snapshot().reading; }));
  Duration started = c.rig.loop.time();
  c.protocol->transport->close();
  ASSERT_TRUE(c.rig.run_until([&] { return c.protocol->lost_count == 1; }));
  EXPECT_GE((c.rig.loop.time() - started).count(), 0.09);
  ASSERT_TRUE(c.protocol->lost_error.has_value());
  EXPECT_EQ(c.protocol->lost_error->type, "TimeoutError");
}

TEST(TlsConnection, PeerResetEndsWithConnectionResetError) {
  // Rule: proto.connection-lost.error-on-failure
  ClientOfTlsPeer c;
  ASSERT_TRUE(c.connect());
  c.peer->reset();
  ASSERT_TRUE(c.rig.run_until([&] { return c.protocol->lost_count == 1; }));
  ASSERT_TRUE(c.protocol->lost_error.has_value());
  EXPECT_EQ(c.protocol->lost_error->type, "ConnectionResetError");
}

TEST(TlsConnection, AbortEndsWithNoneAndDropsTheBacklog) {
  // Rule: write.abort.connection-lost
  // Rule: transport.closing.after-close
  TlsPair pair;
  ASSERT_TRUE(pair.establish());
  pair.client->transport->write(testing::pattern(1 << 20));
  pair.client->transport->abort();
  EXPECT_TRUE(pair.client->transport->is_closing());
  pair.client->transport->close();  // no second connection_lost
  ASSERT_TRUE(pair.rig.run_until([&] { return pair.client->lost_count == 1 && pair.server->lost_count == 1; }));
  pair.rig.runner.run_iterations(5);
  EXPECT_EQ(pair.client->lost_count, 1);
  EXPECT_FALSE(pair.client->lost_error.has_value());
  EXPECT_LT(pair.server->received.size(), std::size_t{1} << 20);
}

TEST(TlsConnection, TransportStaysCallableAfterConnectionLost) {
  // Machinery: the TLS protocol is gone, the application's transport still answers.
  // Rule: transport.closing.after-lost
  TlsPair pair;
  ASSERT_TRUE(pair.establish());
  auto transport = pair.client->transport;
  transport->close();
  ASSERT_TRUE(pair.rig.run_until([&] { return pair.client->lost_count == 1; }));
  pair.rig.runner.run_iterations(3);
  EXPECT_TRUE(transport->is_closing());
  EXPECT_FALSE(transport->is_reading());
  EXPECT_EQ(transport->get_protocol(), nullptr);
  EXPECT_EQ(transport->get_write_buffer_size(), 0u);
  EXPECT_TRUE(transport->get_extra_info("cipher").has_value());
  EXPECT_TRUE(transport->get_extra_info("peername").has_value());
  transport->write("ignored");
  transport->pause_reading();
  transport->resume_reading();
  transport->close();
  transport->abort();
  EXPECT_THROW(transport->set_write_buffer_limits(1, 2), ContractError);
}

TEST(TlsConnection, NothingOutlivesTheLoop) {
  // Machinery: a loop dropped with TLS connections open frees every object (no ownership cycle).
  std::weak_ptr<Transport> client_transport;
  std::weak_ptr<RecordingProtocol> client_protocol;
  {
    // OpenSSL may keep descriptors of its own (its random source) from the first use on.
    TlsPair warm_up;
    ASSERT_TRUE(warm_up.establish());
  }
  int fds_before = testing::count_open_fds();
  {
    TlsPair pair;
    ASSERT_TRUE(pair.establish());
    pair.client->transport->write(testing::pattern(100000));
    client_transport = pair.client->transport;
    client_protocol = pair.client;
    pair.client.reset();
    pair.server.reset();
    pair.listener.reset();
  }
  EXPECT_TRUE(client_transport.expired());
  EXPECT_TRUE(client_protocol.expired());
  EXPECT_EQ(testing::count_open_fds(), fds_before);
}

class NeitherKind : public StreamProtocol {};

TEST(TlsConnection, ApplicationProtocolMustBeAProtocolOrABufferedProtocol) {
  // Machinery: a protocol of another kind is a TypeError, on creation and in set_protocol.
  Rig rig;
  auto context = kit::TlsContext::create(*tls_client_options().ssl, false);
  try {
    kit::TlsProtocol::create(rig.loop, context, kit::TlsOptions{false, "localhost"}, std::make_shared<NeitherKind>(), nullptr);
    FAIL() << "no error";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "TypeError");
  }
  TlsPair pair;
  ASSERT_TRUE(pair.establish());
  try {
    pair.client->transport->set_protocol(std::make_shared<NeitherKind>());
    FAIL() << "no error";
  } catch (const ContractError& e) {
    EXPECT_EQ(e.error().type, "TypeError");
  }
  EXPECT_EQ(pair.client->transport->get_protocol(), pair.client);
}

}  // namespace
}  // namespace loopspec::reference
