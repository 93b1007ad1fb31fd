#include "loopspec/kit/loop_base.hpp"

#include <iostream>

#include "loopspec/kit/exception_error.hpp"

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

void LoopBase::subprocess_shell(SubprocessProtocolFactory factory, std::string command, SubprocessOptions options,
                                Completion<SubprocessTransport> done) {
  subprocess_exec(std::move(factory), {"/bin/sh", "-c", std::move(command)}, std::move(options), std::move(done));
}

void LoopBase::start_subprocess(const SubprocessProtocolFactory& factory, Completion<SubprocessTransport> done,
                                const ChildStart& start) {
  try {
    auto protocol = factory();
    if (!protocol) throw ContractError(Error{"TypeError", 0, "the protocol factory returned no protocol"});
    start(std::move(protocol), done);
  } catch (...) {
    complete_with_error(std::move(done), error_from_current_exception());
  }
}

}  // namespace loopspec::kit
