#include "loopspec/libuv/libuv_backend.hpp"

#include <uv.h>

#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/loop_backend.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec {

const BackendInfo& libuv_backend_info() {
  static const BackendInfo info{
      "libuv",
      std::string("libuv ") + uv_version_string(),
      uv_version_string(),
      {capability::kTcp, capability::kUnix, capability::kBuffered, capability::kTls, capability::kUdp,
       capability::kPipes, capability::kSubprocess},
      // The faults the libuv transports consult (the stream faults among them
      // are kit::StreamTransport's), and those of the kit's WriteFlow (every
      // write goes through it) and TLS layer (every TLS connection is a kit
      // TlsProtocol over a libuv stream transport).
      kit::kit_faults_and({"eof-twice", "close-drops-buffer", "not-closing-after-close", "eof-false-stays-open",
                           "eof-true-closes", "writelines-drops-last", "empty-data-received",
                           "pause-reading-raises-twice", "buffer-size-zero", "lost-error-on-close", "dgram-split",
                           "dgram-error-closes", "pipe-no-eof", "pipe-write-eof-keeps-open", "pipe-abort-flushes",
                           "proc-exited-twice", "proc-parent-fd", "proc-terminate-kills", "proc-close-no-kill"}),
  };
  return info;
}

void register_libuv_backend(BackendRegistry& registry) {
  registry.add("libuv", [](const BackendOptions& options) -> std::unique_ptr<Backend> {
    return std::make_unique<kit::LoopBackend<libuv::UvLoop>>(libuv_backend_info(), options);
  });
}

}  // namespace loopspec
