// A listening stream socket and its accepts, for loops that watch the
// descriptor themselves (the reference's epoll, libuv's uv_poll_t).
//
// Promises:
// - open_listening_socket(address, length, options, where, error): a
//   non-blocking, close-on-exec socket bound to address and listening with a
//   backlog of max(options.backlog, 1); SO_REUSEADDR except on AF_UNIX,
//   SO_REUSEPORT when asked for, IPV6_V6ONLY on AF_INET6. On failure -1 and
//   the canonical error in `error` (a failed bind: asyncio's message naming
//   `where`, bind_error_message); nothing is left open.
// - accept_ready(listen_fd, budget, on_accepted): accepts (accept4,
//   non-blocking, close-on-exec) at most budget connections, handing each
//   descriptor to on_accepted, which returns whether to go on (false once the
//   server closed). A connection gone before its accept (ECONNABORTED,
//   EPROTO, EINTR...) is skipped. Returns 0, or the errno when descriptors or
//   memory ran out (EMFILE, ENFILE, ENOBUFS, ENOMEM): the caller reports it and
//   stops accepting for a while, as asyncio does, leaving the backlog waiting.
#pragma once

#include <sys/socket.h>

#include <cerrno>

#include "loopspec/address.hpp"
#include "loopspec/error.hpp"
#include "loopspec/event_loop.hpp"

namespace loopspec::kit {

int open_listening_socket(const sockaddr* address, socklen_t length, const ServerOptions& options,
                          const Address& where, Error& error);

template <class OnAccepted>
int accept_ready(int listen_fd, int budget, OnAccepted&& on_accepted) {
  for (int i = 0; i < budget; ++i) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return 0;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) return err;
      continue;
    }
    if (!on_accepted(fd)) return 0;
  }
  return 0;
}

}  // namespace loopspec::kit
