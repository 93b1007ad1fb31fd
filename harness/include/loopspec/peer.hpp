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
};

class Peer {
 public:
  // Adopts a connected stream socket (non-blocking and close-on-exec are set
  // here). Takes ownership of fd even when it throws std::runtime_error (fd is
  // not an open stream socket).
  static std::unique_ptr<Peer> adopt(int fd);
  // Connects to address (numeric IPv4/IPv6 literal or Unix path) with a
  // non-blocking connect bounded by timeout; throws std::runtime_error naming
  // the address and the cause on failure.
  static std::unique_ptr<Peer> connect(const Address& address, Duration timeout);
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
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  Address address_;
  // The socket file this listener created, so destruction unlinks only it.
  std::uint64_t bound_device_ = 0;
  std::uint64_t bound_inode_ = 0;
};

}  // namespace loopspec
