// Between the contract's Address and libuv's sockaddrs and handles.
//
// Promises:
// - numeric_address: an IPv4 or IPv6 literal as a sockaddr (uv_ip4_addr,
//   uv_ip6_addr), nullopt for a name that needs resolving (resolver.hpp).
// - to_address: a kernel address in asyncio's form: numeric host and port,
//   or a Unix path ("" for an unnamed socket).
// - unix_socket_address: a Unix path as a sockaddr_un, nullopt when it does
//   not fit (see unix_path_error).
// - local_address / peer_address of a TCP, Unix stream or UDP handle
//   (uv_tcp_getsockname, uv_pipe_getpeername, uv_udp_getpeername, ...):
//   nullopt when the kernel has none (a socket reset before it was adopted,
//   an unconnected datagram socket); a Unix socket without a name is "".
// - unix_path_error (libuv 1.44 would silently truncate such a path),
//   remove_stale_socket_file and family_name are the kit's (socket_names.hpp).
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <optional>
#include <string>

#include "loopspec/address.hpp"
#include "loopspec/error.hpp"
#include "loopspec/kit/socket_names.hpp"

namespace loopspec::libuv {

std::optional<sockaddr_storage> numeric_address(const InetAddress& address);
Address to_address(const sockaddr* address);
std::optional<sockaddr_storage> unix_socket_address(const std::string& path);
std::optional<Address> local_address(const uv_handle_t* handle);
std::optional<Address> peer_address(const uv_handle_t* handle);
using kit::family_name;
using kit::remove_stale_socket_file;
using kit::unix_path_error;

}  // namespace loopspec::libuv
