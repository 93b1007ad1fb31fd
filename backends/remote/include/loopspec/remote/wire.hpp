// The driver protocol's wire rules (spec/driver-protocol.md), shared by every
// part of the C++ side of a remote backend.
//
// Promises:
// - Every malformed message is reported as DriverFailure naming the message
//   (its kind and event or command name) and the field, never a crash.
// - Binary data ("blobs") travel as base64 text, or, above kMaxInlineBlob
//   bytes, in "chunk" messages sent ahead and named {"staged": n}; readers
//   take staged bytes in order and reject a message that names more than
//   were staged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "loopspec/error.hpp"

namespace loopspec::remote {

inline constexpr int kProtocolVersion = 2;
inline constexpr std::size_t kMaxMessage = 1 << 20;        // bytes per line, without the '\n'
inline constexpr std::size_t kMaxInlineBlob = 512 * 1024;  // raw bytes sent inline; longer data is chunked
inline constexpr std::size_t kMaxStaged = 256u << 20;      // chunked bytes waiting for their message
inline constexpr int kMaxDepth = 64;                       // JSON nesting

// The driver broke the protocol, died, or stopped answering. Not a
// ContractError: it is no answer of the loop under test, and scenario code
// that captures canonical errors must not mistake it for one.
class DriverFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The driver's end of the channel is gone (it exited or is exiting).
class ChannelClosed : public DriverFailure {
 public:
  using DriverFailure::DriverFailure;
};

std::string encode_base64(std::string_view data);
// nullopt on any character outside the alphabet or a bad length/padding.
std::optional<std::string> decode_base64(std::string_view text);

nlohmann::json to_json(const Error& error);

// Read access to one received message: typed field readers whose errors name
// the message and the field. `staged` holds the chunked bytes that arrived
// before the message; blob() consumes them in order.
class MessageView {
 public:
  MessageView(const nlohmann::json& message, std::string what, std::string* staged = nullptr)
      : message_(message), what_(std::move(what)), staged_(staged) {}

  const nlohmann::json& body() const { return message_; }
  const std::string& what() const { return what_; }
  bool has(const char* field) const { return message_.contains(field); }

  std::uint64_t id(const char* field) const;  // a positive integer
  std::int64_t integer(const char* field) const;
  bool boolean(const char* field) const;
  const std::string& string(const char* field) const;
  std::string blob(const char* field) const;
  // {"type", "errno", "message"}, or nullopt where the field is null.
  MaybeError error(const char* field) const;
  const nlohmann::json& value(const char* field) const;  // any JSON, must be present

  [[noreturn]] void fail(const char* field, const std::string& what) const;

 private:
  const nlohmann::json& field(const char* name) const;
  const nlohmann::json& message_;
  std::string what_;
  std::string* staged_;
};

// Parses one line; DriverFailure on bad JSON, a nesting deeper than
// kMaxDepth, or anything but an object.
nlohmann::json parse_message(std::string_view line);

}  // namespace loopspec::remote
