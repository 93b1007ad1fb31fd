// The transport classes of asyncio's "Transports and Protocols" page, in C++.
//
// Promises (each a rule in spec/rules, named in brackets where it matters):
// - Transports are created by an EventLoop only, used on the loop's thread only.
// - Methods throw ContractError where asyncio raises (ValueError for bad
//   limits, NotImplementedError for write_eof without half-close, ...).
// - After connection_lost every method stays callable: queries answer,
//   writes are ignored or raise, close() is a no-op.
// Data is passed as bytes in std::string_view; a transport never keeps the
// view beyond the call (it copies what it queues).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "loopspec/address.hpp"

namespace loopspec {

class BaseProtocol;

struct WriteBufferLimits {
  std::int64_t low = 0;
  std::int64_t high = 0;
  bool operator==(const WriteBufferLimits&) const = default;
};

class BaseTransport {
 public:
  virtual ~BaseTransport() = default;

  // Value of an extra-info key in the canonical JSON form ("peername" ->
  // ["127.0.0.1", 8080], "socket" -> {"fd":..,"family":..,"type":..}); nullopt
  // where asyncio would return the default.
  virtual std::optional<nlohmann::json> get_extra_info(std::string_view name) = 0;
  virtual bool is_closing() = 0;
  virtual void close() = 0;
  virtual void set_protocol(std::shared_ptr<BaseProtocol> protocol) = 0;
  virtual std::shared_ptr<BaseProtocol> get_protocol() = 0;
};

class ReadTransport : public virtual BaseTransport {
 public:
  virtual bool is_reading() = 0;
  virtual void pause_reading() = 0;   // idempotent (3.8)
  virtual void resume_reading() = 0;  // idempotent (3.8)
};

class WriteTransport : public virtual BaseTransport {
 public:
  // high/low in bytes; nullopt means "not given" (asyncio's None). Negative or
  // low > high raise ValueError.
  virtual void set_write_buffer_limits(std::optional<std::int64_t> high = std::nullopt,
                                       std::optional<std::int64_t> low = std::nullopt) = 0;
  virtual WriteBufferLimits get_write_buffer_limits() = 0;
  virtual std::size_t get_write_buffer_size() = 0;
  virtual void write(std::string_view data) = 0;
  virtual void writelines(std::span<const std::string_view> list_of_data) = 0;
  virtual void write_eof() = 0;
  virtual bool can_write_eof() = 0;
  virtual void abort() = 0;
};

class Transport : public ReadTransport, public WriteTransport {};

class DatagramTransport : public virtual BaseTransport {
 public:
  // addr nullopt: the remote address given at creation.
  virtual void sendto(std::string_view data, std::optional<Address> addr = std::nullopt) = 0;
  virtual void abort() = 0;
  virtual std::size_t get_write_buffer_size() = 0;
};

class SubprocessTransport : public virtual BaseTransport {
 public:
  virtual int get_pid() = 0;
  // fd 0: the child's stdin (a WriteTransport), 1/2: stdout/stderr (ReadTransports);
  // nullptr where that pipe was not created.
  virtual std::shared_ptr<BaseTransport> get_pipe_transport(int fd) = 0;
  virtual std::optional<int> get_returncode() = 0;
  virtual void send_signal(int signal) = 0;
  virtual void terminate() = 0;
  virtual void kill() = 0;
};

}  // namespace loopspec
