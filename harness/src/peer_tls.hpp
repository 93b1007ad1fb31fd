// The peer's TLS endpoint: OpenSSL over memory buffers, so the peer's own
// poll loop keeps moving the bytes (peer.cpp). Written apart from the
// reference loop's TLS code on purpose: the judge must not share the code it
// judges.
//
// Promises:
// - Built from PeerTls (peer.hpp); throws std::runtime_error naming the file
//   or setting that OpenSSL refused.
// - handshake() advances the handshake with what was fed; a client's first
//   call produces its hello. Everything to send goes to take_output().
// - A failure (handshake or later) leaves its text in error(); the engine
//   then refuses to read or write.
#pragma once

#include <cstddef>
#include <string>

#include "loopspec/peer.hpp"

struct ssl_st;
struct ssl_ctx_st;
struct bio_st;

namespace loopspec {

class PeerTlsEngine {
 public:
  explicit PeerTlsEngine(const PeerTls& options);
  ~PeerTlsEngine();
  PeerTlsEngine(const PeerTlsEngine&) = delete;
  PeerTlsEngine& operator=(const PeerTlsEngine&) = delete;

  void feed(const char* data, std::size_t size);
  // False once the handshake failed; handshake_done() tells whether it finished.
  bool handshake();
  bool handshake_done() const;

  struct Read {
    std::size_t bytes = 0;        // plaintext read
    bool close_notify = false;    // the other side's close_notify arrived
    bool failed = false;          // see error()
  };
  Read read(char* into, std::size_t size);
  // Encrypts all of data; false on failure.
  bool write(const char* data, std::size_t size);
  // Queues this side's close_notify (once).
  void close_notify();
  bool close_notify_sent() const;

  std::string take_output();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  std::string alpn() const;

 private:
  void record_failure(const char* what);

  ssl_ctx_st* context_ = nullptr;
  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;   // owned by ssl_
  bio_st* out_ = nullptr;  // owned by ssl_
  std::string alpn_wire_;  // the server's choice list
  std::string error_;
};

}  // namespace loopspec
