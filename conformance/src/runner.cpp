#include "loopspec/conformance/runner.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>

#include "loopspec/checker.hpp"
#include "loopspec/conformance/context.hpp"
#include "loopspec/conformance/interruption.hpp"

namespace loopspec {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

bool glob_match(const std::string& pattern, const std::string& text) {
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

json trace_window(const Trace& trace, std::optional<std::uint64_t> focus, std::size_t max_events) {
  std::size_t n = trace.events.size();
  std::size_t begin = 0;
  std::size_t end = n;
  if (n > max_events) {
    std::size_t center = focus ? static_cast<std::size_t>(*focus) : n;
    begin = center > max_events / 2 ? center - max_events / 2 : 0;
    begin = std::min(begin, n - max_events);
    end = begin + max_events;
  }
  json events = json::array();
  for (std::size_t i = begin; i < end; ++i) events.push_back(to_json(trace.events[i]));
  return json{{"header", to_json(trace.header)},
              {"events", std::move(events)},
              {"complete", trace.complete},
              {"first_event", begin},
              {"omitted", n - (end - begin)}};
}

// Runs in the scenario's own process; everything it learns goes into one JSON object.
json run_in_child(Backend& backend, const RuleCatalogue& rules, const ScenarioSpec& spec, ScenarioSettings settings,
                  std::size_t max_trace_events, const std::filesystem::path& trace_file) {
  Trace trace;
  Checker checker(settings.profile);
  std::vector<TraceSink*> sinks{&trace, &checker};
  std::ofstream trace_out;
  std::optional<TraceWriter> writer;
  if (!trace_file.empty()) {
    trace_out.open(trace_file);
    if (trace_out) sinks.push_back(&writer.emplace(trace_out));
  }
  TraceFanout tee(std::move(sinks));
  tee.on_header(TraceHeader{kTraceFormatVersion, backend.info().name, spec.id + "[" + settings.variant + "]",
                            settings.profile});
  json out = json::object();
  json checks = json::array();
  bool complete = false;
  try {
    ScenarioContext ctx(backend, rules, spec, settings, tee);
    try {
      spec.body(ctx);
      complete = true;
    } catch (const ScenarioAbort& e) {
      out["error"] = e.what();
    }
    for (const auto& c : ctx.checks()) checks.push_back(json{{"rule", c.rule}, {"held", c.held}, {"message", c.message}});
  } catch (const std::exception& e) {
    out["error"] = std::string("exception: ") + e.what();
  }
  tee.on_end(complete);
  out["checks"] = std::move(checks);
  json violations = json::array();
  std::optional<std::uint64_t> first;
  for (const auto& v : checker.violations()) {
    if (!first) first = v.seq;
    violations.push_back(json{{"rule", v.rule}, {"seq", v.seq}, {"message", v.message()}});
  }
  out["violations"] = std::move(violations);
  out["trace"] = trace_window(trace, first, max_trace_events);
  return out;
}

void write_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

struct ChildRun {
  std::string output;
  std::string stderr_tail;
  bool timed_out = false;
  bool interrupted = false;  // stopped by SIGINT/SIGTERM to the runner: not a result at all
  int status = 0;
};

// Kills the process group of a scenario and reaps every member that is ours to
// reap: the runner is a child subreaper (run_suite), so what the scenario
// started (a driver, a subprocess) becomes the runner's child when the
// scenario's process dies, and nothing outlives the scenario.
void kill_and_reap_group(pid_t group) {
  ::kill(-group, SIGKILL);
  for (;;) {
    pid_t reaped = ::waitpid(-group, nullptr, 0);
    if (reaped > 0 || (reaped < 0 && errno == EINTR)) continue;
    return;  // ECHILD: none left
  }
}

ChildRun run_isolated(const std::function<std::string()>& body, Duration timeout) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  std::fflush(nullptr);  // the child must not flush the parent's buffers again
  const pid_t runner = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);  // so a timeout kills everything the scenario started
    // The runner decides about interruptions; a runner killed outright takes its scenario along.
    forget_interruption_handlers();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != runner) ::_exit(1);
    ::close(out[0]);
    ::close(err[0]);
    ::dup2(err[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    std::string result = body();
    write_all(out[1], result);
    std::fflush(nullptr);
    ::_exit(0);
  }
  ::setpgid(pid, pid);
  ::close(out[1]);
  ::close(err[1]);
  ChildRun run;
  const std::size_t kTail = 8192;
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  // SIGINT/SIGTERM stay blocked but inside ppoll, so one never lands between the check and the wait.
  sigset_t interrupting;
  sigset_t previous;
  sigemptyset(&interrupting);
  sigaddset(&interrupting, SIGINT);
  sigaddset(&interrupting, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &interrupting, &previous);
  sigset_t while_waiting = previous;
  sigdelset(&while_waiting, SIGINT);
  sigdelset(&while_waiting, SIGTERM);
  while (open_fds > 0) {
    if (interruption_signal() != 0) {
      run.interrupted = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      run.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      break;
    }
    timespec wait{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
    int r = ::ppoll(fds, 2, &wait, &while_waiting);
    if (r < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      if (i == 0) {
        run.output.append(buf, static_cast<std::size_t>(n));
      } else {
        run.stderr_tail.append(buf, static_cast<std::size_t>(n));
        if (run.stderr_tail.size() > 2 * kTail) run.stderr_tail.erase(0, run.stderr_tail.size() - kTail);
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  while (::waitpid(pid, &run.status, 0) < 0 && errno == EINTR) {
  }
  kill_and_reap_group(pid);  // anything the scenario left behind
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (run.stderr_tail.size() > kTail) run.stderr_tail.erase(0, run.stderr_tail.size() - kTail);
  return run;
}

std::string describe_exit(const ChildRun& run, Duration timeout) {
  if (run.timed_out) return "scenario timed out after " + std::to_string(static_cast<int>(timeout.count())) + " s";
  if (WIFSIGNALED(run.status)) {
    return std::string("scenario process killed by signal ") + std::to_string(WTERMSIG(run.status)) + " (" +
           ::strsignal(WTERMSIG(run.status)) + ")";
  }
  if (WIFEXITED(run.status) && WEXITSTATUS(run.status) != 0) {
    return "scenario process exited with status " + std::to_string(WEXITSTATUS(run.status));
  }
  return "scenario process produced no result";
}

Verdict level_verdict(const RuleCatalogue& rules, const std::string& id, bool held) {
  const Rule* r = rules.find(id);
  if (r == nullptr) return Verdict::Error;
  return held ? verdict_for_held(r->level) : verdict_for_broken(r->level);
}

ScenarioOutcome fold_child(const RuleCatalogue& rules, const ScenarioSpec& spec, const std::string& variant,
                           const ChildRun& run, Duration timeout) {
  ScenarioOutcome o;
  o.id = spec.id;
  o.variant = variant;
  o.title = spec.title;
  o.rules = spec.rules;
  o.stderr_tail = run.stderr_tail;
  json report;
  if (!run.timed_out && !run.output.empty()) {
    report = json::parse(run.output, nullptr, false);
  }
  if (!report.is_object()) {
    o.verdict = Verdict::Error;
    o.error = describe_exit(run, timeout);
    return o;
  }
  for (const auto& c : report.value("checks", json::array())) {
    std::string rule = c.value("rule", "");
    bool held = c.value("held", false);
    o.checks.push_back(CheckOutcome{rule, level_verdict(rules, rule, held), "scenario", c.value("message", ""), {}});
  }
  for (const auto& v : report.value("violations", json::array())) {
    std::string rule = v.value("rule", "");
    o.checks.push_back(CheckOutcome{rule, level_verdict(rules, rule, false), "checker", v.value("message", ""),
                                    v.value("seq", std::uint64_t{0})});
  }
  o.error = report.value("error", "");
  o.verdict = o.error.empty() ? Verdict::Pass : Verdict::Error;
  for (const auto& c : o.checks) o.verdict = worse(o.verdict, c.verdict == Verdict::Info ? Verdict::Pass : c.verdict);
  o.trace = report.value("trace", json());
  return o;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

json host_description() {
  utsname u{};
  ::uname(&u);
  return json{{"os", u.sysname}, {"kernel", u.release}, {"machine", u.machine},
#if defined(__clang__)
              {"compiler", std::string("clang ") + __clang_version__}
#else
              {"compiler", std::string("gcc ") + __VERSION__}
#endif
  };
}

}  // namespace

std::vector<std::string> transports_covered(const BackendInfo& info) {
  std::vector<std::string> kinds;
  if (info.has(capability::kTcp)) kinds.push_back("tcp");
  if (info.has(capability::kUnix)) kinds.push_back("unix");
  if (info.has(capability::kTls)) kinds.push_back("tls");
  if (info.has(capability::kUdp)) kinds.push_back("udp");
  if (info.has(capability::kPipes)) kinds.insert(kinds.end(), {"read-pipe", "write-pipe"});
  if (info.has(capability::kSubprocess)) kinds.push_back("subprocess");
  return kinds;
}

RunResults run_suite(const RunOptions& options, const RuleCatalogue& rules, const std::vector<ScenarioSpec>& scenarios,
                     const ProgressCallback& progress) {
  auto started = Clock::now();
  // Orphans of a scenario (its driver, its subprocesses) become ours, to kill and reap.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  BackendOptions backend_options = options.backend_options;
  backend_options.profile = options.profile;
  auto backend = BackendRegistry::instance().create(options.backend, backend_options);
  const BackendInfo& info = backend->info();

  RunResults results;
  results.loopspec_version = LOOPSPEC_VERSION;
  results.loopspec_revision = LOOPSPEC_REVISION;
  results.backend = BackendDescription{info.name, info.implementation, info.version,
                                       {info.capabilities.begin(), info.capabilities.end()},
                                       options.backend_options.fault};
  results.profile = options.profile;
  results.started = utc_now();
  results.host = host_description();

  auto rule_selected = [&](const std::string& id) {
    const Rule* r = rules.find(id);
    return r != nullptr && r->holds_for(options.profile) && glob_match(options.rules_glob, id);
  };

  struct Job {
    const ScenarioSpec* spec;
    std::string variant;
  };
  std::vector<Job> jobs;
  for (const auto& spec : scenarios) {
    if (!glob_match(options.scenarios_glob, spec.id)) continue;
    if (std::none_of(spec.rules.begin(), spec.rules.end(), rule_selected)) continue;
    for (const auto& variant : spec.variants) jobs.push_back(Job{&spec, variant});
  }

  if (!options.trace_dir.empty()) std::filesystem::create_directories(options.trace_dir);
  char temp_template[] = "/tmp/loopspec-XXXXXX";
  if (::mkdtemp(temp_template) == nullptr) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  std::filesystem::path temp_root = temp_template;

  std::size_t index = 0;
  for (const auto& job : jobs) {
    if (interruption_signal() != 0) break;
    ++index;
    ScenarioOutcome outcome;
    auto caps = capabilities_for(job.variant);
    bool supported = std::all_of(caps.begin(), caps.end(), [&](const std::string& c) { return info.has(c); });
    if (!supported) {
      outcome.id = job.spec->id;
      outcome.variant = job.variant;
      outcome.title = job.spec->title;
      outcome.rules = job.spec->rules;
      outcome.verdict = Verdict::Unsupported;
    } else {
      ScenarioSettings settings;
      settings.variant = job.variant;
      settings.profile = options.profile;
      // A backend that pays per callback (a driver process) stretches the timeouts, which guard
      // against hangs only (BackendInfo::timeout_scale).
      settings.wait_timeout = options.wait_timeout * info.timeout_scale;
      const Duration scenario_timeout = options.scenario_timeout * info.timeout_scale;
      settings.temp_dir = temp_root / std::to_string(index);
      std::filesystem::create_directories(settings.temp_dir);
      auto t0 = Clock::now();
      ChildRun run = run_isolated(
          [&] {
            std::filesystem::path trace_file;
            if (!options.trace_dir.empty()) {
              trace_file = options.trace_dir / (job.spec->id + "[" + job.variant + "].jsonl");
            }
            return run_in_child(*backend, rules, *job.spec, settings, options.max_trace_events, trace_file)
                .dump(-1, ' ', false, json::error_handler_t::replace);
          },
          scenario_timeout);
      if (run.interrupted) break;
      outcome = fold_child(rules, *job.spec, job.variant, run, scenario_timeout);
      outcome.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (outcome.verdict == Verdict::Pass) outcome.trace = nullptr;  // keep traces of what needs looking at
    }
    if (progress) progress(index, jobs.size(), outcome);
    results.scenarios.push_back(std::move(outcome));
  }
  std::error_code ignored;
  std::filesystem::remove_all(temp_root, ignored);
  results.interrupted = interruption_signal() != 0;

  // Fold every check into its rule.
  auto covered = transports_covered(info);
  for (const Rule* rule : rules.for_profile(options.profile)) {
    if (!glob_match(options.rules_glob, rule->id)) continue;
    RuleOutcome ro{rule->id, rule->title, std::string(to_string(rule->level)), rule->section};
    bool exercised = false;
    bool any_unsupported = false;
    for (const auto& s : results.scenarios) {
      bool declares = std::find(s.rules.begin(), s.rules.end(), rule->id) != s.rules.end();
      bool checked = false;
      for (const auto& c : s.checks) {
        if (c.rule != rule->id) continue;
        checked = true;
        ro.verdict = exercised ? worse(ro.verdict, c.verdict) : c.verdict;
        exercised = true;
        if (ro.message.empty() && c.verdict != Verdict::Pass && c.verdict != Verdict::Info) {
          ro.message = s.key() + ": " + c.message;
        }
      }
      if (declares && s.verdict == Verdict::Unsupported) any_unsupported = true;
      // A scenario that ran to its end exercised every rule it declares: the
      // checker watched its trace even where the body checked nothing itself.
      if (declares && !checked && s.verdict != Verdict::Unsupported && s.verdict != Verdict::Error && s.error.empty()) {
        Verdict held = verdict_for_held(rule->level);
        ro.verdict = exercised ? worse(ro.verdict, held) : held;
        exercised = true;
      }
      if (declares && s.verdict == Verdict::Error && !checked) {
        ro.verdict = exercised ? worse(ro.verdict, Verdict::Error) : Verdict::Error;
        exercised = true;
        if (ro.message.empty()) ro.message = s.key() + ": " + s.error;
      }
      if ((declares && s.verdict != Verdict::Unsupported) || checked) ro.scenarios.push_back(s.key());
    }
    if (!exercised) {
      bool kind_covered = std::any_of(rule->transports.begin(), rule->transports.end(), [&](const std::string& t) {
        return std::find(covered.begin(), covered.end(), t) != covered.end();
      });
      ro.verdict = (any_unsupported || !kind_covered) ? Verdict::Unsupported : Verdict::Untested;
    }
    const Expectation* expectation = options.expectations ? options.expectations->find(rule->id) : nullptr;
    if (expectation != nullptr) {
      ro.expectation = *expectation;
      ro.expected = expectation->accepts(ro.verdict);
    } else {
      ro.expected = ro.verdict != Verdict::Fail && ro.verdict != Verdict::Error && ro.verdict != Verdict::NonStrict;
    }
    results.rules.push_back(std::move(ro));
  }
  results.duration_s = std::chrono::duration<double>(Clock::now() - started).count();
  return results;
}

}  // namespace loopspec
