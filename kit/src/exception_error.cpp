#include "loopspec/kit/exception_error.hpp"

#include <exception>

namespace loopspec::kit {

Error error_from_current_exception() {
  try {
    throw;
  } catch (const ContractError& e) {
    return e.error();
  } catch (const std::exception& e) {
    return Error{"RuntimeError", 0, e.what()};
  } catch (...) {
    return Error{"RuntimeError", 0, "unknown exception"};
  }
}

}  // namespace loopspec::kit
