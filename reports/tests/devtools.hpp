// Headless Chromium driven through the DevTools protocol over a pipe, for
// the report's browser test: open a page in a tab, evaluate expressions in
// it, take screenshots, measure the CPU time its renderer used, see
// whether it opened a JavaScript dialog.
//
// With --remote-debugging-pipe the browser reads protocol messages (JSON,
// each ended by a NUL byte) from its descriptor 3 and writes its own to
// descriptor 4. Every wait has a deadline, so a stuck browser fails the
// test with a message instead of hanging it; the destructor closes the
// browser and kills it if it does not go. Harness machinery.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "process.hpp"

namespace loopspec::reports::testing {

class DevToolsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Chromium {
 public:
  // The browser's program, or "" when none is installed.
  static std::string find() { return find_program({"chromium", "chromium-browser", "google-chrome"}); }

  Chromium(const std::string& program, const std::filesystem::path& profile) {
    ::signal(SIGPIPE, SIG_IGN);  // a browser that went away is an error to report, not a signal that kills the test
    int to_browser[2], from_browser[2];
    if (::pipe2(to_browser, O_CLOEXEC) != 0 || ::pipe2(from_browser, O_CLOEXEC) != 0) throw DevToolsError("pipe failed");
    // Out of the way of 3 and 4, where the child wants them.
    to_browser_ = ::fcntl(to_browser[1], F_DUPFD_CLOEXEC, 10);
    from_browser_ = ::fcntl(from_browser[0], F_DUPFD_CLOEXEC, 10);
    int child_in = ::fcntl(to_browser[0], F_DUPFD_CLOEXEC, 10);
    int child_out = ::fcntl(from_browser[1], F_DUPFD_CLOEXEC, 10);
    for (int fd : {to_browser[0], to_browser[1], from_browser[0], from_browser[1]}) ::close(fd);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, child_in, 3);
    posix_spawn_file_actions_adddup2(&actions, child_out, 4);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<std::string> args{program, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                  "--hide-scrollbars", "--remote-debugging-pipe", "--user-data-dir=" + profile.string(),
                                  "about:blank"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int spawned = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(child_in);
    ::close(child_out);
    if (spawned != 0) {
      pid_ = -1;
      throw DevToolsError("cannot start " + program);
    }
  }

  ~Chromium() {
    if (pid_ > 0) {
      try {
        send("Browser.close", nlohmann::json::object(), "");
      } catch (const std::exception&) {
      }
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      int status = 0;
      while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        ::poll(nullptr, 0, 20);  // the browser's exit has no descriptor to wait on
      }
    }
    ::close(to_browser_);
    ::close(from_browser_);
  }

  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // Opens url in a new tab of width x height and waits for its load event;
  // with scripts false, the page's own scripts do not run (expressions
  // evaluated through the protocol still do).
  void open(const std::string& url, int width, int height, bool scripts = true) {
    if (!session_.empty()) call("Target.closeTarget", {{"targetId", target_}}, "");
    events_.clear();
    target_ = call("Target.createTarget", {{"url", "about:blank"}}, "")["targetId"];
    session_ = call("Target.attachToTarget", {{"targetId", target_}, {"flatten", true}}, "")["sessionId"];
    call("Page.enable");
    call("Performance.enable");
    call("Emulation.setDeviceMetricsOverride",
         {{"width", width}, {"height", height}, {"deviceScaleFactor", 1}, {"mobile", false}});
    if (!scripts) call("Emulation.setScriptExecutionDisabled", {{"value", true}});
    call("Page.navigate", {{"url", url}});
    wait_for_event("Page.loadEventFired");
  }

  // The value of a JavaScript expression in the open page.
  nlohmann::json evaluate(const std::string& expression) {
    auto result = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
    if (result.contains("exceptionDetails")) throw DevToolsError("script failed: " + result["exceptionDetails"].dump());
    return result["result"].value("value", nlohmann::json());
  }

  void screenshot(const std::filesystem::path& png) {
    auto data = call("Page.captureScreenshot", {{"format", "png"}})["data"].get<std::string>();
    std::ofstream(png, std::ios::binary) << base64_decode(data);
  }

  // The CPU time (user and system, seconds) the main thread of each of the
  // browser's renderer processes has used so far, by process id, from
  // /proc: parsing, style, layout and script, the pages' own cost, which a
  // busy machine does not inflate the way it inflates wall time.
  using CpuTimes = std::map<long, double>;
  CpuTimes renderer_cpu() const {
    struct Stat {
      long ppid = 0;
      double cpu = 0;
    };
    auto read_stat = [](const std::filesystem::path& file) -> std::optional<Stat> {
      std::ifstream in(file);
      std::string line;
      if (!std::getline(in, line)) return std::nullopt;
      auto close = line.rfind(')');  // the name before it may hold spaces
      if (close == std::string::npos) return std::nullopt;
      std::istringstream fields(line.substr(close + 2));
      std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
      if (f.size() < 13) return std::nullopt;
      // After the name: state, ppid, ..., utime (14th field of the line), stime (15th).
      return Stat{std::stol(f[1]),
                  (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK))};
    };
    std::map<long, long> parent;
    std::vector<long> pids;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      if (auto st = read_stat(entry.path() / "stat")) {
        parent[std::stol(name)] = st->ppid;
        pids.push_back(std::stol(name));
      }
    }
    CpuTimes times;
    for (long pid : pids) {
      bool ours = false;
      for (long p = parent[pid]; p > 1 && !ours; p = parent.count(p) ? parent[p] : 0) ours = p == pid_;
      if (!ours) continue;
      std::filesystem::path proc = "/proc/" + std::to_string(pid);
      std::ifstream cmdline(proc / "cmdline");
      std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
      if (args.find("--type=renderer") == std::string::npos) continue;
      // The process's own thread (tid = pid) is the renderer's main thread.
      if (auto st = read_stat(proc / "task" / std::to_string(pid) / "stat")) times[pid] = st->cpu;
    }
    return times;
  }

  // The CPU time renderers used between two readings (processes that ended
  // in between are not counted; new ones count whole).
  static double cpu_between(const CpuTimes& before, const CpuTimes& after) {
    double total = 0;
    for (const auto& [pid, seconds] : after) {
      auto it = before.find(pid);
      total += seconds - (it == before.end() ? 0 : it->second);
    }
    return total;
  }

  // Whether the open page opened an alert, confirm or prompt.
  bool opened_a_dialog() const {
    for (const auto& e : events_) {
      if (e.value("method", "") == "Page.javascriptDialogOpening") return true;
    }
    return false;
  }

 private:
  static constexpr auto kTimeout = std::chrono::seconds(60);

  nlohmann::json call(const std::string& method, nlohmann::json params = nlohmann::json::object()) {
    return call(method, std::move(params), session_);
  }

  nlohmann::json call(const std::string& method, nlohmann::json params, const std::string& session) {
    int id = send(method, std::move(params), session);
    auto deadline = std::chrono::steady_clock::now() + kTimeout;
    for (;;) {
      nlohmann::json message = next_message(deadline, method);
      if (message.value("id", -1) != id) {
        if (message.contains("method")) events_.push_back(std::move(message));
        continue;
      }
      if (message.contains("error")) throw DevToolsError(method + ": " + message["error"].dump());
      return message.value("result", nlohmann::json::object());
    }
  }

  void wait_for_event(const std::string& method) {
    auto deadline = std::chrono::steady_clock::now() + kTimeout;
    for (const auto& e : events_) {
      if (e.value("method", "") == method && e.value("sessionId", "") == session_) return;
    }
    for (;;) {
      nlohmann::json message = next_message(deadline, method);
      bool found = message.value("method", "") == method && message.value("sessionId", "") == session_;
      if (message.contains("method")) events_.push_back(std::move(message));
      if (found) return;
    }
  }

  int send(const std::string& method, nlohmann::json params, const std::string& session) {
    nlohmann::json message{{"id", ++next_id_}, {"method", method}, {"params", std::move(params)}};
    if (!session.empty()) message["sessionId"] = session;
    std::string bytes = message.dump();
    bytes.push_back('\0');
    for (std::size_t done = 0; done < bytes.size();) {
      ssize_t n = ::write(to_browser_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) throw DevToolsError("the browser stopped reading (" + method + ")");
      done += static_cast<std::size_t>(n);
    }
    return next_id_;
  }

  nlohmann::json next_message(std::chrono::steady_clock::time_point deadline, const std::string& waiting_for) {
    for (;;) {
      auto end = buffer_.find('\0');
      if (end != std::string::npos) {
        std::string text = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        nlohmann::json message = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (!message.is_object()) throw DevToolsError("an unreadable message from the browser (" + waiting_for + ")");
        return message;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw DevToolsError("no answer from the browser within 60 s (" + waiting_for + ")");
      pollfd p{from_browser_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      ssize_t n = ::read(from_browser_, chunk, sizeof chunk);
      if (n <= 0) throw DevToolsError("the browser went away (" + waiting_for + ")");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  static std::string base64_decode(const std::string& text) {
    auto value = [](char c) -> int {
      if (c >= 'A' && c <= 'Z') return c - 'A';
      if (c >= 'a' && c <= 'z') return c - 'a' + 26;
      if (c >= '0' && c <= '9') return c - '0' + 52;
      if (c == '+') return 62;
      if (c == '/') return 63;
      return -1;
    };
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
      int v = value(c);
      if (v < 0) continue;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      count += 6;
      if (count >= 8) {
        count -= 8;
        out.push_back(static_cast<char>((bits >> count) & 0xFF));
      }
    }
    return out;
  }

  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  int next_id_ = 0;
  std::string buffer_;
  std::string target_;
  std::string session_;
  std::vector<nlohmann::json> events_;
};

}  // namespace loopspec::reports::testing
