// Between the contract's Address and the kernel's sockaddr.
//
// Promises:
// - Hosts are numeric IPv4/IPv6 literals or "localhost"; nothing is resolved
//   through DNS, so no call blocks. Any other name is a canonical
//   Error{"gaierror", EAI_NONAME, ...}, as asyncio reports an unknown host.
// - A Unix path with a leading '\0' is in the abstract namespace; a path too
//   long for sockaddr_un is Error{"OSError", 0, "AF_UNIX path too long"}.
// - Addresses read back from the kernel are in asyncio's form: numeric host
//   and port, or the Unix path ("" for an unnamed socket).
// Failures throw ContractError carrying the canonical error.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <vector>

#include "loopspec/address.hpp"

namespace loopspec::reference {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Where create_connection tries to connect, in order ("localhost": 127.0.0.1, then ::1).
std::vector<SocketAddress> connect_candidates(const Address& address);
// Where create_server binds ("localhost": 127.0.0.1; "": 0.0.0.0).
SocketAddress bind_address(const Address& address);

Address to_address(const sockaddr* address, socklen_t length);
std::optional<Address> local_address(int fd);  // getsockname
std::optional<Address> peer_address(int fd);   // getpeername

// "AF_INET", "AF_INET6", "AF_UNIX" (or "AF_<number>").
std::string family_name(int family);

}  // namespace loopspec::reference
