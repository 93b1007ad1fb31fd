#include "loopspec/conformance/tls_settings.hpp"

namespace loopspec {

std::shared_ptr<const TlsConfig> tls_client_config(const TlsMaterial& material) {
  auto config = std::make_shared<TlsConfig>();
  config->ca_file = material.ca();
  config->verify_peer = true;
  return config;
}

std::shared_ptr<const TlsConfig> tls_server_config(const TlsMaterial& material) {
  auto config = std::make_shared<TlsConfig>();
  config->cert_file = material.server_cert();
  config->key_file = material.server_key();
  config->verify_peer = false;  // no client certificate
  return config;
}

ConnectOptions tls_connect_options(const TlsMaterial& material) {
  ConnectOptions options;
  options.ssl = tls_client_config(material);
  options.server_hostname = kTlsServerName;
  return options;
}

ServerOptions tls_server_options(const TlsMaterial& material) {
  ServerOptions options;
  options.ssl = tls_server_config(material);
  return options;
}

PeerTls peer_tls_server(const TlsMaterial& material) {
  PeerTls tls;
  tls.server = true;
  tls.cert_file = material.server_cert();
  tls.key_file = material.server_key();
  return tls;
}

PeerTls peer_tls_client(const TlsMaterial& material) {
  PeerTls tls;
  tls.server = false;
  tls.ca_file = material.ca();
  tls.server_hostname = kTlsServerName;
  return tls;
}

}  // namespace loopspec
