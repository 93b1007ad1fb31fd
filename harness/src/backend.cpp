#include "loopspec/backend.hpp"

#include <stdexcept>

namespace loopspec {

BackendRegistry& BackendRegistry::instance() {
  static BackendRegistry registry;
  return registry;
}

void BackendRegistry::add(std::string name, BackendFactory factory) {
  for (auto& entry : factories_) {
    if (entry.first == name) {
      entry.second = std::move(factory);
      return;
    }
  }
  factories_.emplace_back(std::move(name), std::move(factory));
}

std::unique_ptr<Backend> BackendRegistry::create(const std::string& name, const BackendOptions& options) const {
  for (const auto& entry : factories_) {
    if (entry.first == name) return entry.second(options);
  }
  std::string known;
  for (const auto& entry : factories_) known += (known.empty() ? "" : ", ") + entry.first;
  throw std::invalid_argument("unknown backend '" + name + "' (known: " + known + ")");
}

std::vector<std::string> BackendRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& entry : factories_) out.push_back(entry.first);
  return out;
}

}  // namespace loopspec
