// What the example protocols share: the log they write what they understood
// to, the transport they answer on, and "lost" when the connection ends.
#pragma once

#include <memory>
#include <string>

#include "loopspec/fuzz/split_invariance.hpp"
#include "loopspec/transports.hpp"

namespace loopspec::fuzz::protocols {

template <class Base>
class LoggingProtocol : public Base {
 public:
  explicit LoggingProtocol(std::shared_ptr<EventLog> log) : log_(std::move(log)) {}

  void connection_made(std::shared_ptr<BaseTransport> transport) override {
    transport_ = std::dynamic_pointer_cast<Transport>(transport);
  }
  void connection_lost(const MaybeError& exc) override { log_->push_back(exc ? "lost: " + exc->to_string() : "lost"); }

 protected:
  std::shared_ptr<EventLog> log_;
  std::shared_ptr<Transport> transport_;
};

// A fresh protocol of type P and its log.
template <class P>
Subject subject_of() {
  auto log = std::make_shared<EventLog>();
  return Subject{std::make_shared<P>(log), log};
}

}  // namespace loopspec::fuzz::protocols
