// The start every endpoint shares: a protocol from the factory, then the
// transport around the handle.
//
// Promise: start_endpoint<T>(loop, box, factory, done, args...) calls the
// factory, then T::start(loop, box, protocol, done, args...). If the factory
// throws, returns no protocol, or T::start refuses the protocol, the box is
// closed and the canonical error goes to done (scheduled), or to the loop's
// exception handler when done is empty (a server's connections).
#pragma once

#include <utility>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/libuv/handle_box.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

template <class T, class Factory, class Done, class... Args>
void start_endpoint(UvLoop& loop, HandleBox* box, const Factory& factory, Done done, Args&&... args) {
  Error error;
  try {
    auto protocol = factory();
    if (!protocol) throw ContractError(Error{"TypeError", 0, "the protocol factory returned no protocol"});
    T::start(loop, box, std::move(protocol), done, std::forward<Args>(args)...);
    return;
  } catch (...) {
    error = kit::error_from_current_exception();
  }
  HandleBox::close(box);  // a no-op when the transport closed it already
  if (done) return loop.complete_with_error(std::move(done), std::move(error));
  loop.report_exception("protocol factory", error);
}

}  // namespace loopspec::libuv
