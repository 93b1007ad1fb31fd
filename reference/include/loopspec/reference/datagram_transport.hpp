// A datagram socket (UDP over IPv4 or IPv6, or a Unix datagram socket) as an
// asyncio DatagramTransport; the behaviour is CPython's
// _SelectorDatagramTransport unless stated otherwise.
//
// Lifecycle (states and the only transitions):
//   Open --close() with datagrams queued--> Closing --queue sent--> LostPending
//   Open --close() with nothing queued, abort(), protocol exception--> LostPending
//   Closing --abort()--> LostPending
//   LostPending --connection_lost delivered, fd closed--> Lost
// Promises:
// - connection_made, then the start of reading, then `done`, all from one
//   callback scheduled at creation; connection_lost always from a scheduled
//   callback (never inside a transport method), exactly once.
// - sendto(): a datagram goes out at once while nothing is queued; otherwise
//   it is copied once into the queue, whole, and sent in order when the socket
//   is writable. sendto() never blocks. Empty datagrams are sent (CPython 3.11
//   drops them; 3.12 sends them). On an endpoint created with remote_addr,
//   addr must be absent or equal to that address (ValueError otherwise, as
//   CPython); on one without, addr is required (ValueError). After close() or
//   abort() datagrams are dropped silently.
// - Every OSError of a send or a receive (ICMP port unreachable reported as
//   ECONNREFUSED, ENOBUFS, an address of the wrong family, ...) goes to
//   error_received and the endpoint stays open; the datagram that failed is
//   dropped. Such callbacks may run inside sendto(), as in CPython.
// - One recvfrom per readiness: each datagram is one datagram_received(data,
//   sender), never split or merged; empty datagrams are delivered.
// - Flow control per WriteFlow on the queued bytes: pause_writing once they go
//   over high, resume_writing once the queue drained to low or below.
// - close(): reading stops at once; the queue is sent, then
//   connection_lost(None). abort(): the queue is dropped, connection_lost(None).
// - get_extra_info: 'peername' (None on an unconnected endpoint), 'sockname',
//   'socket' ({"fd","family","type":"SOCK_DGRAM"}).
// - A protocol callback that throws ends the endpoint with the exception's
//   canonical error; only connection_lost's own exception is merely reported.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "loopspec/event_loop.hpp"
#include "loopspec/reference/descriptor_transport.hpp"
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/socket_address.hpp"
#include "loopspec/kit/write_flow.hpp"

namespace loopspec::reference {

class DatagramSocketTransport final : public DescriptorTransport<DatagramTransport, DatagramProtocol> {
  struct Passkey {};

 public:
  // Adopts fd (a bound and/or connected, non-blocking, close-on-exec datagram
  // socket; closed if this throws) and schedules connection_made. remote is
  // the remote_addr the endpoint was created with (connected), or nullopt.
  static std::shared_ptr<DatagramSocketTransport> start(EpollLoop& loop, int fd, std::optional<Address> remote,
                                                        std::shared_ptr<DatagramProtocol> protocol,
                                                        Completion<DatagramTransport> done);

  DatagramSocketTransport(Passkey, EpollLoop& loop, int fd, std::optional<Address> remote);

  // BaseTransport
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override;
  void close() override;
  // DatagramTransport
  void sendto(std::string_view data, std::optional<Address> addr) override;
  void abort() override;
  std::size_t get_write_buffer_size() override { return queued_bytes_; }
  // The send queue's watermarks. CPython's datagram transports have them
  // (_FlowControlMixin); the contract API does not, so they are reached
  // through this class only.
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low);
  WriteBufferLimits get_write_buffer_limits() const { return flow_.limits(); }
  // FdWatcher
  void on_readable() override;
  void on_writable() override;

 private:
  struct Datagram {
    std::string data;
    std::optional<SocketAddress> to;  // nullopt: the connected peer
  };

  void on_connection_made() override;
  void drop_queued_output() override;

  // Where a sendto() goes: nullopt for the connected peer. Throws ContractError.
  std::optional<SocketAddress> destination(const std::optional<Address>& addr) const;
  // One send: 0 when sent, else the errno (EAGAIN: try again when writable).
  int send_one(std::string_view data, const std::optional<SocketAddress>& to);
  void flush();
  // An OSError of a send or receive.
  void on_socket_error(const Error& error);
  void deliver_datagram(std::string_view data, const Address& sender);

  int family_ = 0;
  std::optional<Address> remote_;
  std::optional<nlohmann::json> sockname_;
  std::optional<nlohmann::json> peername_;
  std::optional<Address> local_;

  std::deque<Datagram> queue_;
  std::size_t queued_bytes_ = 0;
  kit::WriteFlow flow_{faults_};
  bool enobufs_injected_ = false;  // dgram-enobufs-closes fault only
};

// A datagram socket for options (bound to local_addr, connected to
// remote_addr, SO_REUSEPORT when asked), non-blocking and close-on-exec.
// Throws ContractError with the canonical error; the socket is closed then.
int open_datagram_socket(const DatagramOptions& options);

}  // namespace loopspec::reference
