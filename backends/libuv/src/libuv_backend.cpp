#include "loopspec/libuv/libuv_backend.hpp"

#include <uv.h>

#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/tls_context.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec {

namespace {

class LibuvBackend final : public Backend {
 public:
  explicit LibuvBackend(kit::Faults faults) : faults_(faults) { kit::prepare_tls(); }
  const BackendInfo& info() const override { return libuv_backend_info(); }
  std::unique_ptr<EventLoop> make_loop() override { return std::make_unique<libuv::UvLoop>(faults_); }

 private:
  kit::Faults faults_;
};

}  // namespace

const BackendInfo& libuv_backend_info() {
  static const BackendInfo info{
      "libuv",
      std::string("libuv ") + uv_version_string(),
      uv_version_string(),
      {capability::kTcp, capability::kUnix, capability::kBuffered, capability::kTls, capability::kUdp,
       capability::kPipes},
      // The faults the libuv transports consult: their own, and those of the
      // kit's WriteFlow that every write goes through.
      kit::faults_named({"pause-at-high", "never-pause", "pause-repeated", "resume-below-low", "resume-early",
                         "eof-twice", "close-drops-buffer", "limits-unchecked", "high-zero-keeps-low",
                         "not-closing-after-close", "dgram-split", "dgram-error-closes", "pipe-no-eof",
                         "pipe-write-eof-keeps-open", "pipe-abort-flushes"}),
  };
  return info;
}

void register_libuv_backend(BackendRegistry& registry) {
  registry.add("libuv", [](const BackendOptions& options) -> std::unique_ptr<Backend> {
    return std::make_unique<LibuvBackend>(kit::faults_from_name(options.fault, libuv_backend_info()));
  });
}

}  // namespace loopspec
