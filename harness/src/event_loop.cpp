#include "loopspec/event_loop.hpp"

namespace loopspec {

namespace {
// What a backend without the capability answers: asyncio's NotImplementedError.
template <class T>
void not_implemented(Completion<T>& done, const char* method) {
  done(Outcome<T>{nullptr, Error{"NotImplementedError", 0, std::string(method) + " is not implemented by this loop"}});
}
}  // namespace

void EventLoop::create_datagram_endpoint(DatagramProtocolFactory, DatagramOptions, Completion<DatagramTransport> done) {
  not_implemented(done, "create_datagram_endpoint");
}
void EventLoop::connect_read_pipe(StreamProtocolFactory, int, Completion<ReadTransport> done) {
  not_implemented(done, "connect_read_pipe");
}
void EventLoop::connect_write_pipe(StreamProtocolFactory, int, Completion<WriteTransport> done) {
  not_implemented(done, "connect_write_pipe");
}
void EventLoop::subprocess_exec(SubprocessProtocolFactory, std::vector<std::string>, SubprocessOptions,
                                Completion<SubprocessTransport> done) {
  not_implemented(done, "subprocess_exec");
}
void EventLoop::subprocess_shell(SubprocessProtocolFactory, std::string, SubprocessOptions,
                                 Completion<SubprocessTransport> done) {
  not_implemented(done, "subprocess_shell");
}

}  // namespace loopspec
