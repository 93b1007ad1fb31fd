#include "loopspec/asio/stream_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <boost/asio/socket_base.hpp>

#include <algorithm>
#include <cerrno>

#include "loopspec/asio/asio_error.hpp"
#include "loopspec/asio/stream_transport.hpp"
#include "loopspec/kit/stream_setup.hpp"

namespace loopspec::asio {

namespace {

bool out_of_resources(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  int code = ec.value();
  return code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM;
}

Error bind_error(const boost::system::error_code& ec, const Address& where) {
  return error_from_code(ec, kit::bind_error_message(where, ec.message()));
}

}  // namespace

void StreamServer::start(AsioLoop& loop, StreamProtocolFactory factory, const Address& address,
                         const ServerOptions& options, Completion<Server> done) {
  auto server = std::make_shared<StreamServer>(Passkey{}, loop, std::move(factory));
  auto finish = [&loop, server, done](MaybeError error) mutable {
    kit::finish_server_start(loop, server, std::move(done), std::move(error));
  };
  if (const auto* unix_address = std::get_if<UnixAddress>(&address)) {
    if (auto error = unix_path_error(unix_address->path)) return finish(error);
    remove_stale_socket_file(unix_address->path);
    return finish(server->listen(unix_endpoint(unix_address->path), options));
  }
  InetAddress inet = std::get<InetAddress>(address);
  if (inet.host.empty()) inet.host = "0.0.0.0";
  resolve(loop, inet, true, [server, options, finish](std::vector<GenericEndpoint> found, MaybeError error) mutable {
    if (error) return finish(error);
    finish(server->listen(found.front(), options));
  });
}

StreamServer::StreamServer(Passkey, AsioLoop& loop, StreamProtocolFactory factory)
    : loop_(&loop), factory_(std::move(factory)) {}

MaybeError StreamServer::listen(const GenericEndpoint& where, const ServerOptions& options) {
  Address name = to_address(where);
  int family = where.protocol().family();
  boost::system::error_code ec;
  acceptor_.emplace(loop_->context());
  loop_->hold(shared_from_this());
  if (acceptor_->open(where.protocol(), ec); ec) return error_from_code(ec);
  int one = 1;
  int fd = acceptor_->native_handle();
  if (family != AF_UNIX) {
    acceptor_->set_option(net::socket_base::reuse_address(true), ec);
    if (family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    return Error::from_errno(errno, "reuse_port not supported by socket module");
  }
  if (acceptor_->bind(where, ec); ec) return bind_error(ec, name);
  if (family == AF_UNIX) socket_file_.remember(std::get<UnixAddress>(name).path);
  if (acceptor_->listen(std::max(options.backlog, 1), ec); ec) return error_from_code(ec, "listen failed");
  acceptor_->non_blocking(true, ec);
  if (auto address = local_address(fd)) addresses_.push_back(*address);
  accept_next();
  return std::nullopt;
}

void StreamServer::accept_next() {
  if (!acceptor_) return;
  auto socket = std::make_shared<StreamSocket>(loop_->context());
  acceptor_->async_accept(*socket, [self = shared_from_this(), socket](const boost::system::error_code& ec) {
    if (self->loop_ == nullptr) return;
    self->loop_->call_soon([self, socket, ec] { self->accepted(ec, *socket); });
  });
}

void StreamServer::accepted(const boost::system::error_code& ec, StreamSocket& socket) {
  if (!acceptor_ || ec == net::error::operation_aborted) return;  // closed meanwhile
  if (!ec) {
    start_stream_connection(*loop_, std::move(socket), factory_, nullptr);
  } else if (out_of_resources(ec)) {
    // Accepting again at once would fail again at once, a busy loop until a descriptor frees up.
    loop_->report_exception("socket.accept() out of system resource", error_from_code(ec));
    loop_->call_later(Duration(1.0), [weak = weak_from_this()] {
      if (auto server = weak.lock()) server->accept_next();
    });
    return;
  } else if (ec != net::error::connection_aborted) {
    loop_->report_exception("socket.accept()", error_from_code(ec));
  }
  accept_next();
}

void StreamServer::close() {
  if (!acceptor_) return;
  auto self = shared_from_this();
  boost::system::error_code ignored;
  acceptor_->close(ignored);
  acceptor_.reset();
  socket_file_.remove();
  if (loop_ != nullptr) loop_->let_go(this);
}

void StreamServer::on_loop_destroyed() {
  boost::system::error_code ignored;
  if (acceptor_) acceptor_->close(ignored);
  acceptor_.reset();
  socket_file_.remove();
  factory_ = nullptr;
  loop_ = nullptr;
}

}  // namespace loopspec::asio
