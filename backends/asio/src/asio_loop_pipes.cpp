// AsioLoop's pipe endpoints: check the descriptor, put it on a
// posix::stream_descriptor, then the transport with its protocol.
#include <unistd.h>

#include "loopspec/asio/asio_error.hpp"
#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/asio/pipe_transports.hpp"

namespace loopspec::asio {

namespace {

// fd on a stream descriptor, or nullopt after done got the error (fd closed).
template <class T>
std::optional<Descriptor> open_pipe(AsioLoop& loop, int fd, Completion<T>& done) {
  MaybeError error = kit::adopt_pipe(fd);
  if (!error) {
    Descriptor descriptor(loop.context());
    boost::system::error_code ec;
    descriptor.assign(fd, ec);  // epoll refuses nothing adopt_pipe accepts; a failure is reported all the same
    if (!ec) return descriptor;
    error = error_from_code(ec);
  }
  ::close(fd);
  loop.complete_with_error(std::move(done), std::move(*error));
  return std::nullopt;
}

}  // namespace

void AsioLoop::connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done) {
  if (auto descriptor = open_pipe(*this, fd, done)) {
    start_endpoint<ReadPipeTransport>(*this, std::move(*descriptor), factory, std::move(done));
  }
}

void AsioLoop::connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done) {
  if (auto descriptor = open_pipe(*this, fd, done)) {
    start_endpoint<WritePipeTransport>(*this, std::move(*descriptor), factory, std::move(done));
  }
}

}  // namespace loopspec::asio
