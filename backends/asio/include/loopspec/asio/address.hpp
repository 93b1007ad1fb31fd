// Between the contract's Address and Asio's endpoints.
//
// Promises:
// - Every socket of this backend is a generic socket (one transport class
//   for TCP and Unix streams, one for UDP and Unix datagrams), so addresses
//   are generic::*_protocol endpoints: inet_endpoint and unix_endpoint make
//   them from ip::tcp/ip::udp and local:: endpoints.
// - to_address: an endpoint (or a kernel sockaddr) in asyncio's form:
//   numeric host and port, or a Unix path ("" for an unnamed socket).
// - local_address / peer_address of a descriptor (getsockname/getpeername):
//   nullopt when the kernel has none.
// - unix_path_error (Asio would throw its own name_too_long),
//   remove_stale_socket_file and family_name are the kit's (socket_names.hpp).
// - resolve: a host as endpoints: a numeric host (ip::make_address) at once,
//   a name through ip::tcp::resolver (getaddrinfo on Asio's resolver
//   thread); an unresolvable name is a gaierror naming the host. The loop's
//   destruction cancels it and drops `done` unrun.
#pragma once

#include <sys/socket.h>

#include <boost/asio/generic/datagram_protocol.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/address.hpp"
#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/error.hpp"
#include "loopspec/kit/socket_names.hpp"

namespace loopspec::asio {

using GenericEndpoint = boost::asio::generic::basic_endpoint<boost::asio::generic::stream_protocol>;

GenericEndpoint inet_endpoint(const boost::asio::ip::address& host, std::uint16_t port);
// Throws ContractError (unix_path_error) for a path too long.
GenericEndpoint unix_endpoint(const std::string& path);
// The same bytes as another generic protocol's endpoint (stream <-> datagram).
template <class Endpoint>
Endpoint as_endpoint(const GenericEndpoint& endpoint) {
  return Endpoint(endpoint.data(), endpoint.size());
}

Address to_address(const sockaddr* address, std::size_t length);
template <class Endpoint>
Address to_address(const Endpoint& endpoint) {
  return to_address(endpoint.data(), endpoint.size());
}
std::optional<Address> local_address(int fd);
std::optional<Address> peer_address(int fd);
using kit::family_name;
using kit::remove_stale_socket_file;
using kit::unix_path_error;

// passive: for bind (AI_PASSIVE). done gets the endpoints in getaddrinfo's order, or the error.
void resolve(AsioLoop& loop, const InetAddress& address, bool passive,
             std::function<void(std::vector<GenericEndpoint>, MaybeError)> done);

}  // namespace loopspec::asio
