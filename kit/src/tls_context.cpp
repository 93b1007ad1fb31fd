#include "loopspec/kit/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/kit/tls_error.hpp"

namespace loopspec::kit {

namespace {

[[noreturn]] void fail_with_openssl(const std::string& what) {
  throw ContractError(take_openssl_error("SSLError", what));
}

// Python's load_cert_chain/load_verify_locations raise FileNotFoundError first.
void require_readable(const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) {
    int err = errno;
    throw ContractError(Error::from_errno(err, path));
  }
}

std::string alpn_wire_format(const std::vector<std::string>& names) {
  std::string wire;
  for (const auto& name : names) {
    if (name.empty() || name.size() > 255) {
      throw ContractError(Error{"ValueError", 0, "ALPN protocol names must be 1 to 255 bytes long: '" + name + "'"});
    }
    wire += static_cast<char>(name.size());
    wire += name;
  }
  return wire;
}

// Server side: the first of the server's names that the client offered.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                unsigned int offered_length, void* arg) {
  const auto* context = static_cast<const TlsContext*>(arg);
  const std::string& ours = context->alpn_wire();
  unsigned char* chosen = nullptr;
  unsigned char chosen_length = 0;
  int verdict = SSL_select_next_proto(&chosen, &chosen_length, reinterpret_cast<const unsigned char*>(ours.data()),
                                      static_cast<unsigned int>(ours.size()), offered, offered_length);
  if (verdict != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  *out_length = chosen_length;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::shared_ptr<const TlsContext> TlsContext::create(const TlsConfig& config, bool server_side) {
  std::string alpn_wire = alpn_wire_format(config.alpn);
  ERR_clear_error();
  SSL_CTX* native = SSL_CTX_new(server_side ? TLS_server_method() : TLS_client_method());
  if (native == nullptr) fail_with_openssl("cannot create a TLS context");
  // Owned from here on, so every failure below frees it.
  auto context = std::make_shared<TlsContext>(Passkey{}, native, server_side, config, std::move(alpn_wire));
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);

  if (!config.cert_file.empty()) {
    const std::string& key = config.key_file.empty() ? config.cert_file : config.key_file;
    require_readable(config.cert_file);
    require_readable(key);
    if (SSL_CTX_use_certificate_chain_file(native, config.cert_file.c_str()) != 1) {
      fail_with_openssl("cannot load the certificate " + config.cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      fail_with_openssl("cannot load the private key " + key);
    }
    if (SSL_CTX_check_private_key(native) != 1) fail_with_openssl("the private key does not match the certificate");
  } else if (server_side) {
    throw ContractError(Error{"ValueError", 0, "a TLS server needs cert_file and key_file"});
  }

  if (config.verify_peer) {
    if (!config.ca_file.empty()) {
      require_readable(config.ca_file);
      if (SSL_CTX_load_verify_locations(native, config.ca_file.c_str(), nullptr) != 1) {
        fail_with_openssl("cannot load the CA file " + config.ca_file);
      }
    } else if (SSL_CTX_set_default_verify_paths(native) != 1) {
      fail_with_openssl("cannot load the system's certificate authorities");
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | (server_side ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  }

  if (!context->alpn_wire_.empty()) {
    if (server_side) {
      SSL_CTX_set_alpn_select_cb(native, select_alpn, const_cast<TlsContext*>(context.get()));
    } else if (SSL_CTX_set_alpn_protos(native, reinterpret_cast<const unsigned char*>(context->alpn_wire_.data()),
                                       static_cast<unsigned int>(context->alpn_wire_.size())) != 0) {
      fail_with_openssl("cannot set the ALPN protocols");
    }
  }
  return context;
}

TlsContext::TlsContext(Passkey, ssl_ctx_st* native, bool server_side, const TlsConfig& config, std::string alpn_wire)
    : native_(native),
      server_side_(server_side),
      verify_peer_(config.verify_peer),
      alpn_(config.alpn),
      alpn_wire_(std::move(alpn_wire)) {}

TlsContext::~TlsContext() { SSL_CTX_free(native_); }

void prepare_tls() {
  static const bool prepared = [] {
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr);
    // A context and a session of each side fetch and cache what every later one needs.
    for (const SSL_METHOD* method : {TLS_client_method(), TLS_server_method()}) {
      SSL_CTX* context = SSL_CTX_new(method);
      if (context != nullptr) SSL_free(SSL_new(context));
      SSL_CTX_free(context);
    }
    ERR_clear_error();
    return true;
  }();
  (void)prepared;
}

nlohmann::json TlsContext::describe() const {
  return nlohmann::json{{"protocol", server_side_ ? "PROTOCOL_TLS_SERVER" : "PROTOCOL_TLS_CLIENT"},
                        {"verify_mode", verify_peer_ ? "CERT_REQUIRED" : "CERT_NONE"},
                        {"check_hostname", verify_peer_ && !server_side_},
                        {"alpn_protocols", alpn_}};
}

}  // namespace loopspec::kit
