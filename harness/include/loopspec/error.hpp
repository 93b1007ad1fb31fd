// Canonical errors: how a failure crosses the contract boundary.
//
// Promise: every error a transport reports (connection_lost(exc),
// error_received(exc), a failed create_connection, an exception from a
// transport method) is an Error carrying the asyncio exception class name,
// the errno (0 when none) and a message. Backends written in any language
// produce the same triple, so verdicts compare across them.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

namespace loopspec {

struct Error {
  std::string type;  // asyncio/Python class name: "ConnectionResetError", "ValueError", ...
  int errnum = 0;    // errno value, 0 when the error has none
  std::string message;

  bool operator==(const Error&) const = default;
  std::string to_string() const;

  // The asyncio class name for an errno value (ECONNRESET -> ConnectionResetError,
  // EPIPE -> BrokenPipeError, anything unlisted -> OSError).
  static Error from_errno(int errnum, std::string message = {});
};

using MaybeError = std::optional<Error>;

// Thrown by transport and loop methods where asyncio would raise.
class ContractError : public std::runtime_error {
 public:
  explicit ContractError(Error error);
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

}  // namespace loopspec
