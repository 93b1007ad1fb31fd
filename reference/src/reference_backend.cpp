#include "loopspec/reference/reference_backend.hpp"

#include "loopspec/reference/epoll_loop.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/loop_backend.hpp"

#ifndef LOOPSPEC_VERSION
#error "LOOPSPEC_VERSION must be defined by the build"
#endif

namespace loopspec::reference {

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
    return std::make_unique<kit::LoopBackend<reference::EpollLoop>>(reference::reference_backend_info(), options);
  });
}

}  // namespace loopspec
