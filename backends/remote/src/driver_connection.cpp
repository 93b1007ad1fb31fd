#include "loopspec/remote/driver_connection.hpp"

#include <algorithm>
#include <sstream>

namespace loopspec::remote {

using nlohmann::json;

namespace {

std::string seconds(std::chrono::duration<double> d) {
  std::ostringstream out;
  out << d.count() << " s";
  return out.str();
}

std::string keys_of(const json& message) {
  std::string keys;
  for (const auto& item : message.items()) keys += (keys.empty() ? "" : ", ") + item.key();
  return keys.empty() ? "none" : keys;
}

void allow_only(const MessageView& view, std::initializer_list<const char*> fields) {
  for (const auto& item : view.body().items()) {
    if (std::none_of(fields.begin(), fields.end(), [&](const char* f) { return item.key() == f; })) {
      view.fail(item.key().c_str(), "unknown field");
    }
  }
}

}  // namespace

DriverConnection::DriverConnection(const DriverCommand& command, ConnectionOptions options)
    : options_(std::move(options)), process_(command), channel_(process_.take_channel_fd()) {
  try {
    read_hello();
  } catch (const DriverFailure& e) {
    if (!failed_) fail(e.what());
    throw;
  }
}

DriverConnection::~DriverConnection() { close(); }

Clock::time_point DriverConnection::reply_deadline() const {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(options_.reply_timeout);
}

void DriverConnection::fail(const std::string& what, bool ending) {
  std::string text = "driver " + options_.name + " (pid " + std::to_string(process_.pid()) + "): " + what;
  auto ended = process_.wait_exit(ending ? options_.reply_timeout : std::chrono::duration<double>(0));
  text += "; the driver " + (ended ? *ended : process_.kill() + " by the harness");
  std::string tail = process_.stderr_tail(2048);
  if (!tail.empty()) text += "\ndriver stderr (end):\n" + tail;
  failure_ = text;
  failed_ = true;
  throw DriverFailure(failure_);
}

void DriverConnection::read_hello() {
  auto allowance = std::max(options_.start_timeout, options_.reply_timeout);
  auto received = channel_.receive(Clock::now() + std::chrono::duration_cast<Clock::duration>(allowance));
  using Status = Channel::Received::Status;
  if (received.status == Status::EndOfStream) fail("ended before its hello", true);
  if (received.status == Status::Timeout) fail("sent no hello within " + seconds(allowance));
  const json& message = received.message;
  if (message.contains("fatal")) {
    MessageView view(message, "fatal");
    fail("cannot start: " + view.string("fatal"));
  }
  if (!message.contains("hello")) fail("the first message is not a hello (fields: " + keys_of(message) + ")");
  MessageView view(message, "hello");
  allow_only(view, {"hello", "implementation", "version", "capabilities", "pid"});
  hello_.protocol = static_cast<int>(view.integer("hello"));
  if (hello_.protocol != kProtocolVersion) {
    view.fail("hello", "the driver speaks protocol version " + std::to_string(hello_.protocol) + ", the harness " +
                           std::to_string(kProtocolVersion));
  }
  hello_.implementation = view.string("implementation");
  if (view.has("version")) hello_.version = view.string("version");
  if (view.has("pid")) hello_.pid = view.integer("pid");
  const json& capabilities = view.value("capabilities");
  if (!capabilities.is_array()) view.fail("capabilities", "expected a list of strings");
  for (const auto& c : capabilities) {
    if (!c.is_string()) view.fail("capabilities", "expected a list of strings, got an item " + c.dump());
    hello_.capabilities.insert(c.get<std::string>());
  }
}

json DriverConnection::blob(std::string_view data) {
  if (failed_) throw DriverFailure(failure_);
  try {
    return channel_.blob(data, reply_deadline());
  } catch (const DriverFailure& e) {
    if (!failed_) fail(e.what());
    throw;
  }
}

json DriverConnection::request(std::string_view command, json arguments, std::span<const int> fds) {
  return exchange(command, std::move(arguments), fds, false);
}

void DriverConnection::run() { exchange("run", json::object(), {}, true); }

json DriverConnection::exchange(std::string_view command, json message, std::span<const int> fds, bool loop_runs) {
  if (failed_) throw DriverFailure(failure_);
  if (closed_) throw DriverFailure("driver " + options_.name + ": used after it was closed");
  message["cmd"] = command;
  ++depth_;
  struct Depth {
    int& depth;
    ~Depth() { --depth; }
  } depth{depth_};
  try {
    channel_.send(message, fds, reply_deadline());
    return await_reply(command, loop_runs);
  } catch (const ChannelClosed& e) {
    if (!failed_) fail(e.what(), true);
    throw;
  } catch (const DriverFailure& e) {
    if (!failed_) fail(e.what());
    throw;
  }
}

json DriverConnection::await_reply(std::string_view command, bool loop_runs) {
  using Status = Channel::Received::Status;
  const std::string what = "reply to '" + std::string(command) + "'";
  for (;;) {
    std::optional<Clock::time_point> deadline = reply_deadline();
    if (loop_runs) {
      // A running loop owes the harness an event by its earliest timer at the latest.
      auto due = events_ ? events_->next_due() : std::nullopt;
      deadline = due ? std::optional(std::max(*due, Clock::now()) +
                                     std::chrono::duration_cast<Clock::duration>(options_.reply_timeout))
                     : std::nullopt;
    }
    auto received = channel_.receive(deadline);
    if (received.status == Status::EndOfStream) fail("ended while the harness waited for its " + what, true);
    if (received.status == Status::Timeout) {
      fail(loop_runs ? "sent nothing while its loop ran, " + seconds(options_.reply_timeout) +
                           " past the harness's earliest timer"
                     : "sent no " + what + " within " + seconds(options_.reply_timeout));
    }
    const json& message = received.message;
    if (message.contains("event")) {
      dispatch(received);
      continue;
    }
    if (message.contains("protocol_error")) {
      MessageView view(message, "protocol_error");
      fail("reports a protocol violation by the harness: " + view.string("protocol_error"));
    }
    if (message.contains("fatal")) fail("gave up: " + MessageView(message, "fatal").string("fatal"));
    if (!received.staged.empty()) fail("staged " + std::to_string(received.staged.size()) + " bytes no message used");
    if (message.contains("ok")) {
      MessageView view(message, "reply to '" + std::string(command) + "'");
      allow_only(view, {"ok", "states"});
      absorb_states(view);
      return message["ok"];
    }
    if (message.contains("error")) {
      MessageView view(message, "reply to '" + std::string(command) + "'");
      allow_only(view, {"error", "states"});
      absorb_states(view);
      MaybeError error = view.error("error");
      if (!error) view.fail("error", "must not be null");
      throw ContractError(*error);
    }
    fail("sent a message of unknown kind (fields: " + keys_of(message) + ") while the harness waited for its " + what);
  }
}

void DriverConnection::dispatch(Channel::Received& received) {
  const json& message = received.message;
  if (!message["event"].is_string()) MessageView(message, "event").fail("event", "expected a string");
  const std::string name = message["event"].get<std::string>();
  MessageView view(message, "event '" + name + "'", &received.staged);
  absorb_states(view);
  if (events_ == nullptr) fail("sent event '" + name + "' before the harness could take events");
  json result;
  MaybeError raised;
  try {
    result = events_->on_event(name, view);
  } catch (const DriverFailure&) {
    throw;
  } catch (const ContractError& e) {
    raised = e.error();
  } catch (const std::exception& e) {
    raised = Error{"RuntimeError", 0, e.what()};
  } catch (...) {
    raised = Error{"RuntimeError", 0, "unknown exception in a harness callback"};
  }
  if (failed_) throw DriverFailure(failure_);  // a callback swallowed the failure of a nested request
  if (!received.staged.empty()) {
    fail("event '" + name + "' left " + std::to_string(received.staged.size()) + " staged bytes unused");
  }
  channel_.send(raised ? json{{"raise", to_json(*raised)}} : json{{"return", std::move(result)}}, {}, reply_deadline());
}

void DriverConnection::absorb_states(const MessageView& message) {
  if (!message.has("states")) return;
  const json& states = message.value("states");
  if (!states.is_object()) message.fail("states", "expected an object of connection id -> state");
  for (const auto& item : states.items()) {
    const std::string& key = item.key();
    std::uint64_t conn = 0;
    bool numeric = !key.empty() && key.size() < 19 && key.find_first_not_of("0123456789") == std::string::npos;
    if (numeric) conn = std::stoull(key);
    if (conn == 0) message.fail("states", "key '" + key + "' is not a connection id");
    const json& block = item.value();
    if (!block.is_object()) message.fail("states", "the state of connection " + key + " is not an object");
    MessageView state(block, message.what() + ": field 'states' of connection " + key);
    RemoteState parsed;
    for (const auto& field : block.items()) {
      const std::string& f = field.key();
      if (f == "wbuf") {
        parsed.write_buffer_size = state.integer("wbuf");
      } else if (f == "low") {
        parsed.low = state.integer("low");
      } else if (f == "high") {
        parsed.high = state.integer("high");
      } else if (f == "closing") {
        parsed.closing = state.boolean("closing");
      } else if (f == "reading") {
        parsed.reading = state.boolean("reading");
      } else {
        state.fail(f.c_str(), "unknown field");
      }
    }
    states_[conn] = parsed;
  }
}

const RemoteState* DriverConnection::state(std::uint64_t conn) const {
  auto it = states_.find(conn);
  return it == states_.end() ? nullptr : &it->second;
}

void DriverConnection::post(const json& message) noexcept {
  if (failed_ || closed_) return;
  try {
    channel_.send(message, {}, reply_deadline());
  } catch (...) {
    // The reading thread finds out when the driver is gone.
  }
}

void DriverConnection::close() noexcept {
  if (closed_.exchange(true)) return;
  if (failed_) return;  // killed when it failed
  try {
    json message{{"cmd", "exit"}};
    channel_.send(message, {}, reply_deadline());
    // The driver answers and exits; anything it sends first is of no interest now.
    auto deadline = reply_deadline();
    while (channel_.receive(deadline).status == Channel::Received::Status::Message) {
    }
  } catch (...) {
  }
  if (!process_.wait_exit(options_.reply_timeout)) process_.kill();
}

}  // namespace loopspec::remote
