#include "loopspec/conformance/scenario.hpp"

#include <stdexcept>

#include "loopspec/backend.hpp"

namespace loopspec {

std::vector<std::string> capabilities_for(const std::string& variant) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kBases{
      {"tcp", {capability::kTcp}},        {"tcp-server", {capability::kTcp}},
      {"unix", {capability::kUnix}},      {"tls", {capability::kTcp, capability::kTls}},
      {"tls-server", {capability::kTcp, capability::kTls}},
      {"udp", {capability::kUdp}},        {"pipe", {capability::kPipes}},
      {"subprocess", {capability::kSubprocess}}};
  std::string base = variant.substr(0, variant.find('+'));
  std::vector<std::string> caps;
  bool known = false;
  for (const auto& [name, needs] : kBases) {
    if (name == base) {
      caps = needs;
      known = true;
    }
  }
  if (!known) throw std::logic_error("unknown scenario variant '" + variant + "'");
  if (variant.find("+buffered") != std::string::npos) caps.push_back(capability::kBuffered);
  return caps;
}

ScenarioRegistry& ScenarioRegistry::instance() {
  static ScenarioRegistry registry;
  return registry;
}

void ScenarioRegistry::add(ScenarioSpec spec) {
  for (const auto& s : specs_) {
    if (s.id == spec.id) throw std::logic_error("scenario id registered twice: " + spec.id);
  }
  specs_.push_back(std::move(spec));
}

}  // namespace loopspec
