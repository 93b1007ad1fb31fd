#include "loopspec/tls_material.hpp"

#include <cstdlib>
#include <stdexcept>

#ifndef LOOPSPEC_TLS_DIR
#error "LOOPSPEC_TLS_DIR must be defined by the build"
#endif

namespace loopspec {

TlsMaterial TlsMaterial::locate() {
  const char* overridden = std::getenv("LOOPSPEC_TLS_DIR");
  TlsMaterial material{overridden != nullptr && *overridden != '\0' ? overridden : LOOPSPEC_TLS_DIR};
  for (const auto& file : {material.ca(), material.server_cert(), material.server_key(), material.untrusted_ca(),
                           material.untrusted_cert(), material.untrusted_key()}) {
    if (!std::filesystem::exists(file)) {
      throw std::runtime_error("TLS test material missing: " + file +
                               " (built into the build tree's tls/ directory; set LOOPSPEC_TLS_DIR to another one)");
    }
  }
  return material;
}

}  // namespace loopspec
