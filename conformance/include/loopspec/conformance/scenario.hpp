// Scenarios: one body written against the contract API, run for any backend.
//
// A scenario names the rules it exercises and the capabilities it needs, and
// lists the variants it runs in (stream kind x protocol kind). The body drives
// the backend through a ScenarioContext; it never knows which backend it has.
// Register with LOOPSPEC_SCENARIO in a file of conformance/scenarios/.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace loopspec {

class ScenarioContext;

// Where a stream scenario's connection comes from and which protocol class
// receives: "tcp" and "unix" connect out with create_connection to a peer
// listening; "tcp-server" accepts the peer's connection with create_server;
// "tls" and "tls-server" do the same over TLS (the peer speaks TLS too, with
// the build's throwaway certificates: tls_settings.hpp); "+buffered" uses a
// BufferedProtocol instead of a Protocol. "udp", "pipe" and "subprocess"
// name the capabilities of the other transport kinds.
namespace variants {
inline const std::vector<std::string> kStream{"tcp", "unix", "tls"};
inline const std::vector<std::string> kStreamAndServer{"tcp", "unix", "tcp-server", "tls", "tls-server"};
inline const std::vector<std::string> kReceive{"tcp",          "unix", "tcp-server", "tcp+buffered",
                                              "unix+buffered", "tcp-server+buffered", "tls", "tls-server",
                                              "tls+buffered", "tls-server+buffered"};
inline const std::vector<std::string> kBuffered{"tcp+buffered", "unix+buffered", "tcp-server+buffered", "tls+buffered",
                                               "tls-server+buffered"};
// Half-close (write_eof, eof_received keeping the transport open): plain sockets only, TLS has none.
inline const std::vector<std::string> kHalfClose{"tcp", "unix", "tcp-server"};
inline const std::vector<std::string> kHalfCloseReceive{"tcp",           "unix", "tcp-server", "tcp+buffered",
                                                       "unix+buffered", "tcp-server+buffered"};
// TLS only.
inline const std::vector<std::string> kTls{"tls", "tls-server"};
inline const std::vector<std::string> kTlsReceive{"tls", "tls-server", "tls+buffered", "tls-server+buffered"};
}  // namespace variants

struct ScenarioSpec {
  std::string id;     // stable: "stream.flow.pause-strictly-over-high"
  std::string title;  // one line, what it does
  std::vector<std::string> rules;     // every rule id it checks
  std::vector<std::string> variants;  // see namespace variants
  std::function<void(ScenarioContext&)> body;
};

// The capabilities a variant needs ("tcp+buffered" -> tcp, buffered).
std::vector<std::string> capabilities_for(const std::string& variant);

class ScenarioRegistry {
 public:
  static ScenarioRegistry& instance();
  void add(ScenarioSpec spec);  // throws std::logic_error on a duplicate id
  const std::vector<ScenarioSpec>& all() const { return specs_; }

 private:
  std::vector<ScenarioSpec> specs_;
};

struct ScenarioRegistrar {
  explicit ScenarioRegistrar(ScenarioSpec spec) { ScenarioRegistry::instance().add(std::move(spec)); }
};

#define LOOPSPEC_CONCAT_INNER(a, b) a##b
#define LOOPSPEC_CONCAT(a, b) LOOPSPEC_CONCAT_INNER(a, b)
// LOOPSPEC_SCENARIO({.id = ..., .title = ..., .rules = {...}, .variants = ..., .body = [](ScenarioContext& ctx) {...}});
#define LOOPSPEC_SCENARIO(...) \
  static const ::loopspec::ScenarioRegistrar LOOPSPEC_CONCAT(loopspec_scenario_, __LINE__)(::loopspec::ScenarioSpec __VA_ARGS__)

}  // namespace loopspec
