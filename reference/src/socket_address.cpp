#include "loopspec/reference/socket_address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

#include "loopspec/error.hpp"
#include "loopspec/overloaded.hpp"

namespace loopspec::reference {

namespace {

std::optional<SocketAddress> numeric_inet(const std::string& host, std::uint16_t port) {
  SocketAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  out = SocketAddress{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.length = sizeof(sockaddr_in6);
    return out;
  }
  return std::nullopt;
}

SocketAddress inet_or_throw(const std::string& host, std::uint16_t port) {
  if (auto address = numeric_inet(host, port)) return *address;
  throw ContractError(Error{"gaierror", EAI_NONAME,
                            std::string(::gai_strerror(EAI_NONAME)) + " (" + host +
                                "; only numeric hosts and "
                                "localhost are supported)"});
}

SocketAddress unix_address(const std::string& path) {
  SocketAddress out;
  auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
  bool abstract = !path.empty() && path[0] == '\0';
  // A filesystem path needs room for its terminating NUL; an abstract name does not.
  std::size_t room = sizeof(un->sun_path) - (abstract ? 0 : 1);
  if (path.size() > room) throw ContractError(Error{"OSError", 0, "AF_UNIX path too long"});
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
  return out;
}

}  // namespace

std::vector<SocketAddress> connect_candidates(const Address& address) {
  return std::visit(Overloaded{[](const InetAddress& a) {
                                 if (a.host == "localhost") {
                                   return std::vector{*numeric_inet("127.0.0.1", a.port), *numeric_inet("::1", a.port)};
                                 }
                                 return std::vector{inet_or_throw(a.host, a.port)};
                               },
                               [](const UnixAddress& a) { return std::vector{unix_address(a.path)}; }},
                    address);
}

SocketAddress bind_address(const Address& address) {
  return std::visit(Overloaded{[](const InetAddress& a) {
                                 if (a.host == "localhost") return inet_or_throw("127.0.0.1", a.port);
                                 if (a.host.empty()) return inet_or_throw("0.0.0.0", a.port);
                                 return inet_or_throw(a.host, a.port);
                               },
                               [](const UnixAddress& a) { return unix_address(a.path); }},
                    address);
}

Address to_address(const sockaddr* address, socklen_t length) {
  char text[INET6_ADDRSTRLEN] = {};
  switch (address->sa_family) {
    case AF_INET: {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      return InetAddress{text, ntohs(v4->sin_port)};
    }
    case AF_INET6: {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      return InetAddress{text, ntohs(v6->sin6_port)};
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(address);
      std::size_t offset = offsetof(sockaddr_un, sun_path);
      std::size_t size = length > offset ? length - offset : 0;
      if (size == 0) return UnixAddress{""};
      if (un->sun_path[0] == '\0') return UnixAddress{std::string(un->sun_path, size)};
      return UnixAddress{std::string(un->sun_path, ::strnlen(un->sun_path, size))};
    }
    default:
      return UnixAddress{""};
  }
}

std::optional<Address> local_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) < 0) return std::nullopt;
  return to_address(reinterpret_cast<sockaddr*>(&storage), length);
}

std::optional<Address> peer_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) < 0) return std::nullopt;
  return to_address(reinterpret_cast<sockaddr*>(&storage), length);
}

std::string family_name(int family) {
  switch (family) {
    case AF_INET:
      return "AF_INET";
    case AF_INET6:
      return "AF_INET6";
    case AF_UNIX:
      return "AF_UNIX";
    default:
      return "AF_" + std::to_string(family);
  }
}

}  // namespace loopspec::reference
