// Host names to socket addresses, on libuv's thread pool (uv_getaddrinfo).
//
// Promises:
// - resolve(): a numeric host (IPv4 or IPv6 literal) is answered before
//   resolve() returns, without the thread pool; any other name goes to
//   uv_getaddrinfo (SOCK_STREAM; `passive` for a server's bind address) and
//   `done` runs from libuv's callback on the loop thread, with the addresses
//   in getaddrinfo's order, or with the canonical gaierror.
// - The Resolver owns its requests: cancel_all() (the loop's destructor)
//   cancels those still pending and drops their `done` unrun.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <functional>
#include <set>
#include <vector>

#include "loopspec/address.hpp"
#include "loopspec/error.hpp"

namespace loopspec::libuv {

struct Resolved {
  std::vector<sockaddr_storage> addresses;  // non-empty unless error
  MaybeError error;
};

class Resolver {
 public:
  explicit Resolver(uv_loop_t* loop) : loop_(loop) {}
  ~Resolver() { cancel_all(); }
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  void resolve(const InetAddress& address, bool passive, std::function<void(Resolved)> done);
  void cancel_all();

 private:
  struct Request;
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result);

  uv_loop_t* loop_;
  std::set<Request*> pending_;
};

}  // namespace loopspec::libuv
