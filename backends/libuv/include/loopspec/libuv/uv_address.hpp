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
// - unix_path_error: asyncio's OSError for a path that sockaddr_un cannot
//   hold (libuv 1.44 would silently truncate it).
// - family_name: "AF_INET", "AF_INET6", "AF_UNIX" (or "AF_<number>").
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <optional>
#include <string>

#include "loopspec/address.hpp"
#include "loopspec/error.hpp"

namespace loopspec::libuv {

std::optional<sockaddr_storage> numeric_address(const InetAddress& address);
Address to_address(const sockaddr* address);
std::optional<sockaddr_storage> unix_socket_address(const std::string& path);
std::optional<Address> local_address(const uv_handle_t* handle);
std::optional<Address> peer_address(const uv_handle_t* handle);
MaybeError unix_path_error(const std::string& path);
// A socket file left at path by an earlier server goes, as asyncio removes it
// before bind; anything else there stays (and bind fails).
void remove_stale_socket_file(const std::string& path);
std::string family_name(int family);

}  // namespace loopspec::libuv
