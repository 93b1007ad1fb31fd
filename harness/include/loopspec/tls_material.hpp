// The throwaway TLS material the build makes (cmake/TlsTestMaterial.cmake)
// for TLS scenarios and tests: where it is and which file is which.
//
// Promise: locate() takes the directory from $LOOPSPEC_TLS_DIR, else the
// shipped one (shipped_data.hpp), and throws std::runtime_error naming the directory (and the
// variable that overrides it) when a file is missing, so a moved or
// incomplete installation fails clearly instead of as a handshake error.
#pragma once

#include <filesystem>
#include <string>

namespace loopspec {

struct TlsMaterial {
  std::filesystem::path dir;

  std::string ca() const { return (dir / "ca.pem").string(); }  // the authority the tests trust
  std::string server_cert() const { return (dir / "server.pem").string(); }  // localhost, 127.0.0.1; signed by ca()
  std::string server_key() const { return (dir / "server.key").string(); }
  std::string untrusted_ca() const { return (dir / "untrusted-ca.pem").string(); }  // trusted by nobody
  std::string untrusted_cert() const { return (dir / "untrusted.pem").string(); }  // same names, signed by untrusted_ca()
  std::string untrusted_key() const { return (dir / "untrusted.key").string(); }

  static TlsMaterial locate();
};

}  // namespace loopspec
