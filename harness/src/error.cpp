#include "loopspec/error.hpp"

#include <cerrno>
#include <cstring>

namespace loopspec {

std::string Error::to_string() const {
  std::string text = type;
  if (errnum != 0) text += " [errno " + std::to_string(errnum) + "]";
  if (!message.empty()) text += ": " + message;
  return text;
}

Error Error::from_errno(int errnum, std::string message) {
  // The OSError subclasses Python maps errno values to (PEP 3151).
  const char* type = "OSError";
  switch (errnum) {
    case ECONNRESET: type = "ConnectionResetError"; break;
    case EPIPE:
    case ESHUTDOWN: type = "BrokenPipeError"; break;
    case ECONNREFUSED: type = "ConnectionRefusedError"; break;
    case ECONNABORTED: type = "ConnectionAbortedError"; break;
    case ETIMEDOUT: type = "TimeoutError"; break;
    case EAGAIN:
    case EALREADY:
    case EINPROGRESS: type = "BlockingIOError"; break;
    case ENOENT: type = "FileNotFoundError"; break;
    case EEXIST: type = "FileExistsError"; break;
    case EACCES:
    case EPERM: type = "PermissionError"; break;
    case EINTR: type = "InterruptedError"; break;
    case ECHILD: type = "ChildProcessError"; break;
    case ESRCH: type = "ProcessLookupError"; break;
    default: break;
  }
  if (message.empty()) message = std::strerror(errnum);
  return Error{type, errnum, std::move(message)};
}

ContractError::ContractError(Error error) : std::runtime_error(error.to_string()), error_(std::move(error)) {}

}  // namespace loopspec
