#include "loopspec/reference/reference_backend.hpp"

#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/reference/faults.hpp"
#include "loopspec/reference/tls_context.hpp"

#ifndef LOOPSPEC_VERSION
#error "LOOPSPEC_VERSION must be defined by the build"
#endif

namespace loopspec::reference {

namespace {

class ReferenceBackend final : public Backend {
 public:
  explicit ReferenceBackend(Faults faults) : faults_(faults) { prepare_tls(); }
  const BackendInfo& info() const override { return reference_backend_info(); }
  std::unique_ptr<EventLoop> make_loop() override { return std::make_unique<EpollLoop>(faults_); }

 private:
  Faults faults_;
};

}  // namespace

const BackendInfo& reference_backend_info() {
  static const BackendInfo info{
      "reference",       "loopspec reference epoll loop",
      LOOPSPEC_VERSION,  {capability::kTcp, capability::kUnix, capability::kBuffered, capability::kUdp,
                         capability::kPipes, capability::kSubprocess, capability::kTls},
      fault_catalogue(),
  };
  return info;
}

}  // namespace loopspec::reference

namespace loopspec {

void register_reference_backend(BackendRegistry& registry) {
  registry.add("reference", [](const BackendOptions& options) -> std::unique_ptr<Backend> {
    return std::make_unique<reference::ReferenceBackend>(reference::faults_from_name(options.fault));
  });
}

}  // namespace loopspec
