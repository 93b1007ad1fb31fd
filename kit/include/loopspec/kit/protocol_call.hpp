// How a transport runs one callback of its protocol.
//
// Promise: call_protocol returns true when the callback returned normally.
// When it threw, the loop's exception handler hears of it (context: the
// callback's name), then on_failure(error) runs with the exception's
// canonical error (exception_error.hpp) — transports end the connection with
// it — and call_protocol returns false. A loop that is gone (null) is not
// told.
#pragma once

#include "loopspec/error.hpp"
#include "loopspec/kit/loop_base.hpp"
#include "loopspec/kit/exception_error.hpp"

namespace loopspec::kit {

template <class Callback, class OnFailure>
bool call_protocol(LoopBase* loop, const char* name, Callback&& callback, OnFailure&& on_failure) {
  Error error;
  try {
    callback();
    return true;
  } catch (...) {
    error = error_from_current_exception();
  }
  if (loop != nullptr) loop->report_exception(name, error);
  on_failure(error);
  return false;
}

}  // namespace loopspec::kit
