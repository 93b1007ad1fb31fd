// A Backend whose loops are one kit::LoopBase subclass, made afresh for each
// scenario with the chosen fault and the run's profile.
//
// Promises: the fault name is checked against the faults `info` offers when
// the backend is made (std::invalid_argument otherwise); every loop gets
// those faults and the signal SubprocessTransport.close() sends a running
// child under the profile (3.8: SIGKILL, 3.4.3: SIGTERM); OpenSSL is set up
// once, before any loop.
#pragma once

#include <csignal>
#include <memory>

#include "loopspec/backend.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/tls_context.hpp"

namespace loopspec::kit {

template <class Loop>
class LoopBackend final : public Backend {
 public:
  LoopBackend(const BackendInfo& info, const BackendOptions& options)
      : info_(info),
        faults_(faults_from_name(options.fault, info)),
        subprocess_close_signal_(options.profile == "3.4.3" ? SIGTERM : SIGKILL) {
    prepare_tls();
  }
  const BackendInfo& info() const override { return info_; }
  std::unique_ptr<EventLoop> make_loop() override {
    auto loop = std::make_unique<Loop>(faults_);
    loop->set_subprocess_close_signal(subprocess_close_signal_);
    return loop;
  }

 private:
  const BackendInfo& info_;
  Faults faults_;
  int subprocess_close_signal_;
};

}  // namespace loopspec::kit
