#include "loopspec/reference/reference_backend.hpp"

#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/tls_context.hpp"

#ifndef LOOPSPEC_VERSION
#error "LOOPSPEC_VERSION must be defined by the build"
#endif

namespace loopspec::reference {

namespace {

class ReferenceBackend final : public Backend {
 public:
  ReferenceBackend(kit::Faults faults, const std::string& profile)
      // SubprocessTransport.close(): 3.8 kill()s the child, 3.4.3 terminate()s it.
      : faults_(faults), subprocess_close_signal_(profile == "3.4.3" ? SIGTERM : SIGKILL) {
    kit::prepare_tls();
  }
  const BackendInfo& info() const override { return reference_backend_info(); }
  std::unique_ptr<EventLoop> make_loop() override {
    auto loop = std::make_unique<EpollLoop>(faults_);
    loop->set_subprocess_close_signal(subprocess_close_signal_);
    return loop;
  }

 private:
  kit::Faults faults_;
  int subprocess_close_signal_;
};

}  // namespace

const BackendInfo& reference_backend_info() {
  static const BackendInfo info{
      "reference",       "loopspec reference epoll loop",
      LOOPSPEC_VERSION,  {capability::kTcp, capability::kUnix, capability::kBuffered, capability::kUdp,
                         capability::kPipes, capability::kSubprocess, capability::kTls},
      kit::fault_catalogue(),
  };
  return info;
}

}  // namespace loopspec::reference

namespace loopspec {

void register_reference_backend(BackendRegistry& registry) {
  registry.add("reference", [](const BackendOptions& options) -> std::unique_ptr<Backend> {
    return std::make_unique<reference::ReferenceBackend>(kit::faults_from_name(options.fault, reference::reference_backend_info()), options.profile);
  });
}

}  // namespace loopspec
