#include "loopspec/kit/loop_base.hpp"

#include <iostream>

namespace loopspec::kit {

LoopBase::LoopBase(std::string name, Faults faults)
    : name_(std::move(name)), faults_(faults), read_buffer_(new char[kReadBufferSize + 1]) {}

void LoopBase::report_exception(std::string_view context, const Error& error) {
  if (exception_handler_) {
    exception_handler_(context, error);
  } else {
    std::cerr << name_ << ": exception in " << context << ": " << error.to_string() << "\n";
  }
}

}  // namespace loopspec::kit
