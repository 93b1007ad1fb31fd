// A listening TCP or Unix socket (a generic::stream_protocol acceptor)
// behind AsioLoop::create_server.
//
// Promises:
// - Serving starts at once: one async_accept at a time; each accepted socket
//   gets a protocol from the factory and a StreamTransport, and the next
//   accept starts. A failed accept is reported to the loop's exception
//   handler (a connection reset before it was accepted only skips that
//   connection); serving goes on. Out of descriptors or memory (EMFILE,
//   ENFILE, ENOBUFS, ENOMEM), accepting pauses for 1 s, as asyncio's does,
//   instead of failing again at once.
// - TCP: SO_REUSEADDR (as asyncio sets it on Unix), IPV6_V6ONLY on IPv6,
//   SO_REUSEPORT when asked for. A TCP host is resolved like a connection's;
//   "" means every IPv4 interface. Unix: a stale socket file at the path is
//   removed before bind (asyncio), and close() removes the file it created
//   if it is still the same file (asyncio 3.13's cleanup_socket).
// - Bind errors are asyncio's: "error while attempting to bind on address
//   '<address>': <reason>".
// - close() stops listening and closes the socket; accepted connections stay
//   open. addresses() reports the real bound address (the real port for 0).
// - The loop keeps a serving server alive even when nobody else holds it.
#pragma once


#include <boost/asio/basic_socket_acceptor.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/asio/address.hpp"
#include "loopspec/asio/endpoint.hpp"
#include "loopspec/kit/socket_names.hpp"

namespace loopspec::asio {

class StreamServer final : public Server, public LoopResident, public std::enable_shared_from_this<StreamServer> {
  struct Passkey {};

 public:
  // `done` is scheduled with the server or the canonical error.
  static void start(AsioLoop& loop, StreamProtocolFactory factory, const Address& address, const ServerOptions& options,
                    Completion<Server> done);

  StreamServer(Passkey, AsioLoop& loop, StreamProtocolFactory factory);

  void close() override;
  bool is_serving() override { return acceptor_.has_value(); }
  std::vector<Address> addresses() override { return addresses_; }
  void on_loop_destroyed() override;

 private:
  using Acceptor = net::basic_socket_acceptor<net::generic::stream_protocol>;

  // Binds and listens; the canonical error on failure.
  MaybeError listen(const GenericEndpoint& where, const ServerOptions& options);
  void accept_next();
  void accepted(const boost::system::error_code& ec, StreamSocket& socket);

  AsioLoop* loop_;
  StreamProtocolFactory factory_;
  std::optional<Acceptor> acceptor_;
  std::vector<Address> addresses_;
  kit::ServerSocketFile socket_file_;  // the socket file this server created
};

}  // namespace loopspec::asio
