// EpollLoop's stream endpoints: each hands over to the class that owns the job.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/stream_connector.hpp"
#include "loopspec/reference/stream_server.hpp"
#include "loopspec/reference/stream_transport.hpp"
#include "loopspec/kit/tls_setup.hpp"

namespace loopspec::reference {

namespace {

template <class T>
void complete_later(EpollLoop& loop, Completion<T> done, Error error) {
  loop.call_soon([done = std::move(done), error = std::move(error)] { done(Outcome<T>{nullptr, error}); });
}

}  // namespace

void EpollLoop::create_connection(StreamProtocolFactory factory, Address address, ConnectOptions options,
                                  Completion<Transport> done) {
  if (options.ssl) {
    kit::TlsSetup setup;
    try {
      setup = kit::tls_client_setup(*this, options, address);
    } catch (const ContractError& e) {
      return complete_later(*this, std::move(done), e.error());
    }
    auto tls = kit::wrap_for_tls(*this, std::move(factory), std::move(setup), std::move(done));
    return StreamConnector::start(*this, std::move(tls.factory), address, std::move(tls.done));
  }
  StreamConnector::start(*this, std::move(factory), address, std::move(done));
}

void EpollLoop::create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                              Completion<Server> done) {
  if (options.ssl) {
    try {
      factory = kit::wrap_for_tls(*this, std::move(factory), kit::tls_server_setup(*this, options), nullptr).factory;
    } catch (const ContractError& e) {
      return complete_later(*this, std::move(done), e.error());
    }
  }
  StreamServer::start(*this, std::move(factory), address, options, std::move(done));
}

void EpollLoop::connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                                        Completion<Transport> done) {
  // The fd is ours from the call on: closed on every failure.
  auto fail = [&](Error error) {
    ::close(fd);
    complete_later(*this, std::move(done), std::move(error));
  };
  if (options.ssl) {
    kit::TlsSetup setup;
    try {
      setup = kit::tls_server_setup(*this, options);
    } catch (const ContractError& e) {
      return fail(e.error());
    }
    auto tls = kit::wrap_for_tls(*this, std::move(factory), std::move(setup), std::move(done));
    factory = std::move(tls.factory);
    done = std::move(tls.done);
  }
  int type = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0) return fail(Error::from_errno(errno));
  if (type != SOCK_STREAM) {
    return fail(Error{"ValueError", 0, "A Stream Socket was expected, got socket type " + std::to_string(type)});
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    return fail(Error::from_errno(errno));
  }
  start_stream_connection(*this, fd, factory, std::move(done));
}

}  // namespace loopspec::reference
