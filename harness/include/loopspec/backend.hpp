// Backends: named factories of event loops, with declared capabilities.
//
// Nothing in the harness knows a concrete backend: each backend library
// exports a register function that the loopspec command's main calls (static
// initialisers would be dropped from static libraries), and the runner finds
// them by name. A backend declares what it can do; scenarios that need more
// are UNSUPPORTED for it. Test-only deviations ("faults") are chosen by name
// through BackendOptions::fault; an unknown fault name is an error.
// A family of backends named by a prefix ("python:" for python:asyncio,
// python:uvloop, python:MODULE:CALLABLE) registers one factory for the prefix
// that receives the full name; names() lists the members the family offers
// on this machine (its `listed` function, asked only when names() is).
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "loopspec/event_loop.hpp"

namespace loopspec {

// Capability names, shared with the driver protocol's hello message.
namespace capability {
inline constexpr const char* kTcp = "tcp";
inline constexpr const char* kUnix = "unix";
inline constexpr const char* kUdp = "udp";
inline constexpr const char* kPipes = "pipes";
inline constexpr const char* kSubprocess = "subprocess";
inline constexpr const char* kTls = "tls";
inline constexpr const char* kBuffered = "buffered";  // BufferedProtocol
}  // namespace capability

struct Fault {
  std::string name;         // "pause-at-high"
  std::string description;  // what deviates from the contract
  std::string breaks;       // the rule id the suite must report as FAIL
};

struct BackendInfo {
  std::string name;            // registry name: "reference"
  std::string implementation;  // "loopspec reference epoll loop"
  std::string version;
  std::set<std::string> capabilities;
  std::vector<Fault> faults;   // test-only deviations this backend can switch on
  // How many times longer than an in-process loop this backend may take per
  // callback (a driver in another process pays two context switches for
  // each). The runner multiplies wait and scenario timeouts by it, so that
  // they keep guarding against hangs only, and verdicts mean the same thing.
  double timeout_scale = 1.0;
  bool has(const std::string& cap) const { return capabilities.count(cap) != 0; }
};

struct BackendOptions {
  std::string fault;  // empty: none
  // The revision of the documents the run checks ("3.8", "3.4.3"): a backend
  // that can honour either follows it where they differ.
  std::string profile = "3.8";
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const BackendInfo& info() const = 0;
  // A fresh loop per scenario.
  virtual std::unique_ptr<EventLoop> make_loop() = 0;
};

using BackendFactory = std::function<std::unique_ptr<Backend>(const BackendOptions&)>;
using PrefixBackendFactory = std::function<std::unique_ptr<Backend>(const std::string& name, const BackendOptions&)>;

class BackendRegistry {
 public:
  static BackendRegistry& instance();
  void add(std::string name, BackendFactory factory);
  // Adding a name again replaces its factory.
  // Every name starting with prefix that no exact name claims goes to factory
  // (the longest matching prefix wins); adding a prefix again replaces it.
  void add_prefix(std::string prefix, PrefixBackendFactory factory,
                  std::function<std::vector<std::string>()> listed = {});
  // Throws std::invalid_argument naming the known backends when absent.
  std::unique_ptr<Backend> create(const std::string& name, const BackendOptions& options) const;
  // Exact names, then each prefix family's listed members.
  std::vector<std::string> names() const;

 private:
  struct PrefixEntry {
    std::string prefix;
    PrefixBackendFactory factory;
    std::function<std::vector<std::string>()> listed;
  };
  std::vector<std::pair<std::string, BackendFactory>> factories_;
  std::vector<PrefixEntry> prefixes_;
};

struct BackendRegistrar {
  BackendRegistrar(std::string name, BackendFactory factory) {
    BackendRegistry::instance().add(std::move(name), std::move(factory));
  }
};

}  // namespace loopspec
