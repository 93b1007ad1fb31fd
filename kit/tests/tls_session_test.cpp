// The TLS building blocks without a loop: contexts built from TlsConfig
// (tls_context.hpp) and two sessions (tls_session.hpp) wired back to back in
// memory, so every byte between them is moved by the test.
#include "loopspec/kit/tls_session.hpp"

#include <gtest/gtest.h>

#include "loopspec/tls_material.hpp"

namespace loopspec::kit {
namespace {

const TlsMaterial& tls_material() {
  static const TlsMaterial material = TlsMaterial::locate();
  return material;
}
using Status = TlsSession::Status;

TlsConfig client_config() {
  TlsConfig config;
  config.ca_file = tls_material().ca();
  return config;
}

TlsConfig server_config(bool trusted = true) {
  TlsConfig config;
  config.cert_file = trusted ? tls_material().server_cert() : tls_material().untrusted_cert();
  config.key_file = trusted ? tls_material().server_key() : tls_material().untrusted_key();
  config.verify_peer = false;
  return config;
}

Error creation_error(const TlsConfig& config, bool server_side) {
  try {
    TlsContext::create(config, server_side);
  } catch (const ContractError& e) {
    return e.error();
  }
  return Error{"none", 0, ""};
}

// Moves the bytes each side has for the other until neither has any.
void shuttle(TlsSession& a, TlsSession& b) {
  for (int turn = 0; turn < 16; ++turn) {
    std::string ab = a.take_outgoing();
    std::string ba = b.take_outgoing();
    if (ab.empty() && ba.empty()) return;
    b.feed(ab);
    a.feed(ba);
  }
}

// Runs both handshakes to their end; the pair of final statuses.
std::pair<Status, Status> handshake(TlsSession& client, TlsSession& server) {
  Status c = Status::WantMore;
  Status s = Status::WantMore;
  for (int turn = 0; turn < 16 && (c == Status::WantMore || s == Status::WantMore); ++turn) {
    if (c == Status::WantMore) c = client.handshake();
    shuttle(client, server);
    if (s == Status::WantMore) s = server.handshake();
    shuttle(client, server);
  }
  return {c, s};
}

std::string read_all(TlsSession& session) {
  std::string out;
  char buffer[4096];
  for (;;) {
    auto got = session.read(buffer);
    if (got.status != Status::Done) return out;
    out.append(buffer, got.bytes);
  }
}

TEST(TlsContext, MissingFilesAndBadSettingsAreCanonicalErrors) {
  // Machinery: bad input gets the error asyncio raises, never a crash.
  TlsConfig missing = server_config();
  missing.cert_file = "/nonexistent/loopspec-cert.pem";
  EXPECT_EQ(creation_error(missing, true).type, "FileNotFoundError");
  TlsConfig no_cert;
  EXPECT_EQ(creation_error(no_cert, true).type, "ValueError");
  TlsConfig bad_alpn = client_config();
  bad_alpn.alpn = {""};
  EXPECT_EQ(creation_error(bad_alpn, false).type, "ValueError");
  TlsConfig not_a_certificate = server_config();
  not_a_certificate.cert_file = tls_material().server_key();  // a key, not a certificate
  EXPECT_EQ(creation_error(not_a_certificate, true).type, "SSLError");
  TlsConfig wrong_key = server_config();
  wrong_key.key_file = tls_material().untrusted_key();
  EXPECT_EQ(creation_error(wrong_key, true).type, "SSLError");
}

TEST(TlsContext, DescribesWhatItChecks) {
  // Machinery: the canonical 'sslcontext' value.
  auto client = TlsContext::create(client_config(), false);
  EXPECT_EQ(client->describe()["verify_mode"], "CERT_REQUIRED");
  EXPECT_EQ(client->describe()["check_hostname"], true);
  auto server = TlsContext::create(server_config(), true);
  EXPECT_EQ(server->describe()["protocol"], "PROTOCOL_TLS_SERVER");
  EXPECT_EQ(server->describe()["verify_mode"], "CERT_NONE");
}

TEST(TlsSession, HandshakeThenDataBothWaysThenCloseNotify) {
  // Machinery: the memory-buffer session end to end.
  TlsSession client(TlsContext::create(client_config(), false), "localhost");
  TlsSession server(TlsContext::create(server_config(), true), "");
  auto [c, s] = handshake(client, server);
  ASSERT_EQ(c, Status::Done) << client.error().to_string();
  ASSERT_EQ(s, Status::Done) << server.error().to_string();
  EXPECT_TRUE(client.handshake_done());

  const std::string hello(100000, 'h');
  EXPECT_EQ(client.write(hello).bytes, hello.size());
  EXPECT_GT(client.outgoing_pending(), hello.size());  // the ciphertext, records and all
  shuttle(client, server);
  EXPECT_EQ(read_all(server), hello);
  server.write("reply");
  shuttle(client, server);
  EXPECT_EQ(read_all(client), "reply");

  EXPECT_EQ(client.shutdown(), Status::WantMore);  // close_notify sent, the server's still to come
  shuttle(client, server);
  char byte;
  EXPECT_EQ(server.read({&byte, 1}).status, Status::Closed);
  EXPECT_TRUE(server.close_notify_received());
  EXPECT_EQ(server.shutdown(), Status::Done);  // answers at once: the client's already arrived
  shuttle(client, server);
  EXPECT_EQ(client.shutdown(), Status::Done);
}

TEST(TlsSession, ExtraInfoInPythonsForms) {
  // Rule: transport.extra-info.ssl-cipher-triple
  // Rule: transport.extra-info.ssl-compression-name-or-none
  TlsSession client(TlsContext::create(client_config(), false), "localhost");
  TlsSession server(TlsContext::create(server_config(), true), "");
  ASSERT_EQ(handshake(client, server).first, Status::Done);
  auto cipher = client.cipher();
  ASSERT_TRUE(cipher.is_array());
  ASSERT_EQ(cipher.size(), 3u);
  EXPECT_FALSE(cipher[0].get<std::string>().empty());
  EXPECT_EQ(cipher[1], "TLSv1.3");
  EXPECT_GT(cipher[2].get<int>(), 0);
  EXPECT_TRUE(client.compression().is_null());
  auto certificate = client.peercert();
  ASSERT_TRUE(certificate.has_value());
  EXPECT_EQ((*certificate)["subject"], nlohmann::json::parse(R"([[["commonName", "localhost"]]])"));
  EXPECT_EQ((*certificate)["subjectAltName"],
            nlohmann::json::parse(R"([["DNS", "localhost"], ["IP Address", "127.0.0.1"]])"));
  EXPECT_EQ((*certificate)["serialNumber"], "1001");
  // The server asked for no client certificate.
  EXPECT_FALSE(server.peercert().has_value());
  EXPECT_EQ(client.describe()["server_hostname"], "localhost");
  EXPECT_EQ(server.describe()["server_side"], true);
}

TEST(TlsSession, VerificationRejectsAnUntrustedAuthorityAndAnotherName) {
  // Rule: loop.tls.verifies-certificate
  {
    TlsSession client(TlsContext::create(client_config(), false), "localhost");
    TlsSession server(TlsContext::create(server_config(false), true), "");
    EXPECT_EQ(handshake(client, server).first, Status::Failed);
    EXPECT_EQ(client.error().type, "SSLCertVerificationError");
  }
  {
    TlsSession client(TlsContext::create(client_config(), false), "elsewhere.invalid");
    TlsSession server(TlsContext::create(server_config(), true), "");
    EXPECT_EQ(handshake(client, server).first, Status::Failed);
    EXPECT_EQ(client.error().type, "SSLCertVerificationError");
  }
  {
    // An IP literal is checked against the certificate's IP addresses.
    TlsSession client(TlsContext::create(client_config(), false), "127.0.0.1");
    TlsSession server(TlsContext::create(server_config(), true), "");
    EXPECT_EQ(handshake(client, server).first, Status::Done) << client.error().to_string();
  }
  {
    TlsConfig trusting = client_config();
    trusting.verify_peer = false;
    TlsSession client(TlsContext::create(trusting, false), "localhost");
    TlsSession server(TlsContext::create(server_config(false), true), "");
    EXPECT_EQ(handshake(client, server).first, Status::Done);
    EXPECT_EQ(client.peercert(), nlohmann::json::object());  // not validated: {} as in Python
  }
}

TEST(TlsSession, AlpnServerPicksItsFirstThatTheClientOffers) {
  // Rule: loop.tls.alpn
  TlsConfig offering = client_config();
  offering.alpn = {"spdy/3", "http/1.1", "h2"};
  TlsConfig choosing = server_config();
  choosing.alpn = {"h2", "http/1.1"};
  TlsSession client(TlsContext::create(offering, false), "localhost");
  TlsSession server(TlsContext::create(choosing, true), "");
  ASSERT_EQ(handshake(client, server).first, Status::Done);
  EXPECT_EQ(client.selected_alpn(), "h2");
  EXPECT_EQ(server.selected_alpn(), "h2");

  TlsConfig disjoint = client_config();
  disjoint.alpn = {"spdy/3"};
  TlsSession other(TlsContext::create(disjoint, false), "localhost");
  TlsSession other_server(TlsContext::create(choosing, true), "");
  ASSERT_EQ(handshake(other, other_server).first, Status::Done);
  EXPECT_EQ(other.selected_alpn(), "");
}

TEST(TlsSession, ApplicationDataBeforeThePeersCloseNotifyIsDropped) {
  // Machinery: shutdown() reads past data the peer sent before answering.
  TlsSession client(TlsContext::create(client_config(), false), "localhost");
  TlsSession server(TlsContext::create(server_config(), true), "");
  ASSERT_EQ(handshake(client, server).first, Status::Done);
  shuttle(client, server);
  EXPECT_EQ(client.shutdown(), Status::WantMore);
  server.write("late data");
  shuttle(client, server);
  EXPECT_EQ(server.shutdown(), Status::Done);
  shuttle(client, server);
  EXPECT_EQ(client.shutdown(), Status::Done);
}

}  // namespace
}  // namespace loopspec::kit
