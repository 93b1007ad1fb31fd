// A LoopBase with the EventLoop methods whose glue is the same whatever I/O
// library drives the loop: the checks and the TLS wrapping asyncio does
// before any socket is made, and who closes a descriptor that a failed setup
// leaves. The backend answers the protected methods with its own sockets,
// pipes and children.
//
// Promises:
// - create_connection, create_server, connect_accepted_socket: with ssl,
//   every connection's protocol is the kit's TlsProtocol (tls_setup.hpp);
//   settings the TLS layer refuses complete `done` with their error
//   (scheduled) and nothing is made.
// - connect_accepted_socket: fd is the transport's from the call on. A
//   descriptor that is no stream socket (stream_socket_family), or one the
//   backend refuses, is closed and its error goes to `done` (scheduled).
// - connect_read_pipe, connect_write_pipe: fd is the transport's from the
//   call on; one adopt_pipe refuses (pipe_ends.hpp), or the backend refuses,
//   is closed and its error goes to `done` (scheduled).
// - subprocess_exec: the protocol from the factory (start_subprocess), then
//   spawn(); subprocess_close_signal() is the signal
//   SubprocessTransport.close() sends a running child: SIGKILL (the 3.8
//   page, the default) or SIGTERM (3.4.3).
#pragma once

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/loop_base.hpp"

namespace loopspec::kit {

class TransportLoop : public LoopBase {
 public:
  using LoopBase::LoopBase;

  // EventLoop
  void create_connection(StreamProtocolFactory factory, Address address, ConnectOptions options,
                         Completion<Transport> done) final;
  void create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                     Completion<Server> done) final;
  void connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                               Completion<Transport> done) final;
  void connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done) final;
  void connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done) final;
  void subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv, SubprocessOptions options,
                       Completion<SubprocessTransport> done) final;

  void set_subprocess_close_signal(int signal) { subprocess_close_signal_ = signal; }
  int subprocess_close_signal() const { return subprocess_close_signal_; }

 protected:
  // The backend's part, after the checks above.
  virtual void connect_stream(StreamProtocolFactory factory, const Address& address, Completion<Transport> done) = 0;
  virtual void serve_stream(StreamProtocolFactory factory, const Address& address, const ServerOptions& options,
                            Completion<Server> done) = 0;
  // fd: a stream socket of `family`. The transport around it (done moved
  // away), or the error with fd and done left to the caller.
  virtual MaybeError start_accepted_socket(const StreamProtocolFactory& factory, int fd, int family,
                                           Completion<Transport>& done) = 0;
  // fd: what adopt_pipe accepted. The transport around it (done moved away),
  // or the error with fd and done left to the caller.
  virtual MaybeError start_read_pipe(const StreamProtocolFactory& factory, int fd, Completion<ReadTransport>& done) = 0;
  virtual MaybeError start_write_pipe(const StreamProtocolFactory& factory, int fd,
                                      Completion<WriteTransport>& done) = 0;
  // Starts the child at once; one that cannot start completes done with its error.
  virtual void spawn(const std::vector<std::string>& argv, const SubprocessOptions& options,
                     std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done) = 0;

 private:
  int subprocess_close_signal_ = SIGKILL;
};

}  // namespace loopspec::kit
