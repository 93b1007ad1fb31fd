#include "remote_session.hpp"

#include <algorithm>
#include <cstring>

#include "remote_transports.hpp"

namespace loopspec::remote {

using nlohmann::json;

std::string protocol_kind_name(const BaseProtocol* protocol) {
  if (dynamic_cast<const Protocol*>(protocol) != nullptr) return "Protocol";
  if (dynamic_cast<const BufferedProtocol*>(protocol) != nullptr) return "BufferedProtocol";
  if (dynamic_cast<const DatagramProtocol*>(protocol) != nullptr) return "DatagramProtocol";
  if (dynamic_cast<const SubprocessProtocol*>(protocol) != nullptr) return "SubprocessProtocol";
  return "";
}

json address_to_wire(const Address& address) {
  if (const auto* inet = std::get_if<InetAddress>(&address)) return json::array({inet->host, inet->port});
  return std::get<UnixAddress>(address).path;
}

Address address_from_wire(const json& value, const MessageView& where, const char* field) {
  if (value.is_string()) return UnixAddress{value.get<std::string>()};
  if (value.is_array() && value.size() >= 2 && value[0].is_string() && value[1].is_number_unsigned() &&
      value[1].get<std::uint64_t>() <= 65535) {
    return InetAddress{value[0].get<std::string>(), static_cast<std::uint16_t>(value[1].get<std::uint64_t>())};
  }
  where.fail(field, "expected an address ([host, port, ...] or a path), got " + value.dump());
}

RemoteSession::RemoteSession(const DriverCommand& command, ConnectionOptions options)
    : driver_(command, std::move(options)) {
  driver_.set_events(this);
}

RemoteSession::~RemoteSession() { driver_.set_events(nullptr); }

void RemoteSession::release() {
  driver_.close();
  // Moved out first: destroying a protocol or transport may reach back into the session.
  auto protocols = std::move(protocols_);
  auto transports = std::move(transports_);
  auto factories = std::move(factories_);
  auto operations = std::move(operations_);
  decltype(callbacks_) callbacks;
  {
    std::lock_guard lock(callbacks_mutex_);
    callbacks = std::move(callbacks_);
  }
  protocol_ids_.clear();
  protocol_kinds_.clear();
  lent_.clear();
}

// ---- registries ----

std::uint64_t RemoteSession::add_callback(std::function<void()> callback, std::optional<Clock::time_point> due) {
  std::lock_guard lock(callbacks_mutex_);
  std::uint64_t id = ++next_callback_;
  callbacks_.emplace(id, Scheduled{std::move(callback), due});
  return id;
}

bool RemoteSession::forget_callback(std::uint64_t id) {
  std::lock_guard lock(callbacks_mutex_);
  return callbacks_.erase(id) != 0;
}

bool RemoteSession::callback_pending(std::uint64_t id) {
  std::lock_guard lock(callbacks_mutex_);
  return callbacks_.count(id) != 0;
}

std::optional<Clock::time_point> RemoteSession::next_due() {
  std::lock_guard lock(callbacks_mutex_);
  std::optional<Clock::time_point> earliest;
  for (const auto& [id, scheduled] : callbacks_) {
    if (scheduled.due && (!earliest || *scheduled.due < *earliest)) earliest = scheduled.due;
  }
  return earliest;
}

std::uint64_t RemoteSession::add_factory(ProtocolMaker maker, TransportKind kind) {
  std::uint64_t id = ++next_factory_;
  factories_.emplace(id, Factory{std::move(maker), kind});
  return id;
}

std::uint64_t RemoteSession::add_operation(OperationDone done) {
  std::uint64_t id = ++next_operation_;
  operations_.emplace(id, std::move(done));
  return id;
}

void RemoteSession::forget_operation(std::uint64_t op, std::uint64_t factory) {
  operations_.erase(op);
  factories_.erase(factory);
}

std::uint64_t RemoteSession::protocol_id(const std::shared_ptr<BaseProtocol>& protocol) {
  auto it = protocol_ids_.find(protocol.get());
  if (it != protocol_ids_.end()) return it->second;
  std::uint64_t id = ++next_protocol_;
  protocols_.emplace(id, protocol);
  protocol_ids_.emplace(protocol.get(), id);
  return id;
}

std::shared_ptr<BaseProtocol> RemoteSession::protocol(std::uint64_t id, const MessageView& where, const char* field) {
  auto it = protocols_.find(id);
  if (it == protocols_.end()) where.fail(field, "no protocol " + std::to_string(id));
  return it->second;
}

std::shared_ptr<BaseTransport> RemoteSession::transport(std::uint64_t conn, TransportKind kind) {
  auto it = transports_.find(conn);
  if (it != transports_.end()) return it->second;
  auto made = make_remote_transport(kind, shared_from_this(), conn);
  transports_.emplace(conn, made);
  return made;
}

// ---- events ----

template <class P>
std::shared_ptr<P> RemoteSession::protocol_as(const MessageView& event) {
  auto base = protocol(event.id("proto"), event, "proto");
  auto typed = std::dynamic_pointer_cast<P>(base);
  if (!typed) event.fail("proto", "protocol " + std::to_string(event.id("proto")) + " is a " +
                                      protocol_kind_name(base.get()) + ", which has no such callback");
  return typed;
}

namespace {
// The child's descriptor a subprocess pipe event names: stdin, stdout or stderr.
int child_fd(const MessageView& event) {
  std::int64_t fd = event.integer("fd");
  if (fd < 0 || fd > 2) event.fail("fd", "expected 0, 1 or 2 (a child's stdio), got " + std::to_string(fd));
  return static_cast<int>(fd);
}
}  // namespace

json RemoteSession::on_event(const std::string& name, const MessageView& event) {
  if (name == "callback") {
    on_callback(event);
  } else if (name == "factory") {
    return on_factory(event);
  } else if (name == "connection_made") {
    on_connection_made(event);
  } else if (name == "done") {
    on_done(event);
  } else if (name == "data_received") {
    std::string data = event.blob("data");
    protocol_as<Protocol>(event)->data_received(data);
  } else if (name == "eof_received") {
    return protocol_as<StreamProtocol>(event)->eof_received();
  } else if (name == "connection_lost") {
    MaybeError exc = event.error("exc");
    protocol(event.id("proto"), event, "proto")->connection_lost(exc);
  } else if (name == "pause_writing") {
    protocol(event.id("proto"), event, "proto")->pause_writing();
  } else if (name == "resume_writing") {
    protocol(event.id("proto"), event, "proto")->resume_writing();
  } else if (name == "get_buffer") {
    std::int64_t sizehint = event.integer("sizehint");
    auto buffered = protocol_as<BufferedProtocol>(event);
    std::uint64_t id = event.id("proto");
    lent_.erase(id);
    std::span<char> buffer = buffered->get_buffer(sizehint);
    lent_[id] = buffer;
    return buffer.size();
  } else if (name == "buffer_updated") {
    std::int64_t nbytes = event.integer("nbytes");
    if (nbytes < 0) event.fail("nbytes", "negative: " + std::to_string(nbytes));
    std::string data = event.blob("data");
    auto buffered = protocol_as<BufferedProtocol>(event);
    // What the driver's loop wrote into the buffer it was lent goes into the buffer the protocol lent.
    auto lent = lent_.find(event.id("proto"));
    if (lent != lent_.end()) {
      std::size_t n = std::min({data.size(), lent->second.size(), static_cast<std::size_t>(nbytes)});
      if (n > 0) std::memcpy(lent->second.data(), data.data(), n);
    }
    buffered->buffer_updated(static_cast<std::size_t>(nbytes));
  } else if (name == "datagram_received") {
    std::string data = event.blob("data");
    Address addr = address_from_wire(event.value("addr"), event, "addr");
    protocol_as<DatagramProtocol>(event)->datagram_received(data, addr);
  } else if (name == "error_received") {
    MaybeError exc = event.error("exc");
    if (!exc) event.fail("exc", "must not be null");
    protocol_as<DatagramProtocol>(event)->error_received(*exc);
  } else if (name == "pipe_data_received") {
    int fd = child_fd(event);
    std::string data = event.blob("data");
    protocol_as<SubprocessProtocol>(event)->pipe_data_received(fd, data);
  } else if (name == "pipe_connection_lost") {
    int fd = child_fd(event);
    MaybeError exc = event.error("exc");
    protocol_as<SubprocessProtocol>(event)->pipe_connection_lost(fd, exc);
  } else if (name == "process_exited") {
    protocol_as<SubprocessProtocol>(event)->process_exited();
  } else {
    throw DriverFailure("unknown event '" + name + "'");
  }
  return nullptr;
}

void RemoteSession::on_callback(const MessageView& event) {
  std::uint64_t id = event.id("handle");
  std::function<void()> callback;
  {
    std::lock_guard lock(callbacks_mutex_);
    auto it = callbacks_.find(id);
    if (it == callbacks_.end()) event.fail("handle", "no pending callback " + std::to_string(id));
    callback = std::move(it->second.callback);
    callbacks_.erase(it);
  }
  callback();
}

json RemoteSession::on_factory(const MessageView& event) {
  std::uint64_t id = event.id("factory");
  auto it = factories_.find(id);
  if (it == factories_.end()) event.fail("factory", "no factory " + std::to_string(id));
  TransportKind kind = it->second.kind;
  std::shared_ptr<BaseProtocol> made = it->second.maker();
  std::string kind_name = protocol_kind_name(made.get());
  if (kind_name.empty()) throw ContractError(Error{"TypeError", 0, "the protocol factory returned no protocol"});
  std::uint64_t pid = protocol_id(made);
  protocol_kinds_[pid] = kind;
  return json{{"proto", pid}, {"kind", kind_name}};
}

void RemoteSession::on_connection_made(const MessageView& event) {
  std::uint64_t pid = event.id("proto");
  auto user = protocol(pid, event, "proto");
  std::uint64_t conn = event.id("conn");
  auto kind = protocol_kinds_.find(pid);
  if (transports_.count(conn) == 0 && kind == protocol_kinds_.end()) {
    event.fail("conn", "a new connection for protocol " + std::to_string(pid) + ", which no factory made");
  }
  user->connection_made(transport(conn, kind == protocol_kinds_.end() ? TransportKind::Stream : kind->second));
}

void RemoteSession::on_done(const MessageView& event) {
  std::uint64_t op = event.id("op");
  auto it = operations_.find(op);
  if (it == operations_.end()) event.fail("op", "no pending operation " + std::to_string(op));
  OperationDone done = std::move(it->second);
  operations_.erase(it);
  done(event);
}

}  // namespace loopspec::remote
