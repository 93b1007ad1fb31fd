#include "loopspec/tls_material.hpp"

#include <cstdlib>
#include <stdexcept>

#include "loopspec/shipped_data.hpp"


namespace loopspec {

TlsMaterial TlsMaterial::locate() {
  const char* overridden = std::getenv("LOOPSPEC_TLS_DIR");
  TlsMaterial material{overridden != nullptr && *overridden != '\0' ? overridden : shipped_data().tls_dir};
  for (const auto& file : {material.ca(), material.server_cert(), material.server_key(), material.untrusted_ca(),
                           material.untrusted_cert(), material.untrusted_key()}) {
    if (!std::filesystem::exists(file)) {
      throw std::runtime_error("TLS test material missing: " + file +
                               " (made by the build into its tls/ directory, installed into share/loopspec/tls; "
                               "set LOOPSPEC_TLS_DIR to another one)");
    }
  }
  return material;
}

}  // namespace loopspec
