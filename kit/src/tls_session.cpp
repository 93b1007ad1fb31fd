#include "loopspec/kit/tls_session.hpp"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>

#include "loopspec/kit/tls_error.hpp"

namespace loopspec::kit {

namespace {

bool is_ip_literal(const std::string& host) {
  std::array<unsigned char, 16> scratch{};
  return ::inet_pton(AF_INET, host.c_str(), scratch.data()) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), scratch.data()) == 1;
}

std::string utf8(const ASN1_STRING* value) {
  unsigned char* text = nullptr;
  int length = ASN1_STRING_to_UTF8(&text, value);
  if (length < 0) return {};
  std::string out(reinterpret_cast<char*>(text), static_cast<std::size_t>(length));
  OPENSSL_free(text);
  return out;
}

// Python's form: one RDN per entry, each a list of [long name, value] pairs.
nlohmann::json name_entries(const X509_NAME* name) {
  nlohmann::json rdns = nlohmann::json::array();
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    const char* key = nid != NID_undef ? OBJ_nid2ln(nid) : "unknown";
    rdns.push_back(nlohmann::json::array({nlohmann::json::array({key, utf8(X509_NAME_ENTRY_get_data(entry))})}));
  }
  return rdns;
}

std::string asn1_time(const ASN1_TIME* time) {
  BIO* out = BIO_new(BIO_s_mem());
  if (out == nullptr) return {};
  ASN1_TIME_print(out, time);
  char* data = nullptr;
  long length = BIO_get_mem_data(out, &data);
  std::string text(data, static_cast<std::size_t>(length));
  BIO_free(out);
  return text;
}

std::string serial_hex(const X509* certificate) {
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr);
  if (number == nullptr) return {};
  char* hex = BN_bn2hex(number);
  std::string text = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(number);
  return text;
}

nlohmann::json alt_names(const X509* certificate) {
  nlohmann::json names = nlohmann::json::array();
  auto* general = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (general == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(general); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(general, i);
    if (name->type == GEN_DNS) {
      names.push_back({"DNS", utf8(name->d.dNSName)});
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
      ::inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text);
      names.push_back({"IP Address", text});
    }
  }
  GENERAL_NAMES_free(general);
  return names;
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, const std::string& server_hostname)
    : context_(std::move(context)), server_hostname_(context_->server_side() ? "" : server_hostname) {
  ERR_clear_error();
  ssl_ = SSL_new(context_->native());
  incoming_ = BIO_new(BIO_s_mem());
  outgoing_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || incoming_ == nullptr || outgoing_ == nullptr) {
    BIO_free(incoming_);
    BIO_free(outgoing_);
    SSL_free(ssl_);
    ssl_ = nullptr;
    throw ContractError(take_openssl_error("SSLError", "cannot create a TLS session"));
  }
  // An empty buffer means "more to come", never end of file: the stream's EOF travels separately.
  BIO_set_mem_eof_return(incoming_, -1);
  BIO_set_mem_eof_return(outgoing_, -1);
  SSL_set_bio(ssl_, incoming_, outgoing_);
  if (context_->server_side()) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (server_hostname_.empty()) return;
  bool ip = is_ip_literal(server_hostname_);
  bool named = ip || SSL_set_tlsext_host_name(ssl_, server_hostname_.c_str()) == 1;
  if (named && context_->verify_peer()) {
    named = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), server_hostname_.c_str()) == 1
               : SSL_set1_host(ssl_, server_hostname_.c_str()) == 1;
  }
  if (!named) {
    ERR_clear_error();
    SSL_free(ssl_);
    ssl_ = nullptr;
    throw ContractError(Error{"ValueError", 0, "unusable server_hostname '" + server_hostname_ + "'"});
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::Status TlsSession::fail(const std::string& fallback) {
  error_ = take_session_error(ssl_, fallback);
  return Status::Failed;
}

TlsSession::Status TlsSession::classify(int result, const char* what) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      ERR_clear_error();
      return Status::WantMore;
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      return Status::Closed;
    default:
      return fail(std::string(what) + " failed");
  }
}

TlsSession::Status TlsSession::handshake() {
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_);
  if (result == 1) return Status::Done;
  Status status = classify(result, "TLS handshake");
  // A close_notify before the handshake ends is a failed handshake, not an EOF.
  if (status == Status::Closed) {
    error_ = Error{"SSLError", 0, "[SSL: UNEXPECTED_EOF_WHILE_READING] the peer closed during the handshake"};
    return Status::Failed;
  }
  return status;
}

bool TlsSession::handshake_done() const { return SSL_is_init_finished(ssl_) == 1; }

void TlsSession::feed(std::string_view ciphertext) {
  // A memory BIO takes everything (it grows); the length is bounded by one read.
  if (!ciphertext.empty()) BIO_write(incoming_, ciphertext.data(), static_cast<int>(ciphertext.size()));
}

std::size_t TlsSession::incoming_pending() const { return BIO_ctrl_pending(incoming_); }
std::size_t TlsSession::outgoing_pending() const { return BIO_ctrl_pending(outgoing_); }
std::size_t TlsSession::plaintext_pending() const { return static_cast<std::size_t>(SSL_pending(ssl_)); }

std::string TlsSession::take_outgoing() {
  std::string out(outgoing_pending(), '\0');
  if (out.empty()) return out;
  int got = BIO_read(outgoing_, out.data(), static_cast<int>(out.size()));
  out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return out;
}

void TlsSession::discard_outgoing() { (void)BIO_reset(outgoing_); }

TlsSession::Result TlsSession::read(std::span<char> into) {
  ERR_clear_error();
  std::size_t got = 0;
  int result = SSL_read_ex(ssl_, into.data(), into.size(), &got);
  if (result == 1) return {got, Status::Done};
  return {0, classify(0, "TLS read")};
}

TlsSession::Status TlsSession::peek() {
  ERR_clear_error();
  char byte;
  std::size_t got = 0;
  if (SSL_peek_ex(ssl_, &byte, 1, &got) == 1) return Status::Done;
  return classify(0, "TLS read");
}

TlsSession::Result TlsSession::write(std::string_view plaintext) {
  if (plaintext.empty()) return {0, Status::Done};
  ERR_clear_error();
  std::size_t written = 0;
  if (SSL_write_ex(ssl_, plaintext.data(), plaintext.size(), &written) == 1) return {written, Status::Done};
  return {0, classify(0, "TLS write")};
}

TlsSession::Status TlsSession::shutdown() {
  ERR_clear_error();
  if ((SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) == 0) {
    int result = SSL_shutdown(ssl_);
    if (result < 0) {
      Status status = classify(result, "TLS shutdown");
      if (status == Status::Failed) return status;
    }
  }
  // Application data may still come before the peer's close_notify: read and drop it.
  std::array<char, 16 * 1024> scratch;
  while ((SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) == 0) {
    Result dropped = read(scratch);
    if (dropped.status == Status::Closed) break;
    if (dropped.status != Status::Done) return dropped.status;
  }
  return Status::Done;
}

bool TlsSession::close_notify_received() const { return (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0; }

nlohmann::json TlsSession::cipher() const {
  const SSL_CIPHER* current = SSL_get_current_cipher(ssl_);
  if (current == nullptr) return nullptr;
  return nlohmann::json::array(
      {SSL_CIPHER_get_name(current), SSL_CIPHER_get_version(current), SSL_CIPHER_get_bits(current, nullptr)});
}

nlohmann::json TlsSession::compression() const {
  // OpenSSL 3 never compresses TLS records.
  return nullptr;
}

std::optional<nlohmann::json> TlsSession::peercert() const {
  X509* certificate = SSL_get1_peer_certificate(ssl_);
  if (certificate == nullptr) return std::nullopt;
  nlohmann::json out = nlohmann::json::object();
  // Python returns {} for a certificate it did not validate.
  if ((SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) != 0 && SSL_get_verify_result(ssl_) == X509_V_OK) {
    out["subject"] = name_entries(X509_get_subject_name(certificate));
    out["issuer"] = name_entries(X509_get_issuer_name(certificate));
    out["version"] = X509_get_version(certificate) + 1;
    out["serialNumber"] = serial_hex(certificate);
    out["notBefore"] = asn1_time(X509_get0_notBefore(certificate));
    out["notAfter"] = asn1_time(X509_get0_notAfter(certificate));
    auto names = alt_names(certificate);
    if (!names.empty()) out["subjectAltName"] = std::move(names);
  }
  X509_free(certificate);
  return out;
}

std::string TlsSession::selected_alpn() const {
  const unsigned char* name = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &name, &length);
  return name != nullptr ? std::string(reinterpret_cast<const char*>(name), length) : std::string();
}

nlohmann::json TlsSession::describe() const {
  std::string alpn = selected_alpn();
  return nlohmann::json{{"version", SSL_get_version(ssl_)},
                        {"server_side", context_->server_side()},
                        {"server_hostname", server_hostname_.empty() ? nlohmann::json(nullptr) : nlohmann::json(server_hostname_)},
                        {"selected_alpn_protocol", alpn.empty() ? nlohmann::json(nullptr) : nlohmann::json(alpn)}};
}

}  // namespace loopspec::kit
