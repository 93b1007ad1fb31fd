// The loopspec command: rules, run, report, check-trace, backends, scenarios.
// Exit status: 0 clean, 1 unexpected FAIL/ERROR or trace violations, 2 bad usage or bad input,
// 128 + the signal when a run was interrupted by SIGINT or SIGTERM (its results written all the same).
#include "loopspec/conformance/cli.hpp"

#include <fnmatch.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "loopspec/checker.hpp"
#include "loopspec/conformance/expectations.hpp"
#include "loopspec/conformance/interruption.hpp"
#include "loopspec/conformance/runner.hpp"
#include "loopspec/reports/report.hpp"
#include "loopspec/rules.hpp"
#include "loopspec/trace.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace loopspec;

namespace {

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;

struct CommonOptions {
  std::string spec_dir;
  std::string profile{kDefaultProfile};
};

RuleCatalogue load_rules(const CommonOptions& common) {
  return RuleCatalogue::load(common.spec_dir.empty() ? RuleCatalogue::default_directory() : fs::path(common.spec_dir));
}

void check_profile(const std::string& profile) {
  if (profile != kRevision38 && profile != kRevision343) {
    throw CLI::ValidationError("--profile", "must be 3.8 or 3.4.3, got '" + profile + "'");
  }
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(sep)) + item;
  return out;
}

int command_rules(const CommonOptions& common, const std::string& format) {
  check_profile(common.profile);
  RuleCatalogue rules = load_rules(common);
  auto selected = rules.for_profile(common.profile);
  if (format == "json") {
    json out = json::array();
    for (const Rule* r : selected) {
      json quotes = json::array();
      for (const auto& q : r->quotes) quotes.push_back({{"revision", q.revision}, {"section", q.section}, {"text", q.text}});
      out.push_back({{"id", r->id},
                     {"title", r->title},
                     {"level", to_string(r->level)},
                     {"section", r->section},
                     {"transports", r->transports},
                     {"revisions", r->revisions},
                     {"quotes", quotes},
                     {"notes", r->notes}});
    }
    std::cout << out.dump(2) << '\n';
    return kExitClean;
  }
  std::size_t id_width = 10;
  for (const Rule* r : selected) id_width = std::max(id_width, r->id.size());
  std::cout << fmt::format("{:<{}}  {:<6}  {:<22}  {}\n", "ID", id_width, "LEVEL", "TRANSPORTS", "TITLE");
  for (const Rule* r : selected) {
    std::string kinds = join(r->transports, ",");
    if (kinds.size() > 22) kinds = kinds.substr(0, 19) + "...";
    std::cout << fmt::format("{:<{}}  {:<6}  {:<22}  {}\n", r->id, id_width, to_string(r->level), kinds, r->title);
  }
  std::cout << fmt::format("{} rules (profile {})\n", selected.size(), common.profile);
  return kExitClean;
}

int command_check_trace(const CommonOptions& common, const std::vector<std::string>& files, const std::string& format) {
  check_profile(common.profile);
  int status = kExitClean;
  json all = json::array();
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error(file + ": cannot open");
    Checker checker(common.profile);
    std::size_t events = 0;
    struct Counter : TraceSink {
      Checker& c;
      std::size_t& n;
      Counter(Checker& checker, std::size_t& count) : c(checker), n(count) {}
      void on_header(const TraceHeader& h) override { c.on_header(h); }
      void on_event(const Event& e) override { ++n, c.on_event(e); }
      void on_end(bool complete) override { c.on_end(complete); }
    } counter(checker, events);
    read_trace(in, counter, file);
    const auto& violations = checker.violations();
    if (!violations.empty()) status = kExitFindings;
    if (format == "json") {
      json list = json::array();
      for (const auto& v : violations) {
        list.push_back({{"rule", v.rule}, {"seq", v.seq}, {"conn", v.conn}, {"expected", v.expected},
                        {"observed", v.observed}, {"message", v.message()}});
      }
      all.push_back({{"file", file}, {"events", events}, {"violations", list}});
    } else {
      for (const auto& v : violations) std::cout << file << ": " << v.message() << '\n';
      std::cout << fmt::format("{}: {} events, {} violation{}\n", file, events, violations.size(),
                               violations.size() == 1 ? "" : "s");
    }
  }
  if (format == "json") std::cout << all.dump(2) << '\n';
  return status;
}

int command_backends(bool names_only) {
  auto& registry = BackendRegistry::instance();
  for (const auto& name : registry.names()) {
    if (names_only) {
      std::cout << name << '\n';
      continue;
    }
    auto backend = registry.create(name, {});
    const auto& info = backend->info();
    std::cout << fmt::format("{}\n  implementation: {} {}\n  capabilities: {}\n", info.name, info.implementation,
                             info.version, join({info.capabilities.begin(), info.capabilities.end()}, ", "));
    if (!info.faults.empty()) {
      std::cout << "  faults (test-only deviations, --fault NAME):\n";
      for (const auto& f : info.faults) std::cout << fmt::format("    {:<26} breaks {}: {}\n", f.name, f.breaks, f.description);
    }
  }
  return kExitClean;
}

int command_scenarios() {
  for (const auto& s : ScenarioRegistry::instance().all()) {
    std::cout << fmt::format("{}  [{}]\n  {}\n  rules: {}\n", s.id, join(s.variants, ", "), s.title, join(s.rules, ", "));
  }
  std::cout << ScenarioRegistry::instance().all().size() << " scenarios\n";
  return kExitClean;
}

struct RunCommand {
  std::string backend = "reference";
  std::string out = "out";
  std::string rules_glob = "*";
  std::string scenarios_glob = "*";
  std::string fault;
  std::string expectations;
  bool keep_traces = false;
  bool no_report = false;
  double wait_timeout = 2.0;
  double scenario_timeout = 30.0;
  bool quiet = false;
};

int command_run(const CommonOptions& common, const RunCommand& cmd) {
  check_profile(common.profile);
  RuleCatalogue rules = load_rules(common);
  RunOptions options;
  options.backend = cmd.backend;
  options.backend_options.fault = cmd.fault;
  options.profile = common.profile;
  options.rules_glob = cmd.rules_glob;
  options.scenarios_glob = cmd.scenarios_glob;
  options.wait_timeout = Duration(cmd.wait_timeout);
  options.scenario_timeout = Duration(cmd.scenario_timeout);
  fs::path expectations_file = cmd.expectations.empty()
                                   ? expectations_file_for(default_expectations_directory(), cmd.backend)
                                   : fs::path(cmd.expectations);
  if (cmd.expectations != "none" && (!cmd.expectations.empty() || fs::exists(expectations_file))) {
    options.expectations = load_expectations(expectations_file, rules);
  }
  fs::path out_dir = cmd.out;
  fs::create_directories(out_dir);
  if (cmd.keep_traces) options.trace_dir = out_dir / "traces";

  if (!cmd.quiet) {
    std::cout << fmt::format("loopspec {}: backend {}{}, profile {}\n", LOOPSPEC_VERSION, cmd.backend,
                             cmd.fault.empty() ? "" : " (fault " + cmd.fault + ")", common.profile);
  }
  auto progress = [&](std::size_t done, std::size_t total, const ScenarioOutcome& o) {
    if (cmd.quiet) return;
    std::string label = o.id + " [" + o.variant + "]";
    std::cout << fmt::format("[{:>3}/{}] {:<64} {:<11} {:>6.0f} ms\n", done, total, label, to_string(o.verdict),
                             o.duration_ms);
    if (o.verdict == Verdict::Fail || o.verdict == Verdict::Error || o.verdict == Verdict::NonStrict) {
      for (const auto& c : o.checks) {
        if (c.verdict == Verdict::Fail || c.verdict == Verdict::NonStrict) std::cout << "          " << c.message << '\n';
      }
      if (!o.error.empty()) std::cout << "          error: " << o.error << '\n';
    }
    std::cout.flush();
  };
  watch_for_interruption();
  RunResults results = run_suite(options, rules, ScenarioRegistry::instance().all(), progress);
  fs::path results_file = out_dir / "results.json";
  write_results(results, results_file);
  fs::path report_dir = out_dir / "report";
  if (!cmd.no_report) {
    reports::ReportModel model({reports::ReportInput{results_file.string(), results}}, &rules, "");
    reports::write_report(model, report_dir);
  }

  std::cout << fmt::format("{}: {} rules: {} PASS, {} FAIL, {} NON-STRICT, {} INFO, {} UNSUPPORTED, {} ERROR, {} UNTESTED; "
                           "{} scenario runs in {:.1f} s\n",
                           cmd.backend, results.rules.size(), results.count(Verdict::Pass), results.count(Verdict::Fail),
                           results.count(Verdict::NonStrict), results.count(Verdict::Info),
                           results.count(Verdict::Unsupported), results.count(Verdict::Error),
                           results.count(Verdict::Untested), results.scenarios.size(), results.duration_s);
  for (const auto& r : results.rules) {
    if (!r.expected) {
      std::cout << fmt::format("  unexpected {:<10} {}  {}\n", to_string(r.verdict), r.id, r.message);
    }
  }
  std::cout << fmt::format("{} unexpected; results: {}{}\n", results.unexpected(), results_file.string(),
                           cmd.no_report ? "" : "; report: " + (report_dir / "index.html").string());
  if (int sig = interruption_signal(); sig != 0) {
    std::cout << fmt::format("interrupted by {}: the results hold the {} scenario runs that completed\n",
                             sig == SIGINT ? "SIGINT" : "SIGTERM", results.scenarios.size());
    return 128 + sig;  // as a shell reports a command the signal ended
  }
  return results.unexpected_failures() == 0 ? kExitClean : kExitFindings;
}

struct ReportCommand {
  std::vector<std::string> results;
  std::vector<std::string> baselines;
  std::string out;
};

int command_report(const CommonOptions& common, const ReportCommand& cmd) {
  auto catalogue = reports::load_catalogue(common.spec_dir.empty() ? RuleCatalogue::default_directory()
                                                                   : fs::path(common.spec_dir));
  auto paths = [](const std::vector<std::string>& names) { return std::vector<fs::path>(names.begin(), names.end()); };
  reports::ReportModel model(reports::read_report_inputs(paths(cmd.results)), catalogue.get(), catalogue.problem,
                             reports::read_report_inputs(paths(cmd.baselines)));
  auto files = reports::write_report(model, cmd.out);
  if (!catalogue.catalogue) std::cerr << "loopspec: report without quotes: " << catalogue.problem << '\n';
  std::cout << fmt::format("report of {} run{}: {}, {}, {}\n", model.runs().size(), model.runs().size() == 1 ? "" : "s",
                           files.index.string(), files.junit.string(), files.summary.string());
  return kExitClean;
}

}  // namespace

int loopspec::run_cli(int argc, char** argv) {
  CLI::App app{"loopspec: checks event loops against asyncio's Transports and Protocols contract"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(LOOPSPEC_VERSION) + " (" + LOOPSPEC_REVISION + ")");
  CommonOptions common;
  auto add_common = [&](CLI::App* sub) {
    sub->add_option("--profile", common.profile, "document revision to check against: 3.8 or 3.4.3")
        ->capture_default_str();
    sub->add_option("--spec", common.spec_dir, "rules catalogue directory (default: the shipped spec/rules)");
  };

  std::string rules_format = "table";
  auto* rules_cmd = app.add_subcommand("rules", "list the rules catalogue");
  add_common(rules_cmd);
  rules_cmd->add_option("--format", rules_format, "table or json")->check(CLI::IsMember({"table", "json"}));

  RunCommand run;
  auto* run_cmd = app.add_subcommand("run", "run the conformance scenarios against a backend");
  add_common(run_cmd);
  run_cmd->add_option("--backend", run.backend, "backend name (see `loopspec backends`)")->capture_default_str();
  run_cmd->add_option("--out", run.out, "output directory for results.json")->capture_default_str();
  run_cmd->add_option("--rules", run.rules_glob, "only rules matching this glob")->capture_default_str();
  run_cmd->add_option("--scenarios", run.scenarios_glob, "only scenarios matching this glob")->capture_default_str();
  run_cmd->add_option("--fault", run.fault, "switch on a test-only deviation of the backend (see `loopspec backends`)");
  run_cmd->add_option("--expectations", run.expectations,
                      "known deviations file (default: conformance/expectations/<backend>.yaml if present; 'none' for none)");
  run_cmd->add_option("--wait-timeout", run.wait_timeout, "seconds one wait inside a scenario may take")
      ->check(CLI::Range(0.01, 600.0))
      ->capture_default_str();
  run_cmd->add_option("--scenario-timeout", run.scenario_timeout, "seconds one scenario may take in all")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  run_cmd->add_flag("--traces", run.keep_traces, "write every scenario's trace to OUT/traces/ (JSON Lines, for check-trace)");
  run_cmd->add_flag("--quiet", run.quiet, "print only the summary");
  run_cmd->add_flag("--no-report", run.no_report, "do not write OUT/report/ (index.html, junit.xml, summary.md)");

  ReportCommand report;
  auto* report_cmd = app.add_subcommand("report", "render results.json files as one report: index.html, junit.xml, summary.md");
  report_cmd->add_option("results", report.results, "results.json files (several backends or runs are merged)")->required();
  report_cmd->add_option("--out", report.out, "output directory")->required();
  report_cmd->add_option("--baseline", report.baselines,
                         "an earlier results.json of one of the backends: marks new failures and new passes (repeatable)");
  report_cmd->add_option("--spec", common.spec_dir, "rules catalogue directory, for the quotes (default: the shipped spec/rules)");

  std::vector<std::string> trace_files;
  std::string trace_format = "text";
  auto* check_cmd = app.add_subcommand("check-trace", "check recorded traces (JSON Lines) against the contract");
  add_common(check_cmd);
  check_cmd->add_option("files", trace_files, "trace files")->required()->check(CLI::ExistingFile);
  check_cmd->add_option("--format", trace_format, "text or json")->check(CLI::IsMember({"text", "json"}));

  bool names_only = false;
  auto* backends_cmd = app.add_subcommand("backends", "list the backends, their capabilities and faults");
  backends_cmd->add_flag("--names", names_only, "only the names, one per line");
  auto* scenarios_cmd = app.add_subcommand("scenarios", "list the scenarios and the rules each checks");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitClean : kExitUsage;
  }
  try {
    if (*rules_cmd) return command_rules(common, rules_format);
    if (*run_cmd) return command_run(common, run);
    if (*report_cmd) return command_report(common, report);
    if (*check_cmd) return command_check_trace(common, trace_files, trace_format);
    if (*backends_cmd) return command_backends(names_only);
    if (*scenarios_cmd) return command_scenarios();
  } catch (const CLI::ValidationError& e) {
    std::cerr << "loopspec: " << e.what() << '\n';
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "loopspec: " << e.what() << '\n';
    return kExitUsage;
  }
  return kExitUsage;
}
