// How create_connection and create_server end, whatever the loop's sockets.
//
// Promises:
// - connect_error(errors): asyncio's error when every address failed
//   (errors in the order tried, at least one): that error when there is one,
//   or when all have the same class and errno; otherwise
//   OSError("Multiple exceptions: <each>").
// - finish_server_start(loop, server, done, error): with an error the
//   server is closed and done gets the error, else done gets the server;
//   either from a scheduled callback.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/loop_base.hpp"

namespace loopspec::kit {

inline Error connect_error(const std::vector<Error>& errors) {
  if (errors.size() == 1) return errors.front();
  bool alike = true;
  for (const auto& error : errors) alike = alike && error.type == errors.front().type && error.errnum == errors.front().errnum;
  if (alike) return errors.front();
  std::string message = "Multiple exceptions: ";
  for (std::size_t i = 0; i < errors.size(); ++i) message += (i ? ", " : "") + errors[i].to_string();
  return Error{"OSError", 0, message};
}

inline void finish_server_start(LoopBase& loop, const std::shared_ptr<Server>& server, Completion<Server> done,
                                MaybeError error) {
  if (error) {
    server->close();
    return loop.complete_with_error(std::move(done), std::move(*error));
  }
  loop.call_soon([server, done = std::move(done)] { done(Outcome<Server>{server, std::nullopt}); });
}

}  // namespace loopspec::kit
