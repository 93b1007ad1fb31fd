// How an exception thrown by user code (a protocol callback, a scheduled
// callback, a protocol factory) becomes a canonical error.
//
// Promise: a ContractError keeps its Error; any other exception becomes
// Error{"RuntimeError", 0, what()} ("unknown exception" when it is not a
// std::exception). Call only inside a catch block.
#pragma once

#include "loopspec/error.hpp"

namespace loopspec::kit {

Error error_from_current_exception();

}  // namespace loopspec::kit
