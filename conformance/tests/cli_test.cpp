// The loopspec command: exit statuses and clear errors for bad input
// (CLI arguments, traces, expectations). Harness machinery test.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "loopspec/conformance/expectations.hpp"
#include "loopspec/conformance/results.hpp"
#include "spawn_loopspec.hpp"
#include "suite_support.hpp"

namespace loopspec {
namespace {

namespace fs = std::filesystem;

struct Ran {
  int status = -1;
  std::string output;  // stdout and stderr together
};

Ran run_loopspec(std::vector<std::string> args) {
  auto spawned = testing::spawn_loopspec(std::move(args));
  Ran ran;
  char buf[4096];
  for (ssize_t n; (n = ::read(spawned.output, buf, sizeof buf)) > 0;) ran.output.append(buf, static_cast<std::size_t>(n));
  ::close(spawned.output);
  int status = 0;
  ::waitpid(spawned.pid, &status, 0);
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

fs::path temp_file(const std::string& name, const std::string& content) {
  fs::path dir = fs::temp_directory_path() / ("loopspec-cli-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path p = dir / name;
  std::ofstream(p) << content;
  return p;
}

TEST(Cli, RulesListsTheCatalogue) {
  Ran r = run_loopspec({"rules"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("flow.pause.strictly-over-high"), std::string::npos);
  EXPECT_NE(r.output.find("rules (profile 3.8)"), std::string::npos);
  Ran json = run_loopspec({"rules", "--format", "json", "--profile", "3.4.3"});
  EXPECT_EQ(json.status, 0) << json.output;
  EXPECT_EQ(nlohmann::json::parse(json.output).size(), testing::shipped_rules().for_profile("3.4.3").size());
}

TEST(Cli, BadArgumentsExitTwoWithAMessage) {
  Ran unknown_backend = run_loopspec({"run", "--backend", "no-such-loop", "--out", fs::temp_directory_path().string()});
  EXPECT_EQ(unknown_backend.status, 2);
  EXPECT_NE(unknown_backend.output.find("unknown backend 'no-such-loop'"), std::string::npos) << unknown_backend.output;
  Ran bad_profile = run_loopspec({"rules", "--profile", "9.9"});
  EXPECT_EQ(bad_profile.status, 2);
  EXPECT_NE(bad_profile.output.find("3.8 or 3.4.3"), std::string::npos) << bad_profile.output;
  Ran bad_fault = run_loopspec({"run", "--fault", "no-such-fault", "--out", fs::temp_directory_path().string()});
  EXPECT_EQ(bad_fault.status, 2);
  EXPECT_NE(bad_fault.output.find("no-such-fault"), std::string::npos) << bad_fault.output;
  Ran no_command = run_loopspec({});
  EXPECT_EQ(no_command.status, 2);
  Ran bad_timeout = run_loopspec({"run", "--wait-timeout", "-3"});
  EXPECT_EQ(bad_timeout.status, 2);
}

// Backend names and paths are arguments, never shell text: a name made of shell syntax is refused as a
// name, and an output directory with shell syntax in it is created under exactly that name.
TEST(Cli, BackendNamesAndPathsNeverReachAShell) {
  const fs::path marker = temp_file("marker-dir-probe", "").parent_path() / "shell-ran";
  fs::remove(marker);
  const std::string touch = "$(touch " + marker.string() + ")";
  Ran shell_name = run_loopspec({"run", "--backend", "python:" + touch + ";touch " + marker.string() + ":f",
                                 "--out", fs::temp_directory_path().string()});
  EXPECT_EQ(shell_name.status, 2) << shell_name.output;
  EXPECT_NE(shell_name.output.find("expected python:asyncio, python:uvloop or python:MODULE:CALLABLE"),
            std::string::npos) << shell_name.output;
  const fs::path out = marker.parent_path() / ("out " + touch + " `touch " + marker.string() + "`");
  Ran shell_path = run_loopspec({"run", "--backend", "reference", "--scenarios", "no-scenario-matches",
                                 "--out", out.string(), "--no-report", "--quiet"});
  EXPECT_EQ(shell_path.status, 0) << shell_path.output;
  EXPECT_TRUE(fs::exists(out / "results.json")) << out;
  EXPECT_FALSE(fs::exists(marker)) << "a shell ran the text of a name or a path";
}

TEST(Cli, CheckTraceReportsViolationsAndRejectsBadFiles) {
  const std::string header = R"({"trace":"loopspec","version":1,"backend":"x","scenario":"s","profile":"3.8"})";
  auto clean = temp_file("clean.jsonl", header + "\n" +
                                            R"({"seq":0,"conn":1,"kind":"callback","name":"connection_made","protocol":"Protocol","transport":"tcp"})" "\n"
                                            R"({"seq":1,"conn":1,"kind":"callback","name":"connection_lost"})" "\n"
                                            R"({"end":true,"complete":true})" "\n");
  Ran ok = run_loopspec({"check-trace", clean.string()});
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("0 violations"), std::string::npos) << ok.output;

  // Rule: proto.order.lost-last
  auto broken = temp_file("broken.jsonl", header + "\n" +
                                              R"({"seq":0,"conn":1,"kind":"callback","name":"connection_made","protocol":"Protocol","transport":"tcp"})" "\n"
                                              R"({"seq":1,"conn":1,"kind":"callback","name":"connection_lost"})" "\n"
                                              R"({"seq":2,"conn":1,"kind":"callback","name":"data_received","size":3})" "\n"
                                              R"({"end":true,"complete":true})" "\n");
  Ran bad = run_loopspec({"check-trace", broken.string()});
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_NE(bad.output.find("proto.order.lost-last"), std::string::npos) << bad.output;

  auto garbage = temp_file("garbage.jsonl", header + "\n{\"seq\":0,\"conn\":1,\"kind\":\"callback\"\n");
  Ran malformed = run_loopspec({"check-trace", garbage.string()});
  EXPECT_EQ(malformed.status, 2) << malformed.output;
  EXPECT_NE(malformed.output.find(garbage.string() + ":2"), std::string::npos) << malformed.output;
}

TEST(Cli, TracesWrittenByRunPassCheckTrace) {
  fs::path out = fs::temp_directory_path() / ("loopspec-cli-traces-" + std::to_string(::getpid()));
  Ran run = run_loopspec({"run", "--scenarios", "stream.lifecycle.*", "--traces", "--quiet", "--out", out.string()});
  EXPECT_EQ(run.status, 0) << run.output;
  std::vector<std::string> args{"check-trace"};
  for (const auto& entry : fs::directory_iterator(out / "traces")) args.push_back(entry.path().string());
  ASSERT_GE(args.size(), 7u) << "one trace per lifecycle scenario run";
  Ran check = run_loopspec(args);
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_NE(check.output.find(" 0 violations"), std::string::npos) << check.output;
  fs::remove_all(out);
}

TEST(Expectations, MalformedFilesNameFileLineAndField) {
  const auto& rules = testing::shipped_rules();
  auto unknown_rule = temp_file("e1.yaml", "backend: x\ndeviations:\n  - rule: no.such.rule\n    verdict: FAIL\n    reason: r\n");
  try {
    load_expectations(unknown_rule, rules);
    FAIL() << "accepted an unknown rule";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(unknown_rule.string() + ":3: field 'rule'"), std::string::npos) << e.what();
  }
  auto bad_verdict = temp_file("e2.yaml", "backend: x\ndeviations:\n  - rule: write.limits.defaults\n    verdict: MAYBE\n    reason: r\n");
  try {
    load_expectations(bad_verdict, rules);
    FAIL() << "accepted verdict MAYBE";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(":4: field 'verdict'"), std::string::npos) << e.what();
  }
  auto unknown_field = temp_file("e3.yaml", "backend: x\ncolour: red\n");
  EXPECT_THROW(load_expectations(unknown_field, rules), std::runtime_error);
  auto good = temp_file("e4.yaml", "backend: x\ndeviations:\n  - rule: write.limits.defaults\n    verdict: INFO\n    reason: r\n");
  EXPECT_EQ(load_expectations(good, rules).deviations.size(), 1u);
  auto bad_racy = temp_file("e5.yaml", "backend: x\ndeviations:\n  - rule: write.limits.defaults\n    verdict: FAIL\n    reason: r\n    racy: sometimes\n");
  try {
    load_expectations(bad_racy, rules);
    FAIL() << "accepted racy: sometimes";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(":6: field 'racy'"), std::string::npos) << e.what();
  }
}

TEST(Expectations, ARacyDeviationAcceptsPassAndItsVerdictOnly) {
  auto file = temp_file("e6.yaml", "backend: x\ndeviations:\n  - rule: write.limits.defaults\n    verdict: FAIL\n    reason: r\n    racy: true\n");
  auto loaded = load_expectations(file, testing::shipped_rules());
  ASSERT_EQ(loaded.deviations.size(), 1u);
  const Expectation& racy = loaded.deviations[0];
  EXPECT_TRUE(racy.accepts(Verdict::Fail));
  EXPECT_TRUE(racy.accepts(Verdict::Pass));
  EXPECT_FALSE(racy.accepts(Verdict::Error));
  Expectation steady = racy;
  steady.racy = false;
  EXPECT_FALSE(steady.accepts(Verdict::Pass));
}

TEST(Results, RoundTripAndErrorsNameTheField) {
  RunResults r;
  r.loopspec_version = "1";
  r.backend.name = "b";
  r.profile = "3.8";
  r.rules.push_back(RuleOutcome{"a.b", "t", "MUST", "s", Verdict::Fail, false, std::nullopt, {"x[tcp]"}, "m"});
  ScenarioOutcome s{"x", "tcp", "t", {"a.b"}, Verdict::Fail};
  s.checks.push_back(CheckOutcome{"a.b", Verdict::Fail, "checker", "msg", 7});
  r.scenarios.push_back(s);
  auto j = to_json(r);
  RunResults back = results_from_json(j, "mem");
  EXPECT_EQ(to_json(back), j);

  auto broken = j;
  broken["rules"][0]["verdict"] = "SOMETIMES";
  try {
    results_from_json(broken, "f.json");
    FAIL();
  } catch (const ResultsError& e) {
    EXPECT_NE(std::string(e.what()).find("f.json: field '/rules/0/verdict'"), std::string::npos) << e.what();
  }
  auto foreign = nlohmann::json{{"format", "something-else"}};
  EXPECT_THROW(results_from_json(foreign, "g.json"), ResultsError);
  auto wrong_type = j;
  wrong_type["scenarios"][0]["checks"] = "not a list";
  try {
    results_from_json(wrong_type, "h.json");
    FAIL();
  } catch (const ResultsError& e) {
    EXPECT_NE(std::string(e.what()).find("field '/scenarios/0/checks'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace loopspec
