// The served side of the echo soak: an echo Protocol on any EventLoop, one
// record per connection of what arrived and which callbacks came.
//
// Promises:
// - Each connection writes back what it receives, at once, and digests it
//   (loopspec::Digest); pause_writing pauses its reading and resume_writing
//   resumes it, so a client that stops reading holds the server's memory to
//   the write buffer's high-water mark.
// - eof_received returns false: the transport closes once the echo of the
//   last bytes is written.
// - The record counts every callback, the empty data_received calls and the
//   callbacks after connection_lost (the contract allows none of either), and keeps the peer's port
//   (get_extra_info("peername")) to match the client's side.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "loopspec/digest.hpp"
#include "loopspec/event_loop.hpp"

namespace loopspec::reliability {

struct EchoServedConnection {
  std::uint16_t peer_port = 0;
  std::uint64_t received_bytes = 0;
  Digest received_digest;
  int made = 0, eofs = 0, lost = 0, pauses = 0, resumes = 0;
  int after_lost = 0;  // callbacks after connection_lost
  int empty_data = 0;  // data_received with no bytes
  MaybeError lost_error;
};

class EchoServer {
 public:
  // on_change: after every connection_made and connection_lost.
  explicit EchoServer(std::function<void()> on_change) : on_change_(std::move(on_change)) {}

  StreamProtocolFactory factory();
  const std::vector<std::shared_ptr<EchoServedConnection>>& connections() const { return connections_; }
  std::size_t made() const { return made_; }
  std::size_t lost() const { return lost_; }

 private:
  class EchoProtocol;

  std::function<void()> on_change_;
  std::vector<std::shared_ptr<EchoServedConnection>> connections_;
  std::size_t made_ = 0, lost_ = 0;
};

}  // namespace loopspec::reliability
