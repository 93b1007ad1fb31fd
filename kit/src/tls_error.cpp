#include "loopspec/kit/tls_error.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>

namespace loopspec::kit {

namespace {

// "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", as Python words it.
std::string describe(unsigned long code) {
  const char* reason = ERR_reason_error_string(code);
  std::string text = reason != nullptr ? reason : "unknown error";
  std::string upper;
  for (char c : text) upper += c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "[SSL: " + upper + "] " + text;
}

}  // namespace

Error take_openssl_error(const std::string& type, const std::string& fallback) {
  unsigned long first = ERR_get_error();
  ERR_clear_error();
  return Error{type, 0, first != 0 ? describe(first) : fallback};
}

Error take_session_error(const ssl_st* ssl, const std::string& fallback) {
  // Without verification OpenSSL still records a verdict, which then decided nothing.
  long verdict = (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0 ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verdict != X509_V_OK) {
    ERR_clear_error();
    return Error{"SSLCertVerificationError", 1,
                 std::string("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ") +
                     X509_verify_cert_error_string(verdict)};
  }
  return take_openssl_error("SSLError", fallback);
}

}  // namespace loopspec::kit
