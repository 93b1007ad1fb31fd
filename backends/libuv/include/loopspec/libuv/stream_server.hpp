// A listening TCP or Unix socket behind UvLoop::create_server, watched by a
// uv_poll_t: the server accepts by itself, because libuv's own accept
// (uv_listen) meets EMFILE by accepting and closing every connection waiting
// in the backlog, and those are lost.
//
// Promises:
// - Serving starts at once: readiness accepts the pending connections
//   (accept4, at most a backlog's worth per wake-up), each becomes a uv_tcp_t
//   or uv_pipe_t (uv_tcp_open, uv_pipe_open) with a protocol from the
//   factory and a StreamTransport. A connection gone before its accept
//   (ECONNABORTED, ...) is skipped.
// - Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the loop's
//   exception handler hears "socket.accept() out of system resource",
//   accepting stops for one second and then resumes, as asyncio's does; the
//   waiting connections stay in the backlog and nothing spins.
// - TCP: SO_REUSEADDR, IPV6_V6ONLY on IPv6, SO_REUSEPORT when asked for. A
//   TCP host is resolved like a connection's; "" means every IPv4 interface.
//   Unix: a stale socket file at the path is removed before bind (asyncio),
//   an abstract name (leading NUL) is bound as it is, and close() removes
//   the file it created if it is still the same file (asyncio 3.13's
//   cleanup_socket).
// - Bind errors are asyncio's: "error while attempting to bind on address
//   '<address>': <reason>".
// - close() stops listening and closes the socket; accepted connections stay
//   open. addresses() reports the real bound address (the real port for 0).
// - The loop keeps a serving server alive even when nobody else holds it.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/socket_names.hpp"
#include "loopspec/libuv/handle_box.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

class StreamServer final : public Server, public LoopResident, public std::enable_shared_from_this<StreamServer> {
  struct Passkey {};

 public:
  // `done` is scheduled with the server or the canonical error.
  static void start(UvLoop& loop, StreamProtocolFactory factory, const Address& address, const ServerOptions& options,
                    Completion<Server> done);

  StreamServer(Passkey, UvLoop& loop, StreamProtocolFactory factory);
  ~StreamServer() override;

  void close() override;
  bool is_serving() override { return box_ != nullptr; }
  std::vector<Address> addresses() override { return addresses_; }
  void on_loop_destroyed() override;

 private:
  // Opens, binds and listens a socket polled by box_, then starts
  // watching it; the canonical error on failure.
  MaybeError listen(const sockaddr* address, socklen_t length, const ServerOptions& options, const Address& where);
  MaybeError listen_unix(const std::string& path, const ServerOptions& options);
  static void on_acceptable(uv_poll_t* poll, int status, int events);
  void accept_pending();
  void pause_accepting();

  UvLoop* loop_;
  StreamProtocolFactory factory_;
  HandleBox* box_ = nullptr;  // a uv_poll_t owning the listening socket
  int family_ = AF_UNSPEC;
  int backlog_ = 1;
  std::vector<Address> addresses_;
  kit::ServerSocketFile socket_file_;  // the socket file this server created
};

}  // namespace loopspec::libuv
