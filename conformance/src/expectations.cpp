#include "loopspec/conformance/expectations.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "loopspec/shipped_data.hpp"

namespace loopspec {

namespace {
[[noreturn]] void fail(const std::filesystem::path& file, const YAML::Mark& mark, const std::string& field,
                       const std::string& what) {
  throw std::runtime_error(file.string() + ":" + std::to_string(mark.line + 1) + ": field '" + field + "': " + what);
}

std::string scalar(const std::filesystem::path& file, const YAML::Node& map, const char* field, bool required) {
  YAML::Node n = map[field];
  if (!n) {
    if (required) fail(file, map.Mark(), field, "missing");
    return {};
  }
  if (!n.IsScalar()) fail(file, n.Mark(), field, "expected a string");
  return n.as<std::string>();
}
}  // namespace

const Expectation* Expectations::find(const std::string& rule) const {
  auto it = std::find_if(deviations.begin(), deviations.end(), [&](const Expectation& e) { return e.rule == rule; });
  return it == deviations.end() ? nullptr : &*it;
}

Expectations load_expectations(const std::filesystem::path& file, const RuleCatalogue& rules) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::ParserException& e) {
    fail(file, e.mark, "-", e.msg);
  } catch (const YAML::BadFile&) {
    throw std::runtime_error(file.string() + ": cannot open");
  }
  if (!root.IsMap()) fail(file, root.Mark(), "-", "expected a mapping with 'backend' and 'deviations'");
  for (const auto& kv : root) {
    auto key = kv.first.as<std::string>();
    if (key != "backend" && key != "deviations") fail(file, kv.first.Mark(), key, "unknown field");
  }
  Expectations out;
  out.backend = scalar(file, root, "backend", true);
  YAML::Node list = root["deviations"];
  if (!list) return out;
  if (!list.IsSequence()) fail(file, list.Mark(), "deviations", "expected a list");
  std::set<std::string> seen;
  for (const auto& item : list) {
    if (!item.IsMap()) fail(file, item.Mark(), "deviations", "expected a mapping per deviation");
    for (const auto& kv : item) {
      auto key = kv.first.as<std::string>();
      if (key != "rule" && key != "verdict" && key != "reason" && key != "link" && key != "racy") {
        fail(file, kv.first.Mark(), key, "unknown field");
      }
    }
    Expectation e;
    e.rule = scalar(file, item, "rule", true);
    if (rules.find(e.rule) == nullptr) fail(file, item["rule"].Mark(), "rule", "no rule '" + e.rule + "' in the catalogue");
    if (!seen.insert(e.rule).second) fail(file, item["rule"].Mark(), "rule", "'" + e.rule + "' listed twice");
    std::string verdict = scalar(file, item, "verdict", true);
    auto v = verdict_from_string(verdict);
    if (!v || *v == Verdict::Pass || *v == Verdict::Untested) {
      fail(file, item["verdict"].Mark(), "verdict", "expected FAIL, NON-STRICT, INFO, UNSUPPORTED or ERROR, got '" + verdict + "'");
    }
    e.verdict = *v;
    e.reason = scalar(file, item, "reason", true);
    e.link = scalar(file, item, "link", false);
    std::string racy = scalar(file, item, "racy", false);
    if (racy != "" && racy != "true" && racy != "false") {
      fail(file, item["racy"].Mark(), "racy", "expected true or false, got '" + racy + "'");
    }
    e.racy = racy == "true";
    out.deviations.push_back(std::move(e));
  }
  return out;
}

std::filesystem::path expectations_file_for(const std::filesystem::path& directory, const std::string& backend) {
  std::string name = backend;
  std::replace(name.begin(), name.end(), ':', '-');
  std::replace(name.begin(), name.end(), '/', '-');
  return directory / (name + ".yaml");
}

std::filesystem::path default_expectations_directory() {
  if (const char* env = std::getenv("LOOPSPEC_EXPECTATIONS_DIR"); env != nullptr && *env != '\0') return env;
  return shipped_data().expectations_dir;
}

}  // namespace loopspec
