// The catalogue and the code agree: every rule of a transport kind the
// reference implements has a checker monitor or a scenario, and every rule id
// the code names (scenario tags, checker monitors, faults, `// Rule:` comments
// and string literals in the sources) exists in the catalogue.
// Harness machinery test.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "loopspec/checker.hpp"
#include "suite_support.hpp"

namespace loopspec {
namespace {

std::set<std::string> scenario_rules() {
  std::set<std::string> ids;
  for (const auto& s : ScenarioRegistry::instance().all()) ids.insert(s.rules.begin(), s.rules.end());
  return ids;
}

TEST(RuleCoverage, EveryRuleOfAnImplementedTransportHasAMonitorOrAScenario) {
  testing::ensure_backends();
  auto info = BackendRegistry::instance().create("reference", {})->info();
  auto kinds = transports_covered(info);
  auto by_scenario = scenario_rules();
  const auto& monitored = Checker::monitored_rules();
  std::size_t covered = 0;
  std::size_t pending = 0;
  for (const auto& rule : testing::shipped_rules().rules()) {
    bool implemented = std::any_of(rule.transports.begin(), rule.transports.end(), [&](const std::string& t) {
      return std::find(kinds.begin(), kinds.end(), t) != kinds.end();
    });
    bool has_check = by_scenario.count(rule.id) != 0 ||
                     std::find(monitored.begin(), monitored.end(), rule.id) != monitored.end();
    if (!implemented) {
      ++pending;
      continue;
    }
    EXPECT_TRUE(has_check) << rule.id << " (" << rule.file << ":" << rule.line
                           << ") applies to a transport the reference implements but has neither a checker monitor "
                              "nor a scenario";
    covered += has_check ? 1 : 0;
  }
  EXPECT_GT(covered, 40u);
  std::cout << covered << " rules covered; " << pending << " rules of transports not implemented yet\n";
}

TEST(RuleCoverage, EveryIdNamedByScenariosMonitorsAndFaultsExists) {
  testing::ensure_backends();
  const auto& rules = testing::shipped_rules();
  for (const auto& s : ScenarioRegistry::instance().all()) {
    for (const auto& id : s.rules) EXPECT_NE(rules.find(id), nullptr) << "scenario " << s.id << " names " << id;
  }
  for (const auto& id : Checker::monitored_rules()) EXPECT_NE(rules.find(id), nullptr) << "checker monitors " << id;
  for (const auto& name : BackendRegistry::instance().names()) {
    auto backend = BackendRegistry::instance().create(name, {});
    for (const auto& f : backend->info().faults) {
      EXPECT_NE(rules.find(f.breaks), nullptr) << name << " fault " << f.name << " names " << f.breaks;
    }
  }
}

TEST(RuleCoverage, EveryIdNamedInTheSourcesExists) {
  const auto& rules = testing::shipped_rules();
  std::set<std::string> prefixes;
  for (const auto& r : rules.rules()) prefixes.insert(r.id.substr(0, r.id.find('.')));
  // A quoted dotted name whose first part is a rule area, or the id after "Rule:".
  const std::regex quoted(R"re("([a-z][a-z0-9]*(?:\.[a-z0-9][a-z0-9-]*)+)")re");
  const std::regex comment(R"re(Rule:\s*([a-z][a-z0-9]*(?:\.[a-z0-9][a-z0-9-]*)+))re");
  std::size_t named = 0;
  namespace fs = std::filesystem;
  for (const char* dir : {"harness", "reference", "conformance", "backends"}) {
    fs::path root = fs::path(LOOPSPEC_SOURCE_DIR) / dir;
    if (!fs::exists(root)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      auto ext = entry.path().extension();
      if (ext != ".cpp" && ext != ".hpp") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      std::string source = text.str();
      for (const auto* re : {&quoted, &comment}) {
        for (std::sregex_iterator it(source.begin(), source.end(), *re), end; it != end; ++it) {
          std::string id = (*it)[1];
          if (prefixes.count(id.substr(0, id.find('.'))) == 0) continue;
          ++named;
          EXPECT_NE(rules.find(id), nullptr) << entry.path().string() << " names rule " << id
                                             << ", which the catalogue lacks";
        }
      }
    }
  }
  EXPECT_GT(named, 50u);
}

}  // namespace
}  // namespace loopspec
