#include "remote_transports.hpp"

namespace loopspec::remote {

using nlohmann::json;

namespace {
[[noreturn]] void bad_reply(std::string_view command, const std::string& expected, const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  throw DriverFailure("reply to '" + std::string(command) + "': field 'ok': expected " + expected + ", got " + text);
}
}  // namespace

bool reply_bool(const json& value, std::string_view command) {
  if (!value.is_boolean()) bad_reply(command, "a boolean", value);
  return value.get<bool>();
}

std::int64_t reply_integer(const json& value, std::string_view command) {
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
    bad_reply(command, "an integer", value);
  }
  return value.get<std::int64_t>();
}

json RemoteObject::call(std::string_view method, json arguments) {
  arguments["conn"] = conn_;
  return session_->driver().request(method, std::move(arguments));
}

template <class I>
void BaseLayer<I>::set_protocol(std::shared_ptr<BaseProtocol> protocol) {
  std::string kind = protocol_kind_name(protocol.get());
  if (kind.empty()) {
    throw ContractError(Error{"TypeError", 0, "set_protocol() needs a Protocol, BufferedProtocol, "
                                              "DatagramProtocol or SubprocessProtocol"});
  }
  std::uint64_t id = session_->protocol_id(protocol);
  call("set_protocol", {{"proto", id}, {"kind", kind}});
}

template <class I>
std::shared_ptr<BaseProtocol> BaseLayer<I>::get_protocol() {
  json value = call("get_protocol");
  if (value.is_null()) return nullptr;  // not one the harness gave the loop
  json reply{{"ok", value}};
  MessageView view(reply, "reply to 'get_protocol'");
  return session_->protocol(view.id("ok"), view, "ok");
}

template <class B>
WriteBufferLimits WriteLayer<B>::get_write_buffer_limits() {
  if (auto s = this->state(); s && s->low && s->high) return WriteBufferLimits{*s->low, *s->high};
  json value = this->call("get_write_buffer_limits");
  if (!value.is_array() || value.size() != 2) bad_reply("get_write_buffer_limits", "[low, high]", value);
  return WriteBufferLimits{reply_integer(value[0], "get_write_buffer_limits"),
                           reply_integer(value[1], "get_write_buffer_limits")};
}

template <class B>
std::size_t WriteLayer<B>::buffer_size_reply(const json& value) {
  std::int64_t size = reply_integer(value, "get_write_buffer_size");
  if (size < 0) bad_reply("get_write_buffer_size", "a size >= 0", value);
  return static_cast<std::size_t>(size);
}

template <class B>
std::shared_ptr<BaseTransport> SubprocessLayer<B>::get_pipe_transport(int fd) {
  json value = this->call("get_pipe_transport", {{"fd", fd}});
  if (value.is_null()) return nullptr;
  json reply{{"ok", value}};
  MessageView view(reply, "reply to 'get_pipe_transport'");
  return this->session_->transport(view.id("ok"), fd == 0 ? TransportKind::WritePipe : TransportKind::ReadPipe);
}

std::shared_ptr<BaseTransport> make_remote_transport(TransportKind kind, std::shared_ptr<RemoteSession> session,
                                                     std::uint64_t conn) {
  switch (kind) {
    case TransportKind::Stream:
      return std::make_shared<RemoteStreamTransport>(std::move(session), conn);
    case TransportKind::Datagram:
      return std::make_shared<RemoteDatagramTransport>(std::move(session), conn);
    case TransportKind::ReadPipe:
      return std::make_shared<RemoteReadPipe>(std::move(session), conn);
    case TransportKind::WritePipe:
      return std::make_shared<RemoteWritePipe>(std::move(session), conn);
    case TransportKind::Subprocess:
      return std::make_shared<RemoteSubprocessTransport>(std::move(session), conn);
  }
  return nullptr;
}

void RemoteServer::close() { session_->driver().request("server_close", {{"server", id_}}); }

bool RemoteServer::is_serving() {
  return reply_bool(session_->driver().request("server_is_serving", {{"server", id_}}), "server_is_serving");
}

std::vector<Address> RemoteServer::addresses() {
  json reply{{"ok", session_->driver().request("server_addresses", {{"server", id_}})}};
  MessageView view(reply, "reply to 'server_addresses'");
  if (!reply["ok"].is_array()) view.fail("ok", "expected a list of addresses");
  std::vector<Address> out;
  for (const auto& item : reply["ok"]) out.push_back(address_from_wire(item, view, "ok"));
  return out;
}

void RemoteTimerHandle::cancel() {
  auto session = session_.lock();
  if (!session || !session->callback_pending(id_)) return;  // ran, or cancelled already
  session->driver().request("cancel", {{"handle", id_}});
  session->forget_callback(id_);
}

}  // namespace loopspec::remote
