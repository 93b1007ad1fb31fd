#include "loopspec/kit/listening_socket.hpp"

#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "loopspec/kit/socket_names.hpp"

namespace loopspec::kit {

int open_listening_socket(const sockaddr* address, socklen_t length, const ServerOptions& options,
                          const Address& where, Error& error) {
  int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = Error::from_errno(errno);
    return -1;
  }
  auto fail = [&](Error why) {
    ::close(fd);
    error = std::move(why);
    return -1;
  };
  int one = 1;
  if (address->sa_family != AF_UNIX) {
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
      return fail(Error::from_errno(errno, "reuse_port not supported by socket module"));
    }
  }
  if (address->sa_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, address, length) < 0) {
    int err = errno;
    return fail(Error::from_errno(err, bind_error_message(where, std::strerror(err))));
  }
  if (::listen(fd, std::max(options.backlog, 1)) < 0) return fail(Error::from_errno(errno, "listen failed"));
  return fd;
}

}  // namespace loopspec::kit
