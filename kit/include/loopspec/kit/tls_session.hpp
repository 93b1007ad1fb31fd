// One TLS connection's OpenSSL state over memory buffers (asyncio's
// ssl.SSLObject with its two MemoryBIOs): ciphertext goes in with feed() and
// comes out with take_outgoing(); plaintext passes through read() and
// write(). No socket is touched, so the caller decides when bytes move.
//
// Promises:
// - Every operation reports a Status; Failed leaves the canonical error in
//   error() (tls_error.hpp) and the session unusable.
// - Client side: server_hostname is sent as SNI (names, not IP literals) and,
//   when the context verifies, the certificate must match it.
// - write() takes all of the plaintext (the outgoing buffer grows), so the
//   caller alone decides how much to encrypt at a time.
// - shutdown() sends close_notify on its first call; it answers Done once the
//   peer's close_notify has arrived too, discarding application data that
//   comes before it.
// - The queries answer in the canonical JSON of get_extra_info (Python's
//   ssl.SSLObject methods: cipher(), compression(), getpeercert()).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "loopspec/error.hpp"
#include "loopspec/kit/tls_context.hpp"

struct ssl_st;
struct bio_st;

namespace loopspec::kit {

class TlsSession {
 public:
  enum class Status { Done, WantMore, Closed, Failed };
  struct Result {
    std::size_t bytes = 0;
    Status status = Status::Done;
  };

  // Throws ContractError (SSLError, or ValueError for an unusable server_hostname).
  TlsSession(std::shared_ptr<const TlsContext> context, const std::string& server_hostname);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // One handshake step: Done when complete, WantMore while the peer's bytes are needed.
  Status handshake();
  bool handshake_done() const;

  void feed(std::string_view ciphertext);
  std::size_t incoming_pending() const;
  std::size_t plaintext_pending() const;  // decrypted, not yet read
  std::size_t outgoing_pending() const;
  std::string take_outgoing();
  void discard_outgoing();

  // Done with bytes > 0, WantMore (nothing decrypted yet), Closed (the peer's close_notify) or Failed.
  Result read(std::span<char> into);
  // Like read() without consuming: Done when plaintext is ready.
  Status peek();
  Result write(std::string_view plaintext);
  Status shutdown();
  bool close_notify_received() const;

  const Error& error() const { return error_; }

  nlohmann::json cipher() const;
  nlohmann::json compression() const;  // null: not compressed
  // getpeercert(): the certificate's fields; {} when it was not verified; nullopt without one.
  std::optional<nlohmann::json> peercert() const;
  // The canonical get_extra_info('ssl_object'): version, side, name, ALPN.
  nlohmann::json describe() const;
  std::string selected_alpn() const;  // "" when none was negotiated

 private:
  Status fail(const std::string& fallback);
  // Maps the result of an SSL call to a Status (Failed records the error).
  Status classify(int result, const char* what);

  std::shared_ptr<const TlsContext> context_;
  std::string server_hostname_;
  ssl_st* ssl_ = nullptr;
  bio_st* incoming_ = nullptr;  // owned by ssl_
  bio_st* outgoing_ = nullptr;  // owned by ssl_
  Error error_;
};

}  // namespace loopspec::kit
