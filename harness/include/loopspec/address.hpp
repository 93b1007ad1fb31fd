// Socket addresses as asyncio shows them: (host, port) or a Unix path.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json_fwd.hpp>

namespace loopspec {

struct InetAddress {
  std::string host;  // numeric IPv4 or IPv6 literal, or a name to resolve
  std::uint16_t port = 0;
  bool operator==(const InetAddress&) const = default;
};

struct UnixAddress {
  std::string path;  // filesystem path; a leading '\0' selects the abstract namespace
  bool operator==(const UnixAddress&) const = default;
};

using Address = std::variant<InetAddress, UnixAddress>;

std::string to_string(const Address& address);
// asyncio's get_extra_info('peername') form: ["host", port] or "path".
nlohmann::json to_json(const Address& address);

}  // namespace loopspec
