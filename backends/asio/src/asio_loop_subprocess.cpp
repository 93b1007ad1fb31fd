// AsioLoop's child processes: the protocol, then the child (child_process.hpp).
#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/asio/child_process.hpp"

namespace loopspec::asio {

void AsioLoop::subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv,
                                SubprocessOptions options, Completion<SubprocessTransport> done) {
  start_subprocess(factory, std::move(done), [&](std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done) {
    ChildProcess::spawn(*this, argv, options, std::move(protocol), std::move(done));
  });
}

}  // namespace loopspec::asio
