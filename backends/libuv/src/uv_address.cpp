#include "loopspec/libuv/uv_address.hpp"

#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace loopspec::libuv {

std::optional<sockaddr_storage> numeric_address(const InetAddress& address) {
  sockaddr_storage storage{};
  if (uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&storage)) == 0 ||
      uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&storage)) == 0) {
    return storage;
  }
  return std::nullopt;
}

Address to_address(const sockaddr* address) {
  if (address->sa_family == AF_UNIX) {
    const auto* unix_address = reinterpret_cast<const sockaddr_un*>(address);
    return UnixAddress{std::string(unix_address->sun_path, ::strnlen(unix_address->sun_path, sizeof unix_address->sun_path))};
  }
  char host[INET6_ADDRSTRLEN] = "";
  uv_ip_name(address, host, sizeof host);
  std::uint16_t port = address->sa_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(address)->sin6_port
                                                      : reinterpret_cast<const sockaddr_in*>(address)->sin_port;
  return InetAddress{host, ntohs(port)};
}

namespace {

std::optional<Address> name_of(const uv_handle_t* handle, bool peer) {
  sockaddr_storage storage{};
  auto* address = reinterpret_cast<sockaddr*>(&storage);
  int length = sizeof storage;
  int status = UV_EINVAL;
  if (handle->type == UV_NAMED_PIPE) {
    // Not uv_pipe_getsockname/getpeername: libuv 1.44 reads the path of an
    // unnamed socket from memory the kernel did not write.
    uv_os_fd_t fd = -1;
    auto size = static_cast<socklen_t>(length);
    if (uv_fileno(handle, &fd) != 0 || (peer ? ::getpeername(fd, address, &size) : ::getsockname(fd, address, &size)) != 0) {
      return std::nullopt;
    }
    return to_address(address);
  }
  if (handle->type == UV_TCP) {
    const auto* tcp = reinterpret_cast<const uv_tcp_t*>(handle);
    status = peer ? uv_tcp_getpeername(tcp, address, &length) : uv_tcp_getsockname(tcp, address, &length);
  } else if (handle->type == UV_UDP) {
    const auto* udp = reinterpret_cast<const uv_udp_t*>(handle);
    status = peer ? uv_udp_getpeername(udp, address, &length) : uv_udp_getsockname(udp, address, &length);
  }
  if (status != 0) return std::nullopt;
  return to_address(address);
}

}  // namespace

std::optional<Address> local_address(const uv_handle_t* handle) { return name_of(handle, false); }

std::optional<Address> peer_address(const uv_handle_t* handle) { return name_of(handle, true); }

std::optional<sockaddr_storage> unix_socket_address(const std::string& path) {
  if (unix_path_error(path)) return std::nullopt;
  sockaddr_storage storage{};
  auto* unix_address = reinterpret_cast<sockaddr_un*>(&storage);
  unix_address->sun_family = AF_UNIX;
  std::memcpy(unix_address->sun_path, path.data(), path.size());
  return storage;
}

}  // namespace loopspec::libuv
