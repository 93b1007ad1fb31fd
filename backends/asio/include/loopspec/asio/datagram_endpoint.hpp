// A datagram socket (UDP over IPv4 or IPv6, or a Unix datagram socket: one
// generic::datagram_protocol socket) as an asyncio DatagramTransport; the
// behaviour is CPython's _SelectorDatagramTransport unless stated otherwise.
//
// Lifecycle (endpoint.hpp): Open --close() with sends pending--> Closing
// --the last send done--> LostPending; close() with nothing pending, abort(),
// a protocol exception --> LostPending --connection_lost--> Lost.
// Promises:
// - connection_made, then the start of receiving, then `done`, all from one
//   scheduled callback; connection_lost exactly once, always from a
//   scheduled callback.
// - Receiving: async_wait(wait_read), then one non-blocking receive_from per
//   readiness (asyncio's _read_ready), into the loop's read buffer.
// - sendto(): while nothing is pending, a non-blocking send_to sends the
//   datagram at once; otherwise (or when the kernel has no room) it is
//   copied once into the queue, and each time the socket is writable
//   (async_wait(wait_write), then asyncio's _sendto_ready) the queue is sent
//   in order until the kernel has no room again. sendto() never blocks. Not
//   async_send_to: a Unix receiver's full queue fails every send with
//   EAGAIN while the sender's own socket stays writable, and each failed
//   send wakes the reactor again, so Asio's reactor would retry it inside
//   one poll() for as long as the receiver does not read; one attempt per
//   iteration keeps the loop going. Empty datagrams are sent. On an
//   endpoint created with remote_addr, addr must be absent or equal to it
//   (ValueError); without one, addr is required (ValueError). Hosts are
//   numeric (a name is a gaierror of the send). After close() or abort()
//   datagrams are dropped silently.
// - Every OSError of a send or a receive (ECONNREFUSED from an ICMP port
//   unreachable, EMSGSIZE, the wrong address family, ...) goes to
//   error_received and the endpoint stays open; that datagram is dropped.
//   Such callbacks may run inside sendto(), as in CPython.
// - Each datagram is one datagram_received(data, sender), never split or
//   merged; empty datagrams are delivered. A connected Unix socket's datagram
//   without a sender address comes from the remote address.
// - get_write_buffer_size() is the bytes queued and not yet sent; flow
//   control per WriteFlow on it (pause over high, resume at or below low,
//   checked at every growth and every completed send).
// - get_extra_info as endpoint.hpp promises ('peername' None unconnected).
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "loopspec/asio/address.hpp"
#include "loopspec/asio/endpoint.hpp"
#include "loopspec/kit/write_flow.hpp"

namespace loopspec::asio {

class DatagramEndpoint final : public Endpoint<DatagramTransport, DatagramProtocol, DatagramSocket> {
 public:
  using Target = net::generic::datagram_protocol::endpoint;

  // socket: open, bound and/or connected (open_datagram_socket); remote:
  // the remote_addr it was connected to, if any.
  DatagramEndpoint(AsioLoop& loop, DatagramSocket socket, std::optional<Address> remote);

  // BaseTransport
  void close() override;
  // DatagramTransport
  void sendto(std::string_view data, std::optional<Address> addr) override;
  void abort() override;
  std::size_t get_write_buffer_size() override { return active() ? pending_bytes_ : 0; }

 private:
  struct Send {
    std::string data;
    std::optional<Target> to;  // nullopt: the connected peer
  };

  void on_connection_made() override { wait_readable(); }
  void on_lose() override;
  // Where a sendto() goes: nullopt for the connected peer. Throws ContractError.
  std::optional<Target> destination(const std::optional<Address>& addr) const;
  void send_one(std::string_view data, const std::optional<Target>& to, boost::system::error_code& ec);
  void wait_writable();
  void writable(const boost::system::error_code& ec);
  void wait_readable();
  void readable(const boost::system::error_code& ec);
  // An OSError of a send or a receive.
  void socket_error(const Error& error);
  void check_flow();

  std::optional<Address> remote_;
  std::deque<Send> queue_;
  bool writable_wait_ = false;  // an async_wait(wait_write) or its completion is outstanding
  bool waiting_ = false;        // an async_wait(wait_read) or its completion is outstanding
  std::size_t pending_bytes_ = 0;
  kit::WriteFlow flow_{faults_};
};

// The datagram socket for options (bound to local_addr, connected to
// remote_addr, SO_REUSEPORT when asked); done gets the socket, or the
// canonical error. Hosts that are names are resolved first.
void open_datagram_socket(AsioLoop& loop, const DatagramOptions& options,
                          std::function<void(std::optional<DatagramSocket>, MaybeError)> done);

}  // namespace loopspec::asio
