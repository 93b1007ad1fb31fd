// An EventLoop decorator for scenarios: every callback a scenario hands the
// loop (completions, call_soon, call_later) is followed by a hook, so a wait
// re-checks its condition as soon as anything the scenario asked for happened.
#pragma once

#include <functional>
#include <memory>

#include "loopspec/event_loop.hpp"

namespace loopspec {

class ObservedLoop : public EventLoop {
 public:
  ObservedLoop(EventLoop& inner, std::function<void()> after) : inner_(inner), after_(std::move(after)) {}

  void run_forever() override { inner_.run_forever(); }
  void stop() override { inner_.stop(); }
  Duration time() override { return inner_.time(); }
  void call_soon(std::function<void()> callback) override { inner_.call_soon(wrap(std::move(callback))); }
  void call_soon_threadsafe(std::function<void()> callback) override {
    inner_.call_soon_threadsafe(wrap(std::move(callback)));
  }
  std::shared_ptr<TimerHandle> call_later(Duration delay, std::function<void()> callback) override {
    return inner_.call_later(delay, wrap(std::move(callback)));
  }
  void create_connection(StreamProtocolFactory factory, Address address, ConnectOptions options,
                         Completion<Transport> done) override {
    inner_.create_connection(std::move(factory), std::move(address), std::move(options), wrap(std::move(done)));
  }
  void create_server(StreamProtocolFactory factory, Address address, ServerOptions options,
                     Completion<Server> done) override {
    inner_.create_server(std::move(factory), std::move(address), std::move(options), wrap(std::move(done)));
  }
  void connect_accepted_socket(StreamProtocolFactory factory, int fd, ServerOptions options,
                               Completion<Transport> done) override {
    inner_.connect_accepted_socket(std::move(factory), fd, std::move(options), wrap(std::move(done)));
  }
  void create_datagram_endpoint(DatagramProtocolFactory factory, DatagramOptions options,
                                Completion<DatagramTransport> done) override {
    inner_.create_datagram_endpoint(std::move(factory), std::move(options), wrap(std::move(done)));
  }
  void connect_read_pipe(StreamProtocolFactory factory, int fd, Completion<ReadTransport> done) override {
    inner_.connect_read_pipe(std::move(factory), fd, wrap(std::move(done)));
  }
  void connect_write_pipe(StreamProtocolFactory factory, int fd, Completion<WriteTransport> done) override {
    inner_.connect_write_pipe(std::move(factory), fd, wrap(std::move(done)));
  }
  void subprocess_exec(SubprocessProtocolFactory factory, std::vector<std::string> argv, SubprocessOptions options,
                       Completion<SubprocessTransport> done) override {
    inner_.subprocess_exec(std::move(factory), std::move(argv), std::move(options), wrap(std::move(done)));
  }
  void subprocess_shell(SubprocessProtocolFactory factory, std::string command, SubprocessOptions options,
                        Completion<SubprocessTransport> done) override {
    inner_.subprocess_shell(std::move(factory), std::move(command), std::move(options), wrap(std::move(done)));
  }

 private:
  template <class... Args>
  std::function<void(Args...)> wrap(std::function<void(Args...)> callback) {
    return [callback = std::move(callback), after = after_](Args... args) {
      callback(std::forward<Args>(args)...);
      after();
    };
  }

  EventLoop& inner_;
  std::function<void()> after_;
};

}  // namespace loopspec
