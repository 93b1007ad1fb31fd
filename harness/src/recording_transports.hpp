// The transport half of recording (see loopspec/recorder.hpp): wrappers that
// delegate every method to the loop's transport and record a Call event (at
// its return, or before the first callback it runs: Recorder::OpenCall).
//
// Promises: a wrapper passes arguments, results and exceptions through
// unchanged (an exception is recorded in the event's error, then rethrown);
// the state attached to an event is read from the wrapped transport directly
// and never recorded itself. Wrappers are layered templates so that each
// method is written once for every transport class that has it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "loopspec/digest.hpp"
#include "loopspec/recorder.hpp"
#include "loopspec/transports.hpp"

namespace loopspec::recording {

// One recorded connection: its id and the loop's transport, shared by the
// transport wrapper and every protocol wrapper of the connection. It holds the
// transport weakly so that recording adds no ownership cycle.
class RecordedConnection {
 public:
  RecordedConnection(Recorder& recorder, std::uint32_t id, const std::shared_ptr<BaseTransport>& transport);

  Recorder& recorder() const { return recorder_; }
  std::uint32_t id() const { return id_; }
  // "tcp", "unix", "tls", "read-pipe", "write-pipe", "udp", "subprocess"; empty when unknown.
  const std::string& transport_kind() const { return transport_kind_; }

  Event event(EventKind kind, std::string name) const;
  // Attaches the transport's current state and appends the event to the trace.
  void emit(Event& event);

  // Runs call, records it as `event` at return (result described by
  // describe_result(event, result)) or with the exception it threw, which is
  // rethrown unchanged.
  template <class Call, class DescribeResult>
  auto record_call(Event&& event, Call&& call, DescribeResult&& describe_result) -> std::invoke_result_t<Call&>;
  template <class Call>
  void record_call(Event&& event, Call&& call) {
    record_call(std::move(event), std::forward<Call>(call), [](Event&) {});
  }

 private:
  std::optional<TransportState> snapshot() const;
  template <class Call>
  void run_recording_exception(Recorder::OpenCall& open, Event& event, Call&& call);

  Recorder& recorder_;
  std::uint32_t id_;
  std::weak_ptr<BaseTransport> transport_;
  // Views of the transport by kind, valid while transport_ is alive.
  ReadTransport* read_ = nullptr;
  WriteTransport* write_ = nullptr;
  DatagramTransport* datagram_ = nullptr;
  std::string transport_kind_;
};

// Implemented by every recording protocol: the protocol the user gave.
class ProtocolRecording {
 public:
  virtual ~ProtocolRecording() = default;
  virtual std::shared_ptr<BaseProtocol> user_protocol() const = 0;
};

// A recording wrapper of `protocol` for an existing connection (set_protocol);
// protocols of no known kind are returned unchanged.
std::shared_ptr<BaseProtocol> wrap_protocol(const std::shared_ptr<RecordedConnection>& connection,
                                            const std::shared_ptr<BaseProtocol>& protocol);
// "Protocol", "BufferedProtocol", "DatagramProtocol", "SubprocessProtocol"; empty when unknown.
std::string protocol_kind(const BaseProtocol* protocol);

template <class Call>
void RecordedConnection::run_recording_exception(Recorder::OpenCall& open, Event& event, Call&& call) {
  try {
    call();
  } catch (const ContractError& e) {
    event.error = e.error();
    open.finish(event);
    throw;
  } catch (const std::exception& e) {
    event.error = Error{"RuntimeError", 0, e.what()};
    open.finish(event);
    throw;
  } catch (...) {
    event.error = Error{"RuntimeError", 0, "unknown exception"};
    open.finish(event);
    throw;
  }
}

template <class Call, class DescribeResult>
auto RecordedConnection::record_call(Event&& event, Call&& call, DescribeResult&& describe_result)
    -> std::invoke_result_t<Call&> {
  using Result = std::invoke_result_t<Call&>;
  Recorder::OpenCall open(recorder_, event, [this] { return snapshot(); });
  if constexpr (std::is_void_v<Result>) {
    run_recording_exception(open, event, call);
    describe_result(event);
    open.finish(event);
  } else {
    std::optional<Result> result;
    run_recording_exception(open, event, [&] { result.emplace(call()); });
    describe_result(event, *result);
    open.finish(event);
    return std::move(*result);
  }
}

// BaseTransport methods, for a wrapper of interface I (Transport, ReadTransport, ...).
template <class I>
class BaseLayer : public I {
 public:
  BaseLayer(std::shared_ptr<I> inner, std::shared_ptr<RecordedConnection> connection)
      : inner_(std::move(inner)), connection_(std::move(connection)) {}

  std::optional<nlohmann::json> get_extra_info(std::string_view name) override {
    return connection_->record_call(
        call("get_extra_info"), [&] { return inner_->get_extra_info(name); },
        [&](Event& e, const std::optional<nlohmann::json>& value) {
          e.detail = {{"key", name}, {"value", value ? *value : nlohmann::json(nullptr)}};
        });
  }
  bool is_closing() override {
    return connection_->record_call(call("is_closing"), [&] { return inner_->is_closing(); }, record_value);
  }
  void close() override { connection_->record_call(call("close"), [&] { inner_->close(); }); }
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override {
    Event e = call("set_protocol");
    e.protocol = protocol_kind(protocol.get());
    auto recording = wrap_protocol(connection_, protocol);
    connection_->record_call(std::move(e), [&] { inner_->set_protocol(recording); });
  }
  // The loop holds the recording wrapper; the user gets back what they set.
  std::shared_ptr<BaseProtocol> get_protocol() override {
    return connection_->record_call(
        call("get_protocol"),
        [&] {
          std::shared_ptr<BaseProtocol> current = inner_->get_protocol();
          if (auto recording = std::dynamic_pointer_cast<ProtocolRecording>(current)) return recording->user_protocol();
          return current;
        },
        [](Event& e, const std::shared_ptr<BaseProtocol>& result) { e.protocol = protocol_kind(result.get()); });
  }

 protected:
  Event call(std::string name) const { return connection_->event(EventKind::Call, std::move(name)); }
  static void record_value(Event& e, bool value) { e.value = value; }
  static void record_size(Event& e, std::size_t size) { e.size = static_cast<std::int64_t>(size); }

  std::shared_ptr<I> inner_;
  std::shared_ptr<RecordedConnection> connection_;
};

// ReadTransport methods.
template <class Base>
class ReadLayer : public Base {
 public:
  using Base::Base;
  bool is_reading() override {
    return this->connection_->record_call(this->call("is_reading"), [&] { return this->inner_->is_reading(); },
                                          Base::record_value);
  }
  void pause_reading() override {
    this->connection_->record_call(this->call("pause_reading"), [&] { this->inner_->pause_reading(); });
  }
  void resume_reading() override {
    this->connection_->record_call(this->call("resume_reading"), [&] { this->inner_->resume_reading(); });
  }
};

// WriteTransport methods.
template <class Base>
class WriteLayer : public Base {
 public:
  using Base::Base;
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override {
    Event e = this->call("set_write_buffer_limits");
    e.high = high;
    e.low = low;
    this->connection_->record_call(std::move(e), [&] { this->inner_->set_write_buffer_limits(high, low); });
  }
  WriteBufferLimits get_write_buffer_limits() override {
    return this->connection_->record_call(
        this->call("get_write_buffer_limits"), [&] { return this->inner_->get_write_buffer_limits(); },
        [](Event& e, const WriteBufferLimits& limits) {
          e.high = limits.high;
          e.low = limits.low;
        });
  }
  std::size_t get_write_buffer_size() override {
    return this->connection_->record_call(this->call("get_write_buffer_size"),
                                          [&] { return this->inner_->get_write_buffer_size(); }, Base::record_size);
  }
  void write(std::string_view data) override {
    Event e = this->call("write");
    e.size = static_cast<std::int64_t>(data.size());
    e.digest = this->connection_->recorder().digest_of(data);
    this->connection_->record_call(std::move(e), [&] { this->inner_->write(data); });
  }
  void writelines(std::span<const std::string_view> list_of_data) override {
    Event e = this->call("writelines");
    Digest digest;
    std::int64_t total = 0;
    e.detail = nlohmann::json::array();
    const bool digests = this->connection_->recorder().digests();
    for (std::string_view data : list_of_data) {
      if (digests) digest.update(data);
      total += static_cast<std::int64_t>(data.size());
      e.detail.push_back(data.size());
    }
    e.size = total;
    if (digests) e.digest = digest.hex();
    this->connection_->record_call(std::move(e), [&] { this->inner_->writelines(list_of_data); });
  }
  void write_eof() override {
    this->connection_->record_call(this->call("write_eof"), [&] { this->inner_->write_eof(); });
  }
  bool can_write_eof() override {
    return this->connection_->record_call(this->call("can_write_eof"), [&] { return this->inner_->can_write_eof(); },
                                          Base::record_value);
  }
  void abort() override { this->connection_->record_call(this->call("abort"), [&] { this->inner_->abort(); }); }
};

// DatagramTransport methods.
template <class Base>
class DatagramLayer : public Base {
 public:
  using Base::Base;
  void sendto(std::string_view data, std::optional<Address> addr) override {
    Event e = this->call("sendto");
    e.size = static_cast<std::int64_t>(data.size());
    e.digest = this->connection_->recorder().digest_of(data);
    if (addr) e.detail = {{"addr", to_json(*addr)}};
    this->connection_->record_call(std::move(e), [&] { this->inner_->sendto(data, addr); });
  }
  void abort() override { this->connection_->record_call(this->call("abort"), [&] { this->inner_->abort(); }); }
  std::size_t get_write_buffer_size() override {
    return this->connection_->record_call(this->call("get_write_buffer_size"),
                                          [&] { return this->inner_->get_write_buffer_size(); }, Base::record_size);
  }
};

// SubprocessTransport methods. Pipe transports are handed out unwrapped.
template <class Base>
class SubprocessLayer : public Base {
 public:
  using Base::Base;
  int get_pid() override {
    return this->connection_->record_call(this->call("get_pid"), [&] { return this->inner_->get_pid(); },
                                          [](Event& e, int pid) { e.detail = {{"pid", pid}}; });
  }
  std::shared_ptr<BaseTransport> get_pipe_transport(int fd) override {
    Event e = this->call("get_pipe_transport");
    e.fd = fd;
    return this->connection_->record_call(
        std::move(e), [&] { return this->inner_->get_pipe_transport(fd); },
        [](Event& e, const std::shared_ptr<BaseTransport>& pipe) { e.value = pipe != nullptr; });
  }
  std::optional<int> get_returncode() override {
    return this->connection_->record_call(
        this->call("get_returncode"), [&] { return this->inner_->get_returncode(); },
        [](Event& e, const std::optional<int>& code) {
          e.detail = {{"returncode", code ? nlohmann::json(*code) : nlohmann::json(nullptr)}};
        });
  }
  void send_signal(int signal) override {
    Event e = this->call("send_signal");
    e.detail = {{"signal", signal}};
    this->connection_->record_call(std::move(e), [&] { this->inner_->send_signal(signal); });
  }
  void terminate() override {
    this->connection_->record_call(this->call("terminate"), [&] { this->inner_->terminate(); });
  }
  void kill() override { this->connection_->record_call(this->call("kill"), [&] { this->inner_->kill(); }); }
};

using RecordingTransport = WriteLayer<ReadLayer<BaseLayer<Transport>>>;
using RecordingReadTransport = ReadLayer<BaseLayer<ReadTransport>>;
using RecordingWriteTransport = WriteLayer<BaseLayer<WriteTransport>>;
using RecordingDatagramTransport = DatagramLayer<BaseLayer<DatagramTransport>>;
using RecordingSubprocessTransport = SubprocessLayer<BaseLayer<SubprocessTransport>>;

}  // namespace loopspec::recording
