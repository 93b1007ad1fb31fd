// A datagram socket (UDP over IPv4 or IPv6, or a Unix datagram socket) on a
// uv_udp_t, as an asyncio DatagramTransport; the behaviour is CPython's
// _SelectorDatagramTransport unless stated otherwise.
//
// Lifecycle (endpoint.hpp): Open --close() with sends pending--> Closing
// --the last send done--> LostPending; close() with nothing pending, abort(),
// a protocol exception --> LostPending --connection_lost--> Lost.
// Promises:
// - connection_made, then the start of receiving (uv_udp_recv_start), then
//   `done`, all from one scheduled callback; connection_lost exactly once,
//   always from a scheduled callback.
// - sendto(): while nothing is pending, uv_udp_try_send sends the datagram at
//   once; otherwise (or when the kernel has no room) it is copied once into a
//   uv_udp_send request, and libuv sends those in order. sendto() never
//   blocks. Empty datagrams are sent. On an endpoint created with
//   remote_addr, addr must be absent or equal to it (ValueError); without
//   one, addr is required (ValueError). Hosts are numeric (a name is a
//   gaierror of the send). After close() or abort() datagrams are dropped
//   silently.
// - Every OSError of a send or a receive (ECONNREFUSED from an ICMP port
//   unreachable, EMSGSIZE, the wrong address family, ...) goes to
//   error_received and the endpoint stays open; that datagram is dropped.
//   Such callbacks may run inside sendto(), as in CPython.
// - Each datagram is one datagram_received(data, sender), never split or
//   merged; empty datagrams are delivered. A connected Unix socket's datagram
//   without a sender address comes from the remote address.
// - get_write_buffer_size() is the bytes of the sends libuv has not reported
//   done; flow control per WriteFlow on it (pause over high, resume at or
//   below low, checked at every growth and every completed send).
// - get_extra_info as endpoint.hpp promises ('peername' None unconnected).
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <memory>
#include <optional>

#include "loopspec/kit/write_flow.hpp"
#include "loopspec/libuv/endpoint.hpp"

namespace loopspec::libuv {

class DatagramEndpoint final : public Endpoint<DatagramTransport, DatagramProtocol> {
 public:
  // box: an open uv_udp_t, bound and/or connected (start_endpoint); remote:
  // the remote_addr it was connected to, if any.
  DatagramEndpoint(UvLoop& loop, HandleBox* box, std::optional<Address> remote);

  // BaseTransport
  void close() override;
  // DatagramTransport
  void sendto(std::string_view data, std::optional<Address> addr) override;
  void abort() override;
  std::size_t get_write_buffer_size() override { return active() ? pending_bytes_ : 0; }

 private:
  struct Send;

  void on_connection_made() override;
  void on_lose() override;
  // Where a sendto() goes: nullopt for the connected peer. Throws ContractError.
  std::optional<sockaddr_storage> destination(const std::optional<Address>& addr) const;
  void queue_send(std::string_view data, const sockaddr* to);
  static void on_sent(uv_udp_send_t* request, int status);
  void sent(std::size_t bytes, int status);
  static void on_alloc(uv_handle_t* handle, size_t size_hint, uv_buf_t* buf);
  static void on_received(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr* from, unsigned flags);
  void received(ssize_t nread, const uv_buf_t& buf, const sockaddr* from);
  // An OSError of a send or a receive.
  void socket_error(const Error& error);
  void check_flow();

  std::optional<Address> remote_;
  std::size_t pending_sends_ = 0;
  std::size_t pending_bytes_ = 0;
  kit::WriteFlow flow_{faults_};
};

// The datagram socket for options as a uv_udp_t (bound to local_addr,
// connected to remote_addr, SO_REUSEPORT when asked); done gets the box, or
// the canonical error. Numeric hosts and "localhost" resolve at once.
void open_datagram_handle(UvLoop& loop, const DatagramOptions& options,
                          std::function<void(HandleBox* box, MaybeError error)> done);

}  // namespace loopspec::libuv
