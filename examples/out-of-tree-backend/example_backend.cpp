#include "example_backend.hpp"

#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/loop_backend.hpp"
#include "loopspec/reference/epoll_loop.hpp"

namespace example {

namespace {

const loopspec::BackendInfo& example_info() {
  static const loopspec::BackendInfo info{
      "example",
      "the reference epoll loop, registered from outside loopspec's tree",
      "1.0",
      {loopspec::capability::kTcp, loopspec::capability::kUnix, loopspec::capability::kBuffered},
      loopspec::kit::faults_named({"pause-at-high"}),
  };
  return info;
}

}  // namespace

void register_example_backend(loopspec::BackendRegistry& registry) {
  registry.add("example", [](const loopspec::BackendOptions& options) -> std::unique_ptr<loopspec::Backend> {
    return std::make_unique<loopspec::kit::LoopBackend<loopspec::reference::EpollLoop>>(example_info(), options);
  });
}

}  // namespace example
