#include "loopspec/kit/transport_loop.hpp"

#include <unistd.h>

#include "loopspec/kit/pipe_ends.hpp"
#include "loopspec/kit/socket_names.hpp"
#include "loopspec/kit/tls_setup.hpp"

namespace loopspec::kit {

namespace {

// A pipe endpoint: adopt_pipe, then the backend's start; fd closed and the error to done on failure.
template <class T, class Start>
void start_pipe(TransportLoop& loop, int fd, Completion<T>& done, Start start) {
  MaybeError error = adopt_pipe(fd);
  if (!error) error = start();
  if (!error) return;
  ::close(fd);  // the backend did not take it
  loop.complete_with_error(std::move(done), std::move(*error));
}

}  // namespace

void TransportLoop::create_connection(StreamProtocolFactory factory, Address address, ConnectOptions options,
                                      Completion<Transport> done) {
  auto setup = [&] { return tls_client_setup(*this, options, address); };
  if (!wrap_if_tls(*this, options.ssl != nullptr, setup, factory, done)) return;
  connect_stream(std::move(factory), address, std::move(done));
}

void TransportLoop::create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                                  Completion<Server> done) {
  if (auto error = wrap_server_if_tls(*this, options, factory)) return complete_with_error(std::move(done), *error);
  serve_stream(std::move(factory), address, options, std::move(done));
}

void TransportLoop::connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                                            Completion<Transport> done) {
  // The fd is ours from the call on: closed on every failure.
  auto setup = [&] { return tls_server_setup(*this, options); };
  if (!wrap_if_tls(*this, options.ssl != nullptr, setup, factory, done)) {
    ::close(fd);
    return;
  }
  Error error;
  int family = stream_socket_family(fd, error);
  if (family >= 0) {
    MaybeError refused = start_accepted_socket(factory, fd, family, done);
    if (!refused) return;
    error = std::move(*refused);
  }
  ::close(fd);
  complete_with_error(std::move(done), std::move(error));
}

void TransportLoop::connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done) {
  start_pipe(*this, fd, done, [&] { return start_read_pipe(factory, fd, done); });
}

void TransportLoop::connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done) {
  start_pipe(*this, fd, done, [&] { return start_write_pipe(factory, fd, done); });
}

void TransportLoop::subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv,
                                    SubprocessOptions options, Completion<SubprocessTransport> done) {
  start_subprocess(factory, std::move(done),
                   [&](std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done) {
                     spawn(argv, options, std::move(protocol), std::move(done));
                   });
}

}  // namespace loopspec::kit
