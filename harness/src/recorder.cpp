#include "loopspec/recorder.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/core.h>

#include "loopspec/digest.hpp"
#include "recording_transports.hpp"

namespace loopspec {

namespace recording {

namespace {

template <class F>
auto quietly(F&& query) -> std::optional<decltype(query())> {
  try {
    return query();
  } catch (...) {
    return std::nullopt;  // a query that fails leaves its state field absent
  }
}

std::string classify_transport(BaseTransport& transport) {
  if (dynamic_cast<Transport*>(&transport) != nullptr) {
    auto ssl_object = quietly([&] { return transport.get_extra_info("ssl_object"); });
    if (ssl_object && *ssl_object) return "tls";
    auto sockname = quietly([&] { return transport.get_extra_info("sockname"); });
    if (sockname && *sockname && (*sockname)->is_string()) return "unix";
    return "tcp";
  }
  if (dynamic_cast<ReadTransport*>(&transport) != nullptr) return "read-pipe";
  if (dynamic_cast<WriteTransport*>(&transport) != nullptr) return "write-pipe";
  if (dynamic_cast<DatagramTransport*>(&transport) != nullptr) return "udp";
  if (dynamic_cast<SubprocessTransport*>(&transport) != nullptr) return "subprocess";
  return "";
}

}  // namespace

RecordedConnection::RecordedConnection(Recorder& recorder, std::uint32_t id,
                                       const std::shared_ptr<BaseTransport>& transport)
    : recorder_(recorder), id_(id), transport_(transport) {
  if (!transport) return;
  read_ = dynamic_cast<ReadTransport*>(transport.get());
  write_ = dynamic_cast<WriteTransport*>(transport.get());
  datagram_ = dynamic_cast<DatagramTransport*>(transport.get());
  transport_kind_ = classify_transport(*transport);
}

Event RecordedConnection::event(EventKind kind, std::string name) const {
  Event event;
  event.conn = id_;
  event.kind = kind;
  event.name = std::move(name);
  return event;
}

void RecordedConnection::emit(Event& event) {
  event.state = snapshot();
  recorder_.emit_in_place(event);
}

std::optional<TransportState> RecordedConnection::snapshot() const {
  std::shared_ptr<BaseTransport> transport = transport_.lock();
  if (!transport) return std::nullopt;
  TransportState state;
  auto as_int = [](std::size_t size) { return static_cast<std::int64_t>(size); };
  if (write_ != nullptr) {
    if (auto size = quietly([&] { return write_->get_write_buffer_size(); })) state.write_buffer_size = as_int(*size);
    if (auto limits = quietly([&] { return write_->get_write_buffer_limits(); })) {
      state.low = limits->low;
      state.high = limits->high;
    }
  } else if (datagram_ != nullptr) {
    if (auto size = quietly([&] { return datagram_->get_write_buffer_size(); })) state.write_buffer_size = as_int(*size);
  }
  state.closing = quietly([&] { return transport->is_closing(); });
  if (read_ != nullptr) state.reading = quietly([&] { return read_->is_reading(); });
  return state;
}

std::string protocol_kind(const BaseProtocol* protocol) {
  if (dynamic_cast<const Protocol*>(protocol) != nullptr) return "Protocol";
  if (dynamic_cast<const BufferedProtocol*>(protocol) != nullptr) return "BufferedProtocol";
  if (dynamic_cast<const DatagramProtocol*>(protocol) != nullptr) return "DatagramProtocol";
  if (dynamic_cast<const SubprocessProtocol*>(protocol) != nullptr) return "SubprocessProtocol";
  return "";
}

namespace {

// The wrapper the user's protocol sees in connection_made; a transport of no
// known kind is passed on unwrapped.
std::shared_ptr<BaseTransport> wrap_transport(const std::shared_ptr<RecordedConnection>& connection,
                                              const std::shared_ptr<BaseTransport>& transport) {
  if (auto stream = std::dynamic_pointer_cast<Transport>(transport)) {
    return std::make_shared<RecordingTransport>(stream, connection);
  }
  if (auto read_pipe = std::dynamic_pointer_cast<ReadTransport>(transport)) {
    return std::make_shared<RecordingReadTransport>(read_pipe, connection);
  }
  if (auto write_pipe = std::dynamic_pointer_cast<WriteTransport>(transport)) {
    return std::make_shared<RecordingWriteTransport>(write_pipe, connection);
  }
  if (auto datagram = std::dynamic_pointer_cast<DatagramTransport>(transport)) {
    return std::make_shared<RecordingDatagramTransport>(datagram, connection);
  }
  if (auto subprocess = std::dynamic_pointer_cast<SubprocessTransport>(transport)) {
    return std::make_shared<RecordingSubprocessTransport>(subprocess, connection);
  }
  return transport;
}

// BaseProtocol callbacks, for a wrapper of interface I (Protocol, BufferedProtocol, ...).
// Every callback: a Callback event at entry, the user's callback, the Return
// event where the callback returns a value, then Recorder::after_callback().
template <class I>
class ProtocolLayer : public I, public ProtocolRecording {
 public:
  ProtocolLayer(Recorder& recorder, std::shared_ptr<I> user, std::shared_ptr<RecordedConnection> connection)
      : user_(std::move(user)), recorder_(recorder), connection_(std::move(connection)) {}

  std::shared_ptr<BaseProtocol> user_protocol() const override { return user_; }

  void connection_made(std::shared_ptr<BaseTransport> transport) override {
    // A second connection_made keeps the id, so the checker sees it on the same connection.
    std::uint32_t id = connection_ ? connection_->id() : recorder_.new_connection_id();
    connection_ = std::make_shared<RecordedConnection>(recorder_, id, transport);
    std::shared_ptr<BaseTransport> wrapped = wrap_transport(connection_, transport);
    Event e = callback("connection_made");
    e.protocol = protocol_kind(this);
    e.transport = connection_->transport_kind();
    deliver(std::move(e), [&] { user_->connection_made(wrapped); });
  }
  void connection_lost(const MaybeError& exc) override {
    Event e = callback("connection_lost");
    e.error = exc;
    deliver(std::move(e), [&] { user_->connection_lost(exc); });
  }
  void pause_writing() override { deliver(callback("pause_writing"), [&] { user_->pause_writing(); }); }
  void resume_writing() override { deliver(callback("resume_writing"), [&] { user_->resume_writing(); }); }

 protected:
  // Callbacks before connection_made (a loop fault) still get a connection id.
  RecordedConnection& connection() {
    if (!connection_) connection_ = std::make_shared<RecordedConnection>(recorder_, recorder_.new_connection_id(), nullptr);
    return *connection_;
  }
  Event callback(std::string name) { return connection().event(EventKind::Callback, std::move(name)); }

  template <class Call>
  void deliver(Event&& entry, Call&& call) {
    connection().emit(entry);
    run_then_notify([&] { call(); });
  }

  // For callbacks with a result: describe_return(event, result) fills the Return event.
  template <class Call, class DescribeReturn>
  auto deliver(Event&& entry, Call&& call, DescribeReturn&& describe_return) -> std::invoke_result_t<Call&> {
    connection().emit(entry);
    std::optional<std::invoke_result_t<Call&>> result;
    run_then_notify([&] {
      result.emplace(call());
      Event returned = connection().event(EventKind::Return, std::move(entry.name));
      describe_return(returned, *result);
      connection().emit(returned);
    });
    return std::move(*result);
  }

  std::shared_ptr<I> user_;

 private:
  template <class Body>
  void run_then_notify(Body&& body) {
    try {
      body();
    } catch (...) {
      recorder_.after_callback();
      throw;
    }
    recorder_.after_callback();
  }

  Recorder& recorder_;
  std::shared_ptr<RecordedConnection> connection_;
};

template <class I>
class StreamLayer : public ProtocolLayer<I> {
 public:
  using ProtocolLayer<I>::ProtocolLayer;
  bool eof_received() override {
    return this->deliver(this->callback("eof_received"), [&] { return this->user_->eof_received(); },
                         [](Event& e, bool value) { e.value = value; });
  }
};

class RecordingProtocol final : public StreamLayer<Protocol> {
 public:
  using StreamLayer::StreamLayer;
  void data_received(std::string_view data) override {
    Event e = callback("data_received");
    e.size = static_cast<std::int64_t>(data.size());
    e.digest = connection().recorder().digest_of(data);
    deliver(std::move(e), [&] { user_->data_received(data); });
  }
};

class RecordingBufferedProtocol final : public StreamLayer<BufferedProtocol> {
 public:
  using StreamLayer::StreamLayer;
  std::span<char> get_buffer(std::int64_t sizehint) override {
    Event e = callback("get_buffer");
    e.size = sizehint;
    lent_ = {};
    lent_ = deliver(std::move(e), [&] { return user_->get_buffer(sizehint); },
                    [](Event& r, std::span<char> buffer) { r.size = static_cast<std::int64_t>(buffer.size()); });
    return lent_;
  }
  // The digest covers the bytes the transport wrote into the lent buffer, so
  // traces of both protocol kinds show the same stream.
  void buffer_updated(std::size_t nbytes) override {
    Event e = callback("buffer_updated");
    e.size = static_cast<std::int64_t>(nbytes);
    if (nbytes > 0 && nbytes <= lent_.size()) {
      e.digest = connection().recorder().digest_of(std::string_view(lent_.data(), nbytes));
    }
    lent_ = {};
    deliver(std::move(e), [&] { user_->buffer_updated(nbytes); });
  }

 private:
  std::span<char> lent_;  // the last buffer get_buffer returned, until buffer_updated
};

class RecordingDatagramProtocol final : public ProtocolLayer<DatagramProtocol> {
 public:
  using ProtocolLayer::ProtocolLayer;
  void datagram_received(std::string_view data, const Address& addr) override {
    Event e = callback("datagram_received");
    e.size = static_cast<std::int64_t>(data.size());
    e.digest = connection().recorder().digest_of(data);
    e.detail = {{"addr", to_json(addr)}};
    deliver(std::move(e), [&] { user_->datagram_received(data, addr); });
  }
  void error_received(const Error& exc) override {
    Event e = callback("error_received");
    e.error = exc;
    deliver(std::move(e), [&] { user_->error_received(exc); });
  }
};

class RecordingSubprocessProtocol final : public ProtocolLayer<SubprocessProtocol> {
 public:
  using ProtocolLayer::ProtocolLayer;
  void pipe_data_received(int fd, std::string_view data) override {
    Event e = callback("pipe_data_received");
    e.fd = fd;
    e.size = static_cast<std::int64_t>(data.size());
    e.digest = connection().recorder().digest_of(data);
    deliver(std::move(e), [&] { user_->pipe_data_received(fd, data); });
  }
  void pipe_connection_lost(int fd, const MaybeError& exc) override {
    Event e = callback("pipe_connection_lost");
    e.fd = fd;
    e.error = exc;
    deliver(std::move(e), [&] { user_->pipe_connection_lost(fd, exc); });
  }
  void process_exited() override { deliver(callback("process_exited"), [&] { user_->process_exited(); }); }
};

}  // namespace

std::shared_ptr<BaseProtocol> wrap_protocol(const std::shared_ptr<RecordedConnection>& connection,
                                            const std::shared_ptr<BaseProtocol>& protocol) {
  Recorder& recorder = connection->recorder();
  if (!protocol || std::dynamic_pointer_cast<ProtocolRecording>(protocol)) return protocol;
  if (auto p = std::dynamic_pointer_cast<Protocol>(protocol)) {
    return std::make_shared<RecordingProtocol>(recorder, p, connection);
  }
  if (auto p = std::dynamic_pointer_cast<BufferedProtocol>(protocol)) {
    return std::make_shared<RecordingBufferedProtocol>(recorder, p, connection);
  }
  if (auto p = std::dynamic_pointer_cast<DatagramProtocol>(protocol)) {
    return std::make_shared<RecordingDatagramProtocol>(recorder, p, connection);
  }
  if (auto p = std::dynamic_pointer_cast<SubprocessProtocol>(protocol)) {
    return std::make_shared<RecordingSubprocessProtocol>(recorder, p, connection);
  }
  return protocol;
}

}  // namespace recording

std::shared_ptr<StreamProtocol> Recorder::record_stream(std::shared_ptr<StreamProtocol> protocol) {
  if (auto p = std::dynamic_pointer_cast<Protocol>(protocol)) {
    return std::make_shared<recording::RecordingProtocol>(*this, p, nullptr);
  }
  if (auto p = std::dynamic_pointer_cast<BufferedProtocol>(protocol)) {
    return std::make_shared<recording::RecordingBufferedProtocol>(*this, p, nullptr);
  }
  throw std::invalid_argument("record_stream: the protocol is neither a Protocol nor a BufferedProtocol");
}

std::shared_ptr<DatagramProtocol> Recorder::record_datagram(std::shared_ptr<DatagramProtocol> protocol) {
  if (!protocol) throw std::invalid_argument("record_datagram: null protocol");
  return std::make_shared<recording::RecordingDatagramProtocol>(*this, protocol, nullptr);
}

std::shared_ptr<SubprocessProtocol> Recorder::record_subprocess(std::shared_ptr<SubprocessProtocol> protocol) {
  if (!protocol) throw std::invalid_argument("record_subprocess: null protocol");
  return std::make_shared<recording::RecordingSubprocessProtocol>(*this, protocol, nullptr);
}

void Recorder::emit_in_place(Event& event) {
  for (OpenCall* call : open_calls_) {
    if (!call->recorded_seq_) {
      Event early = call->call_;  // the caller still needs its event for the result
      call->record(early);
    }
  }
  append(event);
}

void Recorder::append(Event& event) {
  event.seq = next_seq_++;
  sink_.on_event(event);
}

std::optional<std::string> Recorder::digest_of(std::string_view data) const {
  if (!options_.digests) return std::nullopt;
  return Digest::of(data);
}

Recorder::OpenCall::OpenCall(Recorder& recorder, const Event& call,
                             std::function<std::optional<TransportState>()> state)
    : recorder_(recorder), call_(call), state_(std::move(state)) {
  recorder_.open_calls_.push_back(this);
}

Recorder::OpenCall::~OpenCall() {
  auto& open = recorder_.open_calls_;
  open.erase(std::remove(open.begin(), open.end(), this), open.end());
}

void Recorder::OpenCall::record(Event& event) {
  event.state = state_();
  recorded_seq_ = recorder_.next_seq_;
  recorder_.append(event);
}

void Recorder::OpenCall::finish(Event& finished) {
  if (!recorded_seq_) {
    // Calls opened inside this one have finished: only this call can be open and unrecorded here.
    record(finished);
    return;
  }
  if (!finished.error) return;
  Event note;
  note.conn = finished.conn;
  note.kind = EventKind::Note;
  note.name = "note";
  note.detail = fmt::format("{} (seq {}) raised {} after the callbacks it ran", finished.name, *recorded_seq_,
                            finished.error->to_string());
  recorder_.emit_in_place(note);
}

}  // namespace loopspec
