#include "peer_tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <stdexcept>

namespace loopspec {

namespace {

std::string openssl_reason(const char* what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  std::string text = what;
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    text += std::string(": ") + (reason != nullptr ? reason : "unknown error");
  }
  return text;
}

[[noreturn]] void refuse(const std::string& what) { throw std::runtime_error("peer TLS: " + openssl_reason(what.c_str())); }

int choose_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                unsigned int offered_length, void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  unsigned char chosen_length = 0;
  if (SSL_select_next_proto(&chosen, &chosen_length, reinterpret_cast<const unsigned char*>(ours->data()),
                            static_cast<unsigned int>(ours->size()), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  *out_length = chosen_length;
  return SSL_TLSEXT_ERR_OK;
}

bool is_ip_literal(const std::string& host) {
  std::array<unsigned char, 16> scratch{};
  return ::inet_pton(AF_INET, host.c_str(), scratch.data()) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), scratch.data()) == 1;
}

}  // namespace

PeerTlsEngine::PeerTlsEngine(const PeerTls& options) {
  ERR_clear_error();
  for (const auto& name : options.alpn) {
    if (name.empty() || name.size() > 255) throw std::runtime_error("peer TLS: unusable ALPN name '" + name + "'");
    alpn_wire_ += static_cast<char>(name.size());
    alpn_wire_ += name;
  }
  context_ = SSL_CTX_new(options.server ? TLS_server_method() : TLS_client_method());
  if (context_ == nullptr) refuse("SSL_CTX_new");
  try {
    if (!options.cert_file.empty()) {
      const std::string& key = options.key_file.empty() ? options.cert_file : options.key_file;
      if (SSL_CTX_use_certificate_chain_file(context_, options.cert_file.c_str()) != 1) {
        refuse("certificate " + options.cert_file);
      }
      if (SSL_CTX_use_PrivateKey_file(context_, key.c_str(), SSL_FILETYPE_PEM) != 1) refuse("private key " + key);
    }
    if (!options.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(context_, options.ca_file.c_str(), nullptr) != 1) {
        refuse("CA file " + options.ca_file);
      }
      SSL_CTX_set_verify(context_, SSL_VERIFY_PEER | (options.server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
    }
    if (!alpn_wire_.empty()) {
      if (options.server) {
        SSL_CTX_set_alpn_select_cb(context_, choose_alpn, &alpn_wire_);
      } else if (SSL_CTX_set_alpn_protos(context_, reinterpret_cast<const unsigned char*>(alpn_wire_.data()),
                                         static_cast<unsigned int>(alpn_wire_.size())) != 0) {
        refuse("ALPN protocols");
      }
    }
    ssl_ = SSL_new(context_);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
      BIO_free(in_);
      BIO_free(out_);
      refuse("SSL_new");
    }
    BIO_set_mem_eof_return(in_, -1);
    BIO_set_mem_eof_return(out_, -1);
    SSL_set_bio(ssl_, in_, out_);
    if (options.server) {
      SSL_set_accept_state(ssl_);
    } else {
      SSL_set_connect_state(ssl_);
      const std::string& name = options.server_hostname;
      if (!name.empty()) {
        bool ip = is_ip_literal(name);
        if (!ip && SSL_set_tlsext_host_name(ssl_, name.c_str()) != 1) refuse("server_hostname " + name);
        if (!options.ca_file.empty()) {
          bool set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str()) == 1
                        : SSL_set1_host(ssl_, name.c_str()) == 1;
          if (!set) refuse("server_hostname " + name);
        }
      }
    }
  } catch (...) {
    SSL_free(ssl_);
    SSL_CTX_free(context_);
    throw;
  }
}

PeerTlsEngine::~PeerTlsEngine() {
  SSL_free(ssl_);
  SSL_CTX_free(context_);
}

void PeerTlsEngine::record_failure(const char* what) {
  long verdict = SSL_get_verify_result(ssl_);
  if ((SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) != 0 && verdict != X509_V_OK) {
    ERR_clear_error();
    error_ = std::string(what) + ": certificate verify failed: " + X509_verify_cert_error_string(verdict);
  } else {
    error_ = openssl_reason(what);
  }
}

void PeerTlsEngine::feed(const char* data, std::size_t size) {
  if (size > 0 && !failed()) BIO_write(in_, data, static_cast<int>(size));
}

bool PeerTlsEngine::handshake() {
  if (failed()) return false;
  if (handshake_done()) return true;
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_);
  if (result == 1) return true;
  int reason = SSL_get_error(ssl_, result);
  if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) return true;
  record_failure("handshake");
  return false;
}

bool PeerTlsEngine::handshake_done() const { return SSL_is_init_finished(ssl_) == 1; }

PeerTlsEngine::Read PeerTlsEngine::read(char* into, std::size_t size) {
  Read out;
  if (failed()) {
    out.failed = true;
    return out;
  }
  ERR_clear_error();
  std::size_t got = 0;
  if (SSL_read_ex(ssl_, into, size, &got) == 1) {
    out.bytes = got;
    return out;
  }
  switch (SSL_get_error(ssl_, 0)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      ERR_clear_error();
      return out;
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      out.close_notify = true;
      return out;
    default:
      record_failure("read");
      out.failed = true;
      return out;
  }
}

bool PeerTlsEngine::write(const char* data, std::size_t size) {
  if (failed()) return false;
  ERR_clear_error();
  std::size_t written = 0;
  if (size == 0 || SSL_write_ex(ssl_, data, size, &written) == 1) return true;
  record_failure("write");
  return false;
}

void PeerTlsEngine::close_notify() {
  if (failed() || close_notify_sent() || !handshake_done()) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

bool PeerTlsEngine::close_notify_sent() const { return (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0; }

std::string PeerTlsEngine::take_output() {
  std::string out(BIO_ctrl_pending(out_), '\0');
  if (out.empty()) return out;
  int got = BIO_read(out_, out.data(), static_cast<int>(out.size()));
  out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return out;
}

std::string PeerTlsEngine::alpn() const {
  const unsigned char* name = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &name, &length);
  return name != nullptr ? std::string(reinterpret_cast<const char*>(name), length) : std::string();
}

}  // namespace loopspec
