// The peer: the other end of a stream, owned by the harness.
//
// A Peer runs its own thread with a poll loop, so it acts while the backend's
// loop runs. Commands (send, stop/resume reading, shutdown, close, reset) are
// queued and executed in order on that thread. Everything it observes (bytes
// in, EOF, reset, bytes out) is readable from any thread, and every change
// calls the notify hook from the peer thread, so a scenario can wake its loop
// with call_soon_threadsafe instead of sleeping.
// Promise: the peer never blocks the caller; destroying it joins the thread
// and closes the socket. Every descriptor it opens is close-on-exec.
//
// Command semantics, in queue order:
//   send            appends to the send queue (sent as the kernel accepts it)
//   stop_reading    stops polling for input, so the kernel buffers fill and
//                   back-pressure builds on the other side; resume_reading
//                   starts again
//   shutdown_write  waits until the send queue is empty, then shutdown(SHUT_WR)
//   close           waits until the send queue is empty, then close()
//   reset           at once: discards the send queue, SO_LINGER {1,0}, close()
//                   (TCP sends RST; a Unix socket has no RST and just closes)
// Later commands wait behind a shutdown_write/close that waits for the queue.
// Data sent after shutdown_write, and any command after close/reset, is
// discarded. A send error (the other side gone) discards the send queue.
// Socket errors are observed even while not reading.
//
// TLS (the PeerTls overloads): the peer speaks TLS over its socket in the
// given role. The handshake starts at once; data queued before it finishes
// waits for it. Counts, digests and EOF are about the plaintext: bytes_sent
// counts plaintext encrypted once the kernel took the previous record (so a
// peer that is not read still builds back-pressure), eof_received is the
// other side's close_notify or the socket's EOF. shutdown_write and close send
// close_notify first (then shutdown(SHUT_WR) or close()); the peer answers
// the other side's close_notify with its own once its send queue is empty,
// as a TLS endpoint does; reset sends no close_notify.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/address.hpp"
#include "loopspec/event_loop.hpp"

namespace loopspec {

struct PeerSnapshot {
  std::uint64_t bytes_received = 0;
  std::string received_digest;  // Digest of everything received so far
  std::uint64_t bytes_sent = 0;  // accepted by the kernel
  std::string sent_digest;
  bool eof_received = false;     // the other side shut down its write end
  bool reset_received = false;   // ECONNRESET or EPIPE seen
  bool closed = false;           // this peer closed or reset its socket
  bool write_shutdown = false;   // this peer shut down its write end
  bool reading = true;
  std::uint64_t send_queue = 0;  // bytes queued but not yet accepted by the kernel
  std::optional<int> error;      // errno of the first socket error
  // TLS only.
  bool tls_handshake_done = false;
  std::string tls_alpn;                  // the protocol ALPN selected ("" for none)
  bool tls_close_notify_received = false;
  std::optional<std::string> tls_error;  // the first TLS failure (handshake or later)
};

// The peer's side of a TLS connection.
struct PeerTls {
  bool server = false;            // this peer's role in the handshake
  std::string cert_file;          // required for a server; a client certificate otherwise
  std::string key_file;           // "" : the key is in cert_file
  std::string ca_file;            // verify the other side against it; "" verifies nothing
  std::string server_hostname;    // client: sent as SNI, and checked when ca_file is set
  std::vector<std::string> alpn;  // offered (client) or chosen from, in preference order (server)
};

class PeerTlsEngine;

class Peer {
 public:
  // Adopts a connected stream socket (non-blocking and close-on-exec are set
  // here). Takes ownership of fd even when it throws std::runtime_error (fd is
  // not an open stream socket).
  static std::unique_ptr<Peer> adopt(int fd);
  // The same, speaking TLS; also throws std::runtime_error for TLS settings OpenSSL refuses.
  static std::unique_ptr<Peer> adopt(int fd, const PeerTls& tls);
  // Connects to address (numeric IPv4/IPv6 literal or Unix path) with a
  // non-blocking connect bounded by timeout; throws std::runtime_error naming
  // the address and the cause on failure.
  static std::unique_ptr<Peer> connect(const Address& address, Duration timeout);
  static std::unique_ptr<Peer> connect(const Address& address, Duration timeout, const PeerTls& tls);
  ~Peer();

  // Each command returns at once; the peer thread executes them in order.
  // chunk_size 0 sends data with as few send() calls as the kernel allows;
  // otherwise one send() per chunk_size bytes.
  void send(std::string data, std::size_t chunk_size = 0);
  void stop_reading();
  void resume_reading();
  void shutdown_write();          // shutdown(SHUT_WR) once the send queue is empty
  void close();                   // close once the send queue is empty
  void reset();                   // SO_LINGER 0 then close: the other side sees RST

  PeerSnapshot snapshot() const;
  // The bytes received so far (kept up to keep_limit bytes, 16 MiB by default).
  std::string received() const;
  void set_keep_limit(std::size_t bytes);
  // Called on the peer thread, outside the peer's state lock, after every
  // observable change (snapshot() may be called from it). Once set_notify
  // returns, the previous hook is not running and will not run again; so do
  // not call it while holding a lock the hook takes.
  void set_notify(std::function<void()> notify);
  // Shrinks SO_RCVBUF (before data flows) so back-pressure builds with little
  // data. Applied at once on the caller's thread; throws std::runtime_error
  // if the kernel refuses it. No effect once the socket is closed.
  // Over TCP loopback keep it at 32 KiB or more: a window much smaller than
  // the MSS (about 64 KiB) reopens only on the sender's zero-window probe,
  // which stalls the flow for about a second after resume_reading.
  void set_receive_buffer(int bytes);

 private:
  struct Impl;
  explicit Peer(std::unique_ptr<Impl> impl);
  static std::unique_ptr<Peer> start(int fd, std::unique_ptr<PeerTlsEngine> tls);
  static int connect_socket(const Address& address, Duration timeout);
  std::unique_ptr<Impl> impl_;
};

// A listening socket for backends to connect to; accept() hands out Peers.
class PeerListener {
 public:
  // InetAddress (numeric literal, port 0 for any) or a UnixAddress; the real
  // address is address(). A stale socket file at a Unix path (nobody
  // listening) is unlinked first, and the path is unlinked on destruction.
  // Throws std::runtime_error naming the address and the cause on failure.
  explicit PeerListener(const Address& address);
  ~PeerListener();
  PeerListener(const PeerListener&) = delete;
  PeerListener& operator=(const PeerListener&) = delete;
  Address address() const;
  // Waits (bounded) for one connection; nullptr on timeout.
  std::unique_ptr<Peer> accept(Duration timeout);
  std::unique_ptr<Peer> accept(Duration timeout, const PeerTls& tls);
  int fd() const { return fd_; }

 private:
  int accept_socket(Duration timeout);  // -1 on timeout

  int fd_ = -1;
  Address address_;
  // The socket file this listener created, so destruction unlinks only it.
  std::uint64_t bound_device_ = 0;
  std::uint64_t bound_inode_ = 0;
};

}  // namespace loopspec
