// EpollLoop's child processes: build the protocol, start the child, hand over.
#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/kit/exception_error.hpp"
#include "loopspec/reference/subprocess_transport.hpp"

namespace loopspec::reference {

void EpollLoop::subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv,
                                SubprocessOptions options, Completion<SubprocessTransport> done) {
  std::shared_ptr<SubprocessProtocol> protocol;
  try {
    protocol = factory();
  } catch (...) {
    return complete_with_error(std::move(done), kit::error_from_current_exception());
  }
  if (!protocol) return complete_with_error(std::move(done), Error{"TypeError", 0, "the protocol factory returned no protocol"});
  try {
    ChildProcessTransport::start(*this, argv, options, std::move(protocol), done);
  } catch (const ContractError& e) {
    complete_with_error(std::move(done), e.error());
  }
}

void EpollLoop::subprocess_shell(SubprocessProtocolFactory factory, std::string command, SubprocessOptions options,
                                 Completion<SubprocessTransport> done) {
  subprocess_exec(std::move(factory), {"/bin/sh", "-c", std::move(command)}, std::move(options), std::move(done));
}

}  // namespace loopspec::reference
