// The TLS settings of one create_connection/create_server call as an OpenSSL
// context: asyncio's ssl.SSLContext, built from a loopspec::TlsConfig.
//
// Promises:
// - Client side: TLS 1.2 or later; with verify_peer, the server's chain must
//   lead to ca_file (the system's roots when ca_file is empty) and its name to
//   the session's server_hostname (tls_session.hpp); without it nothing is
//   checked. cert_file/key_file, when given, are the client certificate.
// - Server side: cert_file and key_file are required; with verify_peer a client
//   certificate leading to ca_file is required too (the Python driver builds
//   its server contexts the same way).
// - alpn: the client offers the names in order; the server picks the first of
//   its own names the client offered, and negotiates none without overlap.
// - Bad material fails create() with the canonical error asyncio raises:
//   FileNotFoundError for a missing file, SSLError for unusable content,
//   ValueError for a server without a certificate or an unusable ALPN name.
// - Immutable once created; sessions share it (shared_ptr).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loopspec/event_loop.hpp"

struct ssl_ctx_st;

namespace loopspec::kit {

class TlsContext {
  struct Passkey {};

 public:
  static std::shared_ptr<const TlsContext> create(const TlsConfig& config, bool server_side);

  // Takes ownership of native.
  TlsContext(Passkey, ssl_ctx_st* native, bool server_side, const TlsConfig& config, std::string alpn_wire);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const { return native_; }
  bool server_side() const { return server_side_; }
  bool verify_peer() const { return verify_peer_; }
  // The ALPN names in the wire format (length-prefixed), as the server's choice list.
  const std::string& alpn_wire() const { return alpn_wire_; }

  // The canonical get_extra_info('sslcontext'): what the context checks and offers.
  nlohmann::json describe() const;

 private:
  ssl_ctx_st* native_;
  bool server_side_;
  bool verify_peer_;
  std::vector<std::string> alpn_;
  std::string alpn_wire_;
};

// Runs OpenSSL's one-time setup (configuration, algorithm tables: several
// milliseconds) now, so processes forked later (one per scenario) inherit it
// instead of each paying for it. Idempotent.
void prepare_tls();

}  // namespace loopspec::kit
