#include "loopspec/remote/remote_loop.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <exception>

#include "remote_session.hpp"
#include "remote_transports.hpp"

namespace loopspec::remote {

using nlohmann::json;

namespace {

json tls_to_wire(const std::shared_ptr<const TlsConfig>& tls) {
  if (!tls) return nullptr;
  return json{{"cert_file", tls->cert_file}, {"key_file", tls->key_file}, {"ca_file", tls->ca_file},
              {"verify_peer", tls->verify_peer}, {"alpn", tls->alpn}};
}

void add_tls(json& command, const std::shared_ptr<const TlsConfig>& tls, const std::optional<Duration>& handshake,
             const std::optional<Duration>& shutdown) {
  if (!tls) return;
  command["ssl"] = tls_to_wire(tls);
  if (handshake) command["ssl_handshake_timeout"] = handshake->count();
  if (shutdown) command["ssl_shutdown_timeout"] = shutdown->count();
}

double wire_delay(Duration delay) {
  double seconds = delay.count();
  if (!(seconds > 0)) return 0;  // NaN and negative delays mean "now" (JSON has no NaN)
  return std::min(seconds, 1e9);
}

// Starts an operation that ends with a "done" event carrying a connection
// id: the completion gets that connection's transport as T.
template <class T>
void start_connection_operation(const std::shared_ptr<RemoteSession>& session, std::string_view command, json arguments,
                                ProtocolMaker maker, TransportKind kind, Completion<T> done,
                                std::span<const int> fds = {}) {
  std::uint64_t factory = session->add_factory(std::move(maker), kind);
  std::weak_ptr<RemoteSession> weak = session;
  auto shared_done = std::make_shared<Completion<T>>(std::move(done));
  std::uint64_t op = session->add_operation([weak, kind, shared_done](const MessageView& event) {
    auto s = weak.lock();
    if (!s) return;
    if (event.has("error")) {
      MaybeError error = event.error("error");
      if (!error) event.fail("error", "must not be null");
      (*shared_done)(Outcome<T>{nullptr, error});
      return;
    }
    auto transport = std::dynamic_pointer_cast<T>(s->transport(event.id("conn"), kind));
    if (!transport) event.fail("conn", "names a connection of another kind");
    (*shared_done)(Outcome<T>{transport, std::nullopt});
  });
  arguments["op"] = op;
  arguments["factory"] = factory;
  try {
    session->driver().request(command, std::move(arguments), fds);
  } catch (const ContractError& e) {
    // The driver could not even start it (an unknown command is NotImplementedError).
    session->forget_operation(op, factory);
    (*shared_done)(Outcome<T>{nullptr, e.error()});
  }
}

template <class F>
ProtocolMaker maker_of(F factory) {
  return [factory = std::move(factory)]() -> std::shared_ptr<BaseProtocol> { return factory(); };
}

json stdio_to_wire(const StdioSpec& spec, std::vector<int>& fds) {
  switch (spec.mode) {
    case Stdio::Pipe:
      return "pipe";
    case Stdio::DevNull:
      return "devnull";
    case Stdio::Inherit:
      return "inherit";
    case Stdio::Fd:
      fds.push_back(spec.fd);
      return json{{"fd", spec.fd}};
  }
  return "pipe";
}

}  // namespace

RemoteLoop::RemoteLoop(const DriverCommand& command, ConnectionOptions options, bool exit_on_ignored_failure)
    : session_(std::make_shared<RemoteSession>(command, std::move(options))),
      exit_on_ignored_failure_(exit_on_ignored_failure) {}

RemoteLoop::~RemoteLoop() {
  DriverConnection& driver = session_->driver();
  // A failure that is not unwinding the stack right now was caught and ignored by the caller.
  bool ignored = driver.failed() && std::uncaught_exceptions() == 0 && exit_on_ignored_failure_;
  std::string failure = driver.failure();
  session_->release();
  if (ignored) {
    std::string text = "loopspec: " + failure +
                       "\nloopspec: the scenario caught this failure and went on; ending its process so that it is "
                       "an ERROR, not a verdict on the loop\n";
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, text.data(), text.size());
    std::_Exit(kIgnoredDriverFailureExit);
  }
}

const Hello& RemoteLoop::hello() const { return session_->driver().hello(); }
pid_t RemoteLoop::driver_pid() const { return session_->driver().pid(); }

void RemoteLoop::run_forever() { session_->driver().run(); }
void RemoteLoop::stop() { session_->driver().request("stop"); }

Duration RemoteLoop::time() {
  json value = session_->driver().request("time");
  if (!value.is_number()) throw DriverFailure("reply to 'time': field 'ok': expected a number, got " + value.dump());
  return Duration(value.get<double>());
}

void RemoteLoop::call_soon(std::function<void()> callback) {
  std::uint64_t id = session_->add_callback(std::move(callback), std::nullopt);
  session_->driver().request("call_soon", {{"handle", id}});
}

void RemoteLoop::call_soon_threadsafe(std::function<void()> callback) {
  std::uint64_t id = session_->add_callback(std::move(callback), std::nullopt);
  session_->driver().post({{"post", "call_soon_threadsafe"}, {"handle", id}});
}

std::shared_ptr<TimerHandle> RemoteLoop::call_later(Duration delay, std::function<void()> callback) {
  double seconds = wire_delay(delay);
  auto due = Clock::now() + std::chrono::duration_cast<Clock::duration>(Duration(seconds));
  std::uint64_t id = session_->add_callback(std::move(callback), due);
  session_->driver().request("call_later", {{"handle", id}, {"delay", seconds}});
  return std::make_shared<RemoteTimerHandle>(session_, id);
}

void RemoteLoop::create_connection(StreamProtocolFactory factory, Address address, ConnectOptions options,
                                   Completion<Transport> done) {
  json arguments{{"address", address_to_wire(address)}};
  add_tls(arguments, options.ssl, options.ssl_handshake_timeout, options.ssl_shutdown_timeout);
  if (options.ssl && !options.server_hostname.empty()) arguments["server_hostname"] = options.server_hostname;
  start_connection_operation(session_, "create_connection", std::move(arguments), maker_of(std::move(factory)),
                             TransportKind::Stream, std::move(done));
}

void RemoteLoop::create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                               Completion<Server> done) {
  std::uint64_t factory_id = session_->add_factory(maker_of(std::move(factory)), TransportKind::Stream);
  std::weak_ptr<RemoteSession> weak = session_;
  auto shared_done = std::make_shared<Completion<Server>>(std::move(done));
  std::uint64_t op = session_->add_operation([weak, shared_done](const MessageView& event) {
    auto s = weak.lock();
    if (!s) return;
    if (event.has("error")) {
      MaybeError error = event.error("error");
      if (!error) event.fail("error", "must not be null");
      (*shared_done)(Outcome<Server>{nullptr, error});
      return;
    }
    (*shared_done)(Outcome<Server>{std::make_shared<RemoteServer>(s, event.id("server")), std::nullopt});
  });
  json arguments{{"op", op},
                 {"factory", factory_id},
                 {"address", address_to_wire(address)},
                 {"backlog", options.backlog},
                 {"reuse_port", options.reuse_port}};
  add_tls(arguments, options.ssl, options.ssl_handshake_timeout, options.ssl_shutdown_timeout);
  try {
    session_->driver().request("create_server", std::move(arguments));
  } catch (const ContractError& e) {
    session_->forget_operation(op, factory_id);
    (*shared_done)(Outcome<Server>{nullptr, e.error()});
  }
}

void RemoteLoop::connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                                         Completion<Transport> done) {
  // The driver gets its own copy of the descriptor; this one is ours to close, as the call takes ownership.
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  json arguments{{"fds", 1}};
  add_tls(arguments, options.ssl, options.ssl_handshake_timeout, options.ssl_shutdown_timeout);
  int fds[1] = {fd};
  start_connection_operation(session_, "connect_accepted_socket", std::move(arguments), maker_of(std::move(factory)),
                             TransportKind::Stream, std::move(done), fds);
}

void RemoteLoop::create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                          Completion<DatagramTransport> done) {
  json arguments{{"local_addr", options.local_addr ? address_to_wire(*options.local_addr) : json(nullptr)},
                 {"remote_addr", options.remote_addr ? address_to_wire(*options.remote_addr) : json(nullptr)},
                 {"reuse_port", options.reuse_port}};
  start_connection_operation(session_, "create_datagram_endpoint", std::move(arguments), maker_of(std::move(factory)),
                             TransportKind::Datagram, std::move(done));
}

void RemoteLoop::connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done) {
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  int fds[1] = {fd};
  start_connection_operation(session_, "connect_read_pipe", json{{"fds", 1}}, maker_of(std::move(factory)),
                             TransportKind::ReadPipe, std::move(done), fds);
}

void RemoteLoop::connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done) {
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  int fds[1] = {fd};
  start_connection_operation(session_, "connect_write_pipe", json{{"fds", 1}}, maker_of(std::move(factory)),
                             TransportKind::WritePipe, std::move(done), fds);
}

void RemoteLoop::subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv,
                                 SubprocessOptions options, Completion<SubprocessTransport> done) {
  std::vector<int> fds;
  json arguments{{"argv", argv},
                 {"stdin", stdio_to_wire(options.stdin_spec, fds)},
                 {"stdout", stdio_to_wire(options.stdout_spec, fds)},
                 {"stderr", stdio_to_wire(options.stderr_spec, fds)}};
  start_connection_operation(session_, "subprocess_exec", std::move(arguments), maker_of(std::move(factory)),
                             TransportKind::Subprocess, std::move(done), fds);
}

void RemoteLoop::subprocess_shell(SubprocessProtocolFactory factory, std::string command, SubprocessOptions options,
                                  Completion<SubprocessTransport> done) {
  std::vector<int> fds;
  json arguments{{"command", command},
                 {"stdin", stdio_to_wire(options.stdin_spec, fds)},
                 {"stdout", stdio_to_wire(options.stdout_spec, fds)},
                 {"stderr", stdio_to_wire(options.stderr_spec, fds)}};
  start_connection_operation(session_, "subprocess_shell", std::move(arguments), maker_of(std::move(factory)),
                             TransportKind::Subprocess, std::move(done), fds);
}

}  // namespace loopspec::remote
