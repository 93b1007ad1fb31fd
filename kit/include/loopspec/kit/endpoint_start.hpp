// The start every endpoint shares: a protocol from the factory, then the
// transport around the I/O object (endpoint.hpp).
//
// Promise: start_endpoint<T>(loop, factory, done, make, discard) calls the
// factory, then make() for the T (made around the I/O object), gives it the
// protocol and announces it (connection_made, then done). If the factory
// throws or returns no protocol, or the T refuses the protocol (TypeError),
// discard() lets go of what the T did not take, then the canonical error goes
// to done (scheduled), or to the loop's exception handler when done is empty
// (a server's connections). It returns the endpoint, or null after a failure.
#pragma once

#include <memory>
#include <utility>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/kit/loop_base.hpp"

namespace loopspec::kit {

template <class T, class Factory, class Done, class Make, class Discard>
std::shared_ptr<T> start_endpoint(LoopBase& loop, const Factory& factory, Done done, Make make, Discard discard) {
  Error error;
  try {
    auto protocol = factory();
    if (!protocol) throw ContractError(Error{"TypeError", 0, "the protocol factory returned no protocol"});
    std::shared_ptr<T> endpoint = make();
    endpoint->set_protocol(std::move(protocol));  // on TypeError the endpoint's destructor closes its I/O object
    endpoint->announce(std::move(done));
    return endpoint;
  } catch (...) {
    error = error_from_current_exception();
  }
  discard();
  if (done) {
    loop.complete_with_error(std::move(done), std::move(error));
  } else {
    loop.report_exception("protocol factory", error);
  }
  return nullptr;
}

}  // namespace loopspec::kit
