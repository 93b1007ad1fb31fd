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

void BackendRegistry::add_prefix(std::string prefix, PrefixBackendFactory factory,
                                 std::function<std::vector<std::string>()> listed) {
  for (auto& entry : prefixes_) {
    if (entry.prefix == prefix) {
      entry.factory = std::move(factory);
      entry.listed = std::move(listed);
      return;
    }
  }
  prefixes_.push_back(PrefixEntry{std::move(prefix), std::move(factory), std::move(listed)});
}

std::unique_ptr<Backend> BackendRegistry::create(const std::string& name, const BackendOptions& options) const {
  for (const auto& entry : factories_) {
    if (entry.first == name) return entry.second(options);
  }
  const PrefixEntry* family = nullptr;
  for (const auto& entry : prefixes_) {
    if (name.rfind(entry.prefix, 0) == 0 && (family == nullptr || entry.prefix.size() > family->prefix.size())) {
      family = &entry;
    }
  }
  if (family != nullptr) return family->factory(name, options);
  std::string known;
  for (const auto& entry : factories_) known += (known.empty() ? "" : ", ") + entry.first;
  for (const auto& entry : prefixes_) known += (known.empty() ? "" : ", ") + entry.prefix + "...";
  throw std::invalid_argument("unknown backend '" + name + "' (known: " + known + ")");
}

std::vector<std::string> BackendRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& entry : factories_) out.push_back(entry.first);
  for (const auto& entry : prefixes_) {
    if (!entry.listed) continue;
    for (auto& name : entry.listed()) out.push_back(std::move(name));
  }
  return out;
}

}  // namespace loopspec
