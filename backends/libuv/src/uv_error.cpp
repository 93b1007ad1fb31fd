#include "loopspec/libuv/uv_error.hpp"

#include <netdb.h>
#include <uv.h>

namespace loopspec::libuv {

namespace {

// libuv's UV_EAI_* back to the C library's EAI_* (0: not a getaddrinfo status).
int eai_code(int status) {
  switch (status) {
    case UV_EAI_ADDRFAMILY: return EAI_ADDRFAMILY;
    case UV_EAI_AGAIN: return EAI_AGAIN;
    case UV_EAI_BADFLAGS: return EAI_BADFLAGS;
    case UV_EAI_CANCELED: return EAI_CANCELED;
    case UV_EAI_FAIL: return EAI_FAIL;
    case UV_EAI_FAMILY: return EAI_FAMILY;
    case UV_EAI_MEMORY: return EAI_MEMORY;
    case UV_EAI_NODATA: return EAI_NODATA;
    case UV_EAI_NONAME: return EAI_NONAME;
    case UV_EAI_OVERFLOW: return EAI_OVERFLOW;
    case UV_EAI_SERVICE: return EAI_SERVICE;
    case UV_EAI_SOCKTYPE: return EAI_SOCKTYPE;
    default: return 0;
  }
}

}  // namespace

Error error_from_status(int status, std::string message) {
  if (int code = eai_code(status); code != 0) {
    return Error{"gaierror", code, message.empty() ? ::gai_strerror(code) : std::move(message)};
  }
  return Error::from_errno(-status, std::move(message));
}

}  // namespace loopspec::libuv
