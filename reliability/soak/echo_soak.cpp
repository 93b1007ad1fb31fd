// echo_soak: many connections echoing messages for a while through one
// in-process backend, with exact accounting.
//
//   echo_soak --backend reference [--connections 10000] [--seconds 60]
//             [--message-bytes 1024] [--max-rss-growth 5] [--json FILE]
//             [--fault NAME]
//
// The loop under test serves (echo_server.hpp) in this process; the load
// (echo_client.hpp) runs in a child process of its own, so each side has a
// whole RLIMIT_NOFILE for its descriptors. What the client sent and got back
// is compared per connection, by port, with what the server received:
// byte counts and digests must all agree, every echo must match its message
// byte for byte, every connection must end with the server's end of file
// after the client's, and each served connection must see connection_made,
// eof_received and connection_lost(None) once, no empty data_received and
// nothing after connection_lost. The
// server's resident size is sampled every 0.25 s; its growth from the
// warmed-up baseline (2 s, or a tenth of the run if shorter, after all
// connections were made) to the peak must stay under --max-rss-growth %.
//
// --fault switches on one of the backend's test-only deviations, to see the
// accounting catch it. Prints a summary, writes the figures as JSON with --json, and exits 0
// when every check held, 1 when one did not, 2 on bad arguments.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "echo_client.hpp"
#include "echo_server.hpp"
#include "loopspec/backend.hpp"
#include "loopspec/conformance/builtin_backends.hpp"
#include "loopspec/protocols.hpp"
#include "loopspec/transports.hpp"

namespace loopspec::reliability {
namespace {

constexpr std::size_t kDescriptorsSpare = 64;  // beyond the connections: the loop's own, pipes, stdio

struct Settings {
  std::string backend;
  std::size_t connections = 10000;
  double seconds = 60;
  std::size_t message_bytes = 1024;
  double max_rss_growth_percent = 5;
  std::string json_path;
  std::string fault;
};

long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double cpu_seconds(const rusage& usage) {
  auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double self_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return cpu_seconds(usage);
}

// The soft descriptor limit raised to the hard one; how many connections one side can hold.
std::size_t connections_allowed() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur > kDescriptorsSpare ? static_cast<std::size_t>(limit.rlim_cur) - kDescriptorsSpare : 0;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The child: waits for the server's port, runs the load, writes its report as JSON and exits.
[[noreturn]] void run_client_process(int port_fd, int report_fd, const EchoClientOptions& base) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::string port_text;
  char c;
  while (::read(port_fd, &c, 1) == 1 && c != '\n') port_text += c;
  nlohmann::json report;
  try {
    EchoClientOptions options = base;
    options.port = static_cast<std::uint16_t>(std::stoi(port_text));
    report = to_json(run_echo_client(options));
  } catch (const std::exception& e) {
    report = {{"error", e.what()}};
  }
  bool written = write_all(report_fd, report.dump());
  ::_exit(written && !report.contains("error") ? 0 : 1);
}

// Collects what the client process writes on its report pipe.
class ReportReader final : public Protocol {
 public:
  explicit ReportReader(std::function<void()> on_end) : on_end_(std::move(on_end)) {}
  std::string text;
  bool ended = false;
  MaybeError error;

  void data_received(std::string_view data) override {
    if (text.size() + data.size() > kMaxReport) {
      error = Error{"ValueError", 0, "client report over 256 MiB"};
      return;
    }
    text.append(data);
  }
  void connection_lost(const MaybeError& exc) override {
    ended = true;
    if (!error) error = exc;
    on_end_();
  }

 private:
  static constexpr std::size_t kMaxReport = 256u << 20;
  std::function<void()> on_end_;
};

struct Check {
  std::vector<std::string> failures;
  std::size_t failed_connections = 0;
  void fail(std::string what) {
    if (failures.size() < 20) failures.push_back(std::move(what));
  }
};

// Every connection's accounting, both sides.
void compare(const EchoClientReport& client, const EchoServer& server, Check& check) {
  std::map<std::uint16_t, const EchoServedConnection*> served;
  for (const auto& s : server.connections()) {
    if (!served.emplace(s->peer_port, s.get()).second) check.fail(fmt::format("two served connections from port {}", s->peer_port));
  }
  for (const auto& c : client.connections) {
    std::vector<std::string> wrong;
    auto it = served.find(c.local_port);
    if (it == served.end()) {
      wrong.push_back("the server has no connection from this port");
    } else {
      const EchoServedConnection& s = *it->second;
      if (s.received_bytes != c.sent_bytes || s.received_digest.value() != c.sent_digest) {
        wrong.push_back(fmt::format("sent {} bytes (digest {:016x}), the server received {} (digest {:016x})",
                                    c.sent_bytes, c.sent_digest, s.received_bytes, s.received_digest.value()));
      }
      if (s.made != 1 || s.eofs != 1 || s.lost != 1 || s.after_lost != 0 || s.empty_data != 0) {
        wrong.push_back(fmt::format("server callbacks: connection_made {}, eof_received {}, connection_lost {}, "
                                    "{} after connection_lost, {} empty data_received",
                                    s.made, s.eofs, s.lost, s.after_lost, s.empty_data));
      }
      if (s.lost_error) wrong.push_back("connection_lost(" + s.lost_error->to_string() + ") after a clean end");
      served.erase(it);
    }
    if (c.echoed_bytes != c.sent_bytes || c.echoed_digest != c.sent_digest) {
      wrong.push_back(fmt::format("sent {} bytes (digest {:016x}), {} echoed (digest {:016x})", c.sent_bytes,
                                  c.sent_digest, c.echoed_bytes, c.echoed_digest));
    }
    if (c.mismatched_bytes != 0) wrong.push_back(fmt::format("{} echoed bytes differ from those sent", c.mismatched_bytes));
    if (c.unexpected_bytes != 0) wrong.push_back(fmt::format("{} bytes echoed that were never sent", c.unexpected_bytes));
    if (!c.finished) wrong.push_back("no end of file from the server after the client's");
    if (!c.error.empty()) wrong.push_back(c.error);
    if (!wrong.empty()) {
      ++check.failed_connections;
      std::string joined;
      for (const auto& w : wrong) joined += (joined.empty() ? "" : "; ") + w;
      check.fail(fmt::format("connection from port {}: {}", c.local_port, joined));
    }
  }
  for (const auto& [port, s] : served) check.fail(fmt::format("served connection from port {} the client never reported", port));
}

int run(const Settings& settings) {
  const std::size_t allowed = connections_allowed();
  const std::size_t connections = std::min(settings.connections, allowed);
  int port_pipe[2], report_pipe[2];
  if (::pipe2(port_pipe, O_CLOEXEC) != 0 || ::pipe2(report_pipe, O_CLOEXEC) != 0) {
    std::cerr << "echo_soak: pipe: " << std::strerror(errno) << "\n";
    return 1;
  }
  EchoClientOptions client_options;
  client_options.connections = connections;
  client_options.seconds = settings.seconds;
  client_options.message_bytes = settings.message_bytes;
  // Forked before any loop or thread exists.
  const pid_t child = ::fork();
  if (child < 0) {
    std::cerr << "echo_soak: fork: " << std::strerror(errno) << "\n";
    return 1;
  }
  if (child == 0) {
    ::close(port_pipe[1]);
    ::close(report_pipe[0]);
    run_client_process(port_pipe[0], report_pipe[1], client_options);
  }
  ::close(port_pipe[0]);
  ::close(report_pipe[1]);

  register_builtin_backends(BackendRegistry::instance());
  auto backend = BackendRegistry::instance().create(settings.backend, BackendOptions{settings.fault});
  auto loop = backend->make_loop();

  std::function<bool()> done;
  auto wake = [&] {
    if (done && done()) loop->stop();
  };
  auto run_until = [&](std::function<bool()> condition, double timeout) {
    done = std::move(condition);
    bool timed_out = false;
    auto guard = loop->call_later(Duration(timeout), [&] {
      timed_out = true;
      loop->stop();
    });
    if (!done()) loop->run_forever();
    guard->cancel();
    bool held = done();
    done = nullptr;
    return held && !timed_out;
  };

  EchoServer server(wake);
  std::optional<Outcome<Server>> served;
  ServerOptions options;
  options.backlog = 4096;
  loop->create_server(server.factory(), InetAddress{"127.0.0.1", 0}, options, [&](Outcome<Server> o) {
    served = std::move(o);
    wake();
  });
  if (!run_until([&] { return served.has_value(); }, 30) || !served->ok()) {
    std::cerr << "echo_soak: create_server failed" << (served && served->error ? ": " + served->error->to_string() : "") << "\n";
    ::kill(child, SIGKILL);
    return 1;
  }
  const InetAddress address = std::get<InetAddress>(served->value->addresses().front());

  auto reader = std::make_shared<ReportReader>(wake);
  std::optional<Outcome<ReadTransport>> reading;
  loop->connect_read_pipe([reader] { return reader; }, report_pipe[0], [&](Outcome<ReadTransport> o) {
    reading = std::move(o);
    wake();
  });

  // Resident size: the baseline once warmed up, then the peak until the first connection ends.
  const double warmup = std::min(2.0, settings.seconds / 10);
  std::optional<Duration> all_made_at;
  long baseline_kib = -1, peak_kib = -1, start_kib = resident_kib();
  double cpu_at_baseline = 0;
  std::shared_ptr<TimerHandle> sampler;
  std::function<void()> sample = [&] {
    if (server.lost() == 0) {
      if (!all_made_at && server.made() >= connections) all_made_at = loop->time();
      if (all_made_at && loop->time() - *all_made_at >= Duration(warmup)) {
        long now = resident_kib();
        if (baseline_kib < 0) {
          baseline_kib = now;
          cpu_at_baseline = self_cpu_seconds();
        }
        peak_kib = std::max(peak_kib, now);
      }
    }
    sampler = loop->call_later(Duration(0.25), sample);
  };
  sample();
  if (!write_all(port_pipe[1], std::to_string(address.port) + "\n")) {
    std::cerr << "echo_soak: the client process is gone before it started\n";
    return 1;
  }
  ::close(port_pipe[1]);

  const double cpu_before = self_cpu_seconds();
  const double limit = 120 + settings.seconds + client_options.grace_seconds;
  const bool finished =
      run_until([&] { return reader->ended && server.made() == server.lost(); }, limit);
  const double server_cpu = self_cpu_seconds() - cpu_before;
  sampler->cancel();
  if (!finished) ::kill(child, SIGKILL);
  int status = 0;
  rusage child_usage{};
  ::wait4(child, &status, 0, &child_usage);

  Check check;
  EchoClientReport client;
  if (!finished) check.fail(fmt::format("not finished within {} s: {} connections made, {} lost, client report {}",
                                        limit, server.made(), server.lost(), reader->ended ? "in" : "not in"));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    check.fail(WIFSIGNALED(status) ? fmt::format("the client process was killed by signal {}", WTERMSIG(status))
                                   : fmt::format("the client process exited with {}", WEXITSTATUS(status)));
  }
  try {
    auto json = nlohmann::json::parse(reader->text);
    if (json.contains("error")) throw std::runtime_error("client: " + json["error"].dump());
    client = echo_client_report_from_json(json);
    compare(client, server, check);
  } catch (const std::exception& e) {
    check.fail(std::string("client report: ") + e.what());
  }
  if (client.connect_failures > 0) {
    check.fail(fmt::format("{} connects failed (first: {})", client.connect_failures, client.first_connect_error));
  }

  std::uint64_t messages = 0, bytes = 0;
  for (const auto& c : client.connections) messages += c.messages, bytes += c.sent_bytes;
  const double growth = baseline_kib > 0 ? 100.0 * static_cast<double>(peak_kib - baseline_kib) / static_cast<double>(baseline_kib) : 0;
  if (baseline_kib < 0) check.fail("no resident-size baseline: the run ended before it warmed up");
  if (growth >= settings.max_rss_growth_percent) {
    check.fail(fmt::format("resident size grew {:.2f}% ({} KiB to {} KiB), limit {}%", growth, baseline_kib, peak_kib,
                           settings.max_rss_growth_percent));
  }
  const double load_seconds = client.load_seconds > 0 ? client.load_seconds : settings.seconds;
  nlohmann::json figures = {
      {"backend", settings.backend},
      {"fault", settings.fault},
      {"connections_requested", settings.connections},
      {"connections", client.connections.size()},
      {"descriptor_limit_connections", allowed},
      {"seconds", settings.seconds},
      {"message_bytes", settings.message_bytes},
      {"messages", messages},
      {"messages_per_s", static_cast<double>(messages) / load_seconds},
      {"bytes_each_way", bytes},
      {"connect_seconds", client.connect_seconds},
      {"load_seconds", client.load_seconds},
      {"failed_connections", check.failed_connections},
      {"rss_start_kib", start_kib},
      {"rss_baseline_kib", baseline_kib},
      {"rss_peak_kib", peak_kib},
      {"rss_growth_percent", growth},
      {"server_cpu_seconds", server_cpu},
      {"server_cpu_seconds_after_baseline", baseline_kib > 0 ? self_cpu_seconds() - cpu_at_baseline : 0.0},
      {"client_cpu_seconds", cpu_seconds(child_usage)},
      {"passed", check.failures.empty()},
      {"failures", check.failures},
  };
  std::cout << fmt::format(
      "echo_soak {}: {} connections x {} s, {} B messages: {} round trips ({:.0f}/s), {} bytes each way; "
      "{} connections wrong; RSS {} KiB -> peak {} KiB ({:+.2f}%); server CPU {:.1f} s, client CPU {:.1f} s\n",
      settings.backend, client.connections.size(), settings.seconds, settings.message_bytes, messages,
      static_cast<double>(messages) / load_seconds, bytes, check.failed_connections, baseline_kib, peak_kib, growth,
      server_cpu, cpu_seconds(child_usage));
  for (const auto& f : check.failures) std::cout << "  FAIL " << f << "\n";
  if (!settings.json_path.empty()) {
    std::ofstream out(settings.json_path);
    out << figures.dump(2) << "\n";
    if (!out) {
      std::cerr << "echo_soak: cannot write " << settings.json_path << "\n";
      return 1;
    }
  }
  return check.failures.empty() ? 0 : 1;
}

}  // namespace
}  // namespace loopspec::reliability

int main(int argc, char** argv) {
  using namespace loopspec::reliability;
  Settings settings;
  CLI::App app{"echo_soak: many connections echoing through one in-process backend, with exact accounting"};
  app.add_option("--backend", settings.backend, "in-process backend of the builtin registry (reference, libuv, asio)")
      ->required();
  app.add_option("--connections", settings.connections, "concurrent connections")->check(CLI::Range(1, 1000000));
  app.add_option("--seconds", settings.seconds, "how long each connection echoes")->check(CLI::Range(0.1, 86400.0));
  app.add_option("--message-bytes", settings.message_bytes, "size of each message")->check(CLI::Range(1, 1 << 24));
  app.add_option("--max-rss-growth", settings.max_rss_growth_percent, "resident-size growth limit, %")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--json", settings.json_path, "write the figures here");
  app.add_option("--fault", settings.fault, "a test-only deviation of the backend (loopspec backends lists them)");
  CLI11_PARSE(app, argc, argv);
  loopspec::register_builtin_backends(loopspec::BackendRegistry::instance());
  const auto names = loopspec::BackendRegistry::instance().names();
  if (settings.backend.find(':') != std::string::npos ||
      std::find(names.begin(), names.end(), settings.backend) == names.end()) {
    std::string known;
    for (const auto& n : names) {
      if (n.find(':') == std::string::npos) known += " " + n;
    }
    std::cerr << "echo_soak: --backend " << settings.backend << " is not an in-process backend of this build; known:"
              << known << "\n";
    return 2;
  }
  try {
    loopspec::BackendRegistry::instance().create(settings.backend, loopspec::BackendOptions{settings.fault});
  } catch (const std::exception& e) {
    std::cerr << "echo_soak: --fault " << settings.fault << ": " << e.what() << "\n";
    return 2;
  }
  return run(settings);
}
