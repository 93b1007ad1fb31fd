// The peer: the other end of a stream, owned by the harness.
//
// A Peer runs its own thread with a poll loop, so it acts while the backend's
// loop runs. Commands (send, stop/resume reading, shutdown, close, reset) are
// queued and executed in order on that thread. Everything it observes (bytes
// in, EOF, reset, bytes out) is readable from any thread, and every change
// calls the notify hook from the peer thread, so a scenario can wake its loop
// with call_soon_threadsafe instead of sleeping.
// Promise: the peer never blocks the caller; destroying it joins the thread
// and closes the socket.
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
  bool reading = true;
  std::uint64_t send_queue = 0;  // bytes queued but not yet accepted by the kernel
  std::optional<int> error;      // errno of the first socket error
};

class Peer {
 public:
  // Adopts a connected stream socket (non-blocking is set here).
  static std::unique_ptr<Peer> adopt(int fd);
  // Connects to address (blocking connect, bounded by timeout).
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
  // Called on the peer thread after every observable change.
  void set_notify(std::function<void()> notify);
  // Shrinks SO_RCVBUF (before data flows) so back-pressure builds with little data.
  void set_receive_buffer(int bytes);

 private:
  struct Impl;
  explicit Peer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A listening socket for backends to connect to; accept() hands out Peers.
class PeerListener {
 public:
  // InetAddress with port 0 or a UnixAddress; the real address is address().
  explicit PeerListener(const Address& address);
  ~PeerListener();
  Address address() const;
  // Waits (bounded) for one connection; nullptr on timeout.
  std::unique_ptr<Peer> accept(Duration timeout);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  Address address_;
};

}  // namespace loopspec
