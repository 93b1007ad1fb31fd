// The harness's side of one driver's objects: the protocols, transports,
// servers, factories, pending operations and scheduled callbacks that ids on
// the wire stand for, and the handlers of the driver's events.
//
// One id per object and per direction: the harness numbers protocols,
// factories, operations and callbacks; the driver numbers connections
// (transports) and servers. An id never names another object later. The
// session keeps every object for the loop's lifetime (the driver may name
// it again); release() drops them all and ends the driver, which breaks the
// protocol <-> transport <-> session cycles.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "loopspec/protocols.hpp"
#include "loopspec/remote/driver_connection.hpp"
#include "loopspec/transports.hpp"

namespace loopspec::remote {

// What a connection id stands for on the C++ side.
enum class TransportKind { Stream, Datagram, ReadPipe, WritePipe, Subprocess };

using ProtocolMaker = std::function<std::shared_ptr<BaseProtocol>()>;
using OperationDone = std::function<void(const MessageView& done)>;

class RemoteSession final : public DriverEvents, public std::enable_shared_from_this<RemoteSession> {
 public:
  RemoteSession(const DriverCommand& command, ConnectionOptions options);
  ~RemoteSession() override;

  DriverConnection& driver() { return driver_; }

  // Callbacks scheduled on the driver's loop. due: when a delayed one is due (for the run deadline).
  std::uint64_t add_callback(std::function<void()> callback, std::optional<Clock::time_point> due);
  // True if it was still pending (and is now forgotten).
  bool forget_callback(std::uint64_t id);
  bool callback_pending(std::uint64_t id);

  std::uint64_t add_factory(ProtocolMaker maker, TransportKind kind);
  std::uint64_t add_operation(OperationDone done);
  void forget_operation(std::uint64_t op, std::uint64_t factory);

  // The id of a protocol given to set_protocol (registered on first sight).
  std::uint64_t protocol_id(const std::shared_ptr<BaseProtocol>& protocol);
  // The protocol an id from the driver names; DriverFailure when unknown.
  std::shared_ptr<BaseProtocol> protocol(std::uint64_t id, const MessageView& where, const char* field);
  // The transport of a connection id from the driver, made on first sight.
  std::shared_ptr<BaseTransport> transport(std::uint64_t conn, TransportKind kind);

  // Ends the driver and drops every object.
  void release();

  // DriverEvents
  nlohmann::json on_event(const std::string& name, const MessageView& event) override;
  std::optional<Clock::time_point> next_due() override;

 private:
  template <class P>
  std::shared_ptr<P> protocol_as(const MessageView& event);
  nlohmann::json on_factory(const MessageView& event);
  void on_connection_made(const MessageView& event);
  void on_done(const MessageView& event);
  void on_callback(const MessageView& event);

  DriverConnection driver_;

  std::mutex callbacks_mutex_;  // call_soon_threadsafe adds from other threads
  struct Scheduled {
    std::function<void()> callback;
    std::optional<Clock::time_point> due;
  };
  std::unordered_map<std::uint64_t, Scheduled> callbacks_;
  std::uint64_t next_callback_ = 0;

  struct Factory {
    ProtocolMaker maker;
    TransportKind kind;
  };
  std::unordered_map<std::uint64_t, Factory> factories_;
  std::uint64_t next_factory_ = 0;
  std::unordered_map<std::uint64_t, OperationDone> operations_;
  std::uint64_t next_operation_ = 0;

  std::unordered_map<std::uint64_t, std::shared_ptr<BaseProtocol>> protocols_;
  std::unordered_map<const BaseProtocol*, std::uint64_t> protocol_ids_;
  std::unordered_map<std::uint64_t, TransportKind> protocol_kinds_;  // of protocols a factory made
  std::uint64_t next_protocol_ = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<BaseTransport>> transports_;
  std::unordered_map<std::uint64_t, std::span<char>> lent_;  // BufferedProtocol: the last get_buffer's buffer
};

// "Protocol", "BufferedProtocol", "DatagramProtocol", "SubprocessProtocol"; "" for none of them.
std::string protocol_kind_name(const BaseProtocol* protocol);
// [host, port] or a Unix path, as the driver takes addresses.
nlohmann::json address_to_wire(const Address& address);
// [host, port, ...] or a path; DriverFailure (naming the field) otherwise.
Address address_from_wire(const nlohmann::json& value, const MessageView& where, const char* field);

}  // namespace loopspec::remote
