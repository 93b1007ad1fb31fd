#include "loopspec/asio/asio_backend.hpp"

#include <boost/asio/version.hpp>
#include <boost/version.hpp>

#include <string>

#include "loopspec/asio/asio_loop.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/loop_backend.hpp"

namespace loopspec {

namespace {

// BOOST_ASIO_VERSION is XXYYZZ: 101800 is Asio 1.18.0 (Boost 1.74).
std::string asio_version() {
  return std::to_string(BOOST_ASIO_VERSION / 100000) + "." + std::to_string(BOOST_ASIO_VERSION / 100 % 1000) + "." +
         std::to_string(BOOST_ASIO_VERSION % 100);
}

std::string boost_version() {
  return std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
         std::to_string(BOOST_VERSION % 100);
}

}  // namespace

const BackendInfo& asio_backend_info() {
  static const BackendInfo info{
      "asio",
      "Boost.Asio " + asio_version() + " (Boost " + boost_version() + ")",
      asio_version(),
      {capability::kTcp, capability::kUnix, capability::kBuffered, capability::kTls, capability::kUdp,
       capability::kPipes, capability::kSubprocess},
      // The faults the Asio transports consult, and those of the kit's
      // WriteFlow (every write goes through it) and TLS layer (every TLS
      // connection is a kit TlsProtocol over an Asio stream transport).
      kit::kit_faults_and({"eof-twice", "close-drops-buffer", "not-closing-after-close", "eof-false-stays-open",
                           "eof-true-closes", "writelines-drops-last", "empty-data-received",
                           "pause-reading-raises-twice", "buffer-size-zero", "lost-error-on-close", "dgram-split",
                           "dgram-error-closes", "dgram-abort-flushes", "pipe-no-eof", "pipe-write-eof-keeps-open",
                           "pipe-abort-flushes", "proc-exited-twice", "proc-parent-fd", "proc-terminate-kills",
                           "proc-close-no-kill"}),
  };
  return info;
}

void register_asio_backend(BackendRegistry& registry) {
  registry.add("asio", [](const BackendOptions& options) -> std::unique_ptr<Backend> {
    return std::make_unique<kit::LoopBackend<asio::AsioLoop>>(asio_backend_info(), options);
  });
}

}  // namespace loopspec
