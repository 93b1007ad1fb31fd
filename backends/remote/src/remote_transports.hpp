// Transports, servers and timer handles whose every method is a command to
// the driver (see remote_loop.hpp). Layered templates, as the recorder's, so
// each method is written once for every transport class that has it.
//
// The four state queries (is_closing, is_reading, get_write_buffer_size,
// get_write_buffer_limits) are answered from the state the driver attached
// to its last message: the driver's loop cannot run between that message and
// the query, so the answer is the loop's own. A query the driver could not
// answer (it raised) is asked directly, so its error comes through.
#pragma once

#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "loopspec/event_loop.hpp"
#include "remote_session.hpp"

namespace loopspec::remote {

// Checked readers of a command's "ok" value.
bool reply_bool(const nlohmann::json& value, std::string_view command);
std::int64_t reply_integer(const nlohmann::json& value, std::string_view command);

class RemoteObject {
 public:
  RemoteObject(std::shared_ptr<RemoteSession> session, std::uint64_t conn)
      : session_(std::move(session)), conn_(conn) {}
  std::uint64_t conn() const { return conn_; }

 protected:
  nlohmann::json call(std::string_view method, nlohmann::json arguments = nlohmann::json::object());
  const RemoteState* state() const { return session_->driver().state(conn_); }
  std::shared_ptr<RemoteSession> session_;
  std::uint64_t conn_;
};

template <class I>
class BaseLayer : public I, public RemoteObject {
 public:
  using RemoteObject::RemoteObject;
  std::optional<nlohmann::json> get_extra_info(std::string_view name) override {
    nlohmann::json value = call("get_extra_info", {{"name", name}});
    if (value.is_null()) return std::nullopt;
    return value;
  }
  bool is_closing() override {
    if (auto s = state(); s && s->closing) return *s->closing;
    return reply_bool(call("is_closing"), "is_closing");
  }
  void close() override { call("close"); }
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  std::shared_ptr<BaseProtocol> get_protocol() override;
};

template <class B>
class ReadLayer : public B {
 public:
  using B::B;
  bool is_reading() override {
    if (auto s = this->state(); s && s->reading) return *s->reading;
    return reply_bool(this->call("is_reading"), "is_reading");
  }
  void pause_reading() override { this->call("pause_reading"); }
  void resume_reading() override { this->call("resume_reading"); }
};

template <class B>
class WriteLayer : public B {
 public:
  using B::B;
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override {
    this->call("set_write_buffer_limits", {{"high", high ? nlohmann::json(*high) : nlohmann::json(nullptr)},
                                           {"low", low ? nlohmann::json(*low) : nlohmann::json(nullptr)}});
  }
  WriteBufferLimits get_write_buffer_limits() override;
  std::size_t get_write_buffer_size() override {
    if (auto s = this->state(); s && s->write_buffer_size && *s->write_buffer_size >= 0) {
      return static_cast<std::size_t>(*s->write_buffer_size);
    }
    return buffer_size_reply(this->call("get_write_buffer_size"));
  }
  void write(std::string_view data) override { this->call("write", {{"data", this->session_->driver().blob(data)}}); }
  void writelines(std::span<const std::string_view> list_of_data) override {
    nlohmann::json parts = nlohmann::json::array();
    for (std::string_view data : list_of_data) parts.push_back(this->session_->driver().blob(data));
    this->call("writelines", {{"data", std::move(parts)}});
  }
  void write_eof() override { this->call("write_eof"); }
  bool can_write_eof() override { return reply_bool(this->call("can_write_eof"), "can_write_eof"); }
  void abort() override { this->call("abort"); }

 protected:
  static std::size_t buffer_size_reply(const nlohmann::json& value);
};

template <class B>
class DatagramLayer : public B {
 public:
  using B::B;
  void sendto(std::string_view data, std::optional<Address> addr) override {
    nlohmann::json arguments{{"data", this->session_->driver().blob(data)}};
    if (addr) arguments["addr"] = address_to_wire(*addr);
    this->call("sendto", std::move(arguments));
  }
  void abort() override { this->call("abort"); }
  std::size_t get_write_buffer_size() override {
    if (auto s = this->state(); s && s->write_buffer_size && *s->write_buffer_size >= 0) {
      return static_cast<std::size_t>(*s->write_buffer_size);
    }
    std::int64_t size = reply_integer(this->call("get_write_buffer_size"), "get_write_buffer_size");
    return size < 0 ? 0 : static_cast<std::size_t>(size);
  }
};

template <class B>
class SubprocessLayer : public B {
 public:
  using B::B;
  int get_pid() override { return static_cast<int>(reply_integer(this->call("get_pid"), "get_pid")); }
  std::shared_ptr<BaseTransport> get_pipe_transport(int fd) override;
  std::optional<int> get_returncode() override {
    nlohmann::json value = this->call("get_returncode");
    if (value.is_null()) return std::nullopt;
    return static_cast<int>(reply_integer(value, "get_returncode"));
  }
  void send_signal(int signal) override { this->call("send_signal", {{"signal", signal}}); }
  void terminate() override { this->call("terminate"); }
  void kill() override { this->call("kill"); }
};

using RemoteStreamTransport = WriteLayer<ReadLayer<BaseLayer<Transport>>>;
using RemoteReadPipe = ReadLayer<BaseLayer<ReadTransport>>;
using RemoteWritePipe = WriteLayer<BaseLayer<WriteTransport>>;
using RemoteDatagramTransport = DatagramLayer<BaseLayer<DatagramTransport>>;
using RemoteSubprocessTransport = SubprocessLayer<BaseLayer<SubprocessTransport>>;

std::shared_ptr<BaseTransport> make_remote_transport(TransportKind kind, std::shared_ptr<RemoteSession> session,
                                                     std::uint64_t conn);

class RemoteServer final : public Server {
 public:
  RemoteServer(std::shared_ptr<RemoteSession> session, std::uint64_t id) : session_(std::move(session)), id_(id) {}
  void close() override;
  bool is_serving() override;
  std::vector<Address> addresses() override;

 private:
  std::shared_ptr<RemoteSession> session_;
  std::uint64_t id_;
};

class RemoteTimerHandle final : public TimerHandle {
 public:
  RemoteTimerHandle(std::weak_ptr<RemoteSession> session, std::uint64_t id) : session_(std::move(session)), id_(id) {}
  void cancel() override;

 private:
  std::weak_ptr<RemoteSession> session_;
  std::uint64_t id_;
};

}  // namespace loopspec::remote
