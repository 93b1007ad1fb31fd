// EpollLoop's pipe endpoints: check the descriptor, build the protocol, hand over.
#include <unistd.h>

#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/kit/exception_error.hpp"
#include "loopspec/reference/pipe_descriptor.hpp"
#include "loopspec/reference/read_pipe_transport.hpp"
#include "loopspec/reference/write_pipe_transport.hpp"

namespace loopspec::reference {

namespace {

// The descriptor's kind and the factory's protocol; on failure fd is closed
// and the error completes `done` from a scheduled callback.
template <class T>
std::optional<std::pair<PipeKind, std::shared_ptr<StreamProtocol>>> prepare_pipe(EpollLoop& loop, int fd,
                                                                                 const StreamProtocolFactory& factory,
                                                                                 Completion<T>& done) {
  auto fail = [&](Error error) {
    ::close(fd);
    loop.complete_with_error(std::move(done), std::move(error));
    return std::nullopt;
  };
  PipeKind kind;
  try {
    kind = adopt_pipe_descriptor(fd);
  } catch (const ContractError& e) {
    return fail(e.error());
  }
  std::shared_ptr<StreamProtocol> protocol;
  try {
    protocol = factory();
  } catch (...) {
    return fail(kit::error_from_current_exception());
  }
  if (!protocol) return fail(Error{"TypeError", 0, "the protocol factory returned no protocol"});
  return std::pair{kind, std::move(protocol)};
}

}  // namespace

void EpollLoop::connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done) {
  auto prepared = prepare_pipe(*this, fd, factory, done);
  if (!prepared) return;
  try {
    ReadPipeTransport::start(*this, fd, prepared->first, std::move(prepared->second), done);
  } catch (const ContractError& e) {
    complete_with_error(std::move(done), e.error());  // a protocol of no stream kind; the transport closed fd
  }
}

void EpollLoop::connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done) {
  auto prepared = prepare_pipe(*this, fd, factory, done);
  if (!prepared) return;
  WritePipeTransport::start(*this, fd, prepared->first, std::move(prepared->second), std::move(done));
}

}  // namespace loopspec::reference
