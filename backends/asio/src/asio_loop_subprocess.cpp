// AsioLoop's child processes: the protocol, then the child (child_process.hpp).
#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/asio/child_process.hpp"
#include "loopspec/kit/exception_error.hpp"

namespace loopspec::asio {

void AsioLoop::subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv,
                               SubprocessOptions options, Completion<SubprocessTransport> done) {
  try {
    auto protocol = factory();
    if (!protocol) throw ContractError(Error{"TypeError", 0, "the protocol factory returned no protocol"});
    ChildProcess::spawn(*this, argv, options, std::move(protocol), done);
  } catch (...) {
    complete_with_error(std::move(done), kit::error_from_current_exception());
  }
}

void AsioLoop::subprocess_shell(SubprocessProtocolFactory factory, std::string command, SubprocessOptions options,
                                Completion<SubprocessTransport> done) {
  subprocess_exec(std::move(factory), {"/bin/sh", "-c", std::move(command)}, std::move(options), std::move(done));
}

}  // namespace loopspec::asio
