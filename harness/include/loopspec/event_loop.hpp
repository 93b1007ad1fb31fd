// The event loop, as far as transports and protocols need it.
//
// asyncio's coroutines (create_connection, create_server, ...) become methods
// taking a completion callback: `done` runs on the loop thread exactly once,
// after connection_made when setup succeeded, with the canonical error
// otherwise (and then no protocol callback runs at all).
// A method a backend does not implement completes with NotImplementedError;
// backends also declare capabilities (harness/include/loopspec/backend.hpp)
// so that scenarios needing them are skipped as UNSUPPORTED.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/address.hpp"
#include "loopspec/error.hpp"
#include "loopspec/protocols.hpp"
#include "loopspec/transports.hpp"

namespace loopspec {

template <class T>
struct Outcome {
  std::shared_ptr<T> value;  // set on success
  MaybeError error;          // set on failure
  bool ok() const { return value != nullptr; }
};

template <class T>
using Completion = std::function<void(Outcome<T>)>;

using StreamProtocolFactory = std::function<std::shared_ptr<StreamProtocol>()>;
using DatagramProtocolFactory = std::function<std::shared_ptr<DatagramProtocol>()>;
using SubprocessProtocolFactory = std::function<std::shared_ptr<SubprocessProtocol>()>;
using Duration = std::chrono::duration<double>;

class TimerHandle {
 public:
  virtual ~TimerHandle() = default;
  virtual void cancel() = 0;  // no-op once run or cancelled
};

class Server {
 public:
  virtual ~Server() = default;
  // Stops listening; connections already accepted stay open.
  virtual void close() = 0;
  virtual bool is_serving() = 0;
  // The bound addresses (the real port when 0 was asked for).
  virtual std::vector<Address> addresses() = 0;
};

// TLS settings for create_connection/create_server (the reference issue
// implements them; plain stream backends ignore a null config).
struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool verify_peer = true;
  std::vector<std::string> alpn;
};

struct ConnectOptions {
  std::shared_ptr<const TlsConfig> ssl;
  std::string server_hostname;
  std::optional<Duration> ssl_handshake_timeout;
  std::optional<Duration> ssl_shutdown_timeout;
};

struct ServerOptions {
  std::shared_ptr<const TlsConfig> ssl;
  int backlog = 100;
  bool reuse_port = false;
  std::optional<Duration> ssl_handshake_timeout;
  std::optional<Duration> ssl_shutdown_timeout;
};

struct DatagramOptions {
  std::optional<Address> local_addr;
  std::optional<Address> remote_addr;
  bool reuse_port = false;
};

enum class Stdio { Pipe, DevNull, Inherit, Fd };
struct StdioSpec {
  Stdio mode = Stdio::Pipe;
  int fd = -1;  // with Stdio::Fd
};
struct SubprocessOptions {
  StdioSpec stdin_spec, stdout_spec, stderr_spec;
};

class EventLoop {
 public:
  virtual ~EventLoop() = default;

  // Runs callbacks until stop(); stop() makes run_forever return after the
  // current iteration. Not re-entrant.
  virtual void run_forever() = 0;
  virtual void stop() = 0;
  virtual Duration time() = 0;  // monotonic
  virtual void call_soon(std::function<void()> callback) = 0;
  // The only method callable from another thread.
  virtual void call_soon_threadsafe(std::function<void()> callback) = 0;
  virtual std::shared_ptr<TimerHandle> call_later(Duration delay, std::function<void()> callback) = 0;

  // Streams: InetAddress for TCP, UnixAddress for Unix sockets.
  virtual void create_connection(StreamProtocolFactory factory, Address address,
                                 ConnectOptions options, Completion<Transport> done) = 0;
  virtual void create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                             Completion<Server> done) = 0;
  // Takes ownership of fd, an already connected stream socket.
  virtual void connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                                       Completion<Transport> done) = 0;

  virtual void create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                        Completion<DatagramTransport> done);
  // Pipes: the transport takes ownership of fd.
  virtual void connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done);
  virtual void connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done);
  virtual void subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv,
                               SubprocessOptions options, Completion<SubprocessTransport> done);
  virtual void subprocess_shell(SubprocessProtocolFactory factory, std::string command,
                                SubprocessOptions options, Completion<SubprocessTransport> done);

  // asyncio spells the Unix variants separately; they are the same call here.
  void create_unix_connection(StreamProtocolFactory factory, std::string path, ConnectOptions options,
                              Completion<Transport> done) {
    create_connection(std::move(factory), UnixAddress{std::move(path)}, std::move(options), std::move(done));
  }
  void create_unix_server(StreamProtocolFactory factory, std::string path, ServerOptions options,
                          Completion<Server> done) {
    create_server(std::move(factory), UnixAddress{std::move(path)}, std::move(options), std::move(done));
  }
};

}  // namespace loopspec
