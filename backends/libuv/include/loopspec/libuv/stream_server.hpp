// A listening TCP or Unix socket (uv_tcp_t or uv_pipe_t, uv_listen) behind
// UvLoop::create_server.
//
// Promises:
// - Serving starts at once: libuv accepts every pending connection
//   (uv_accept into a fresh handle), each gets a protocol from the factory
//   and a StreamTransport. A failed accept (libuv's EMFILE handling
//   included) is reported to the loop's exception handler; serving goes on.
// - TCP: SO_REUSEADDR (libuv sets it), IPV6_V6ONLY on IPv6, SO_REUSEPORT
//   when asked for. A TCP host is resolved like a connection's; "" means
//   every IPv4 interface. Unix: a stale socket file at the path is removed
//   before bind (asyncio), and close() removes the file it created if it is
//   still the same file (asyncio 3.13's cleanup_socket).
// - Bind errors are asyncio's: "error while attempting to bind on address
//   '<address>': <reason>".
// - close() stops listening and closes the socket; accepted connections stay
//   open. addresses() reports the real bound address (the real port for 0).
// - The loop keeps a serving server alive even when nobody else holds it.
#pragma once

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
  // Binds and listens on box_; the canonical error on failure.
  MaybeError listen_tcp(const sockaddr* address, const ServerOptions& options);
  MaybeError listen_unix(const std::string& path, const ServerOptions& options);
  MaybeError listen(int backlog, const Address& where);
  static void on_connection(uv_stream_t* server, int status);
  void accept_one(int status);

  UvLoop* loop_;
  StreamProtocolFactory factory_;
  HandleBox* box_ = nullptr;
  std::vector<Address> addresses_;
  kit::ServerSocketFile socket_file_;  // the socket file this server created
};

}  // namespace loopspec::libuv
