// The TLS settings of the TLS scenarios and variants, all from the build's
// throwaway material (loopspec/tls_material.hpp).
//
// The backend's client trusts ca() and checks the name "localhost"; the
// backend's server presents server_cert() and asks for no client
// certificate. The peer plays the other side with the same material.
#pragma once

#include <memory>

#include "loopspec/event_loop.hpp"
#include "loopspec/peer.hpp"
#include "loopspec/tls_material.hpp"

namespace loopspec {

// The name every throwaway certificate is made out to.
inline constexpr const char* kTlsServerName = "localhost";

// For the backend.
std::shared_ptr<const TlsConfig> tls_client_config(const TlsMaterial& material);
std::shared_ptr<const TlsConfig> tls_server_config(const TlsMaterial& material);
ConnectOptions tls_connect_options(const TlsMaterial& material);
ServerOptions tls_server_options(const TlsMaterial& material);

// For the peer: a TLS server presenting server_cert(), and a client that verifies localhost against ca().
PeerTls peer_tls_server(const TlsMaterial& material);
PeerTls peer_tls_client(const TlsMaterial& material);

}  // namespace loopspec
