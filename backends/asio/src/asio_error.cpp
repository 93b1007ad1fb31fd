#include "loopspec/asio/asio_error.hpp"

#include <netdb.h>

#include <boost/asio/error.hpp>

namespace loopspec::asio {

namespace {

namespace error = boost::asio::error;

// Asio's resolver errors back to the C library's EAI_* (0: not a resolver error).
int eai_code(const boost::system::error_code& ec) {
  if (ec.category() == error::get_netdb_category()) {
    switch (ec.value()) {
      case error::host_not_found: return EAI_NONAME;
      case error::host_not_found_try_again: return EAI_AGAIN;
      case error::no_data: return EAI_NODATA;
      case error::no_recovery: return EAI_FAIL;
      default: return EAI_FAIL;
    }
  }
  if (ec.category() == error::get_addrinfo_category()) {
    return ec.value() == error::service_not_found ? EAI_SERVICE : EAI_SOCKTYPE;
  }
  return 0;
}

}  // namespace

Error error_from_code(const boost::system::error_code& ec, std::string message) {
  if (int code = eai_code(ec); code != 0) {
    return Error{"gaierror", code, message.empty() ? ::gai_strerror(code) : std::move(message)};
  }
  if (ec == error::eof) return Error{"OSError", 0, message.empty() ? "end of file" : std::move(message)};
  return Error::from_errno(ec.value(), message.empty() ? ec.message() : std::move(message));
}

bool would_block(const boost::system::error_code& ec) {
  return ec == error::would_block || ec == error::try_again;
}

}  // namespace loopspec::asio
