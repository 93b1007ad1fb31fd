// The start every endpoint shares: a protocol from the factory, then the
// transport around the handle.
//
// Promise: start_endpoint<T>(loop, box, factory, done, args...) calls the
// factory, makes a T(loop, box, args...) that adopts box, gives it the
// protocol and announces it (endpoint.hpp: connection_made, then done). If
// the factory throws or returns no protocol, or the T refuses the protocol
// (TypeError), the box is closed and the canonical error goes to done
// (scheduled), or to the loop's exception handler when done is empty (a
// server's connections). It returns the endpoint, or null after a failure.
#pragma once

#include <memory>
#include <utility>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/libuv/handle_box.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

template <class T, class Factory, class Done, class... Args>
std::shared_ptr<T> start_endpoint(UvLoop& loop, HandleBox* box, const Factory& factory, Done done, Args&&... args) {
  Error error;
  try {
    auto protocol = factory();
    if (!protocol) throw ContractError(Error{"TypeError", 0, "the protocol factory returned no protocol"});
    auto endpoint = std::make_shared<T>(loop, box, std::forward<Args>(args)...);
    endpoint->set_protocol(std::move(protocol));  // on TypeError the endpoint's destructor closes the box
    endpoint->announce(std::move(done));
    return endpoint;
  } catch (...) {
    error = kit::error_from_current_exception();
  }
  HandleBox::close(box);  // a no-op when the transport closed it already
  if (done) {
    loop.complete_with_error(std::move(done), std::move(error));
  } else {
    loop.report_exception("protocol factory", error);
  }
  return nullptr;
}

}  // namespace loopspec::libuv
