// Shared by the reliability tests: every in-process backend of the builtin
// registry (the one the loopspec command uses) by name, a loop with an
// event-driven wait, a recording stream protocol, and process measurements.
//
// Waiting is event-driven: Rig::run_until runs the loop until a condition
// holds, re-checked after every recorded callback and every wake() (which
// other threads reach through call_soon_threadsafe); the timer only guards
// against hangs. Rig::run_for runs the loop for a fixed observation window
// (the EMFILE stall, the quiet time after connection_lost): it waits for no
// event, it is what is measured.
#pragma once

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loopspec/backend.hpp"
#include "loopspec/conformance/builtin_backends.hpp"
#include "loopspec/digest.hpp"
#include "loopspec/kit/loop_base.hpp"
#include "loopspec/peer.hpp"
#include "loopspec/sanitizers.hpp"

namespace loopspec::reliability {

// The registry's in-process backends: its exact names (the prefix families,
// python:*, run their loop in another process).
inline std::vector<std::string> in_process_backends() {
  static const bool registered = [] {
    register_builtin_backends(BackendRegistry::instance());
    return true;
  }();
  (void)registered;
  std::vector<std::string> names;
  for (const auto& name : BackendRegistry::instance().names()) {
    if (name.find(':') == std::string::npos) names.push_back(name);
  }
  return names;
}

// A case that meets a known bug of its backend (backend -> what goes wrong) is
// skipped with that reason, so the table shows it; set
// LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS=1 to run it anyway (to check a fix).
inline std::optional<std::string> known_bug(const std::map<std::string, std::string>& bugs, const std::string& backend) {
  auto bug = bugs.find(backend);
  const char* run_anyway = std::getenv("LOOPSPEC_RELIABILITY_RUN_KNOWN_BUGS");
  if (bug == bugs.end() || (run_anyway != nullptr && std::string(run_anyway) == "1")) return std::nullopt;
  return "known " + backend + " bug: " + bug->second;
}

inline std::string backend_test_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

// A loop of the named backend and a wait on events.
class Rig {
 public:
  explicit Rig(const std::string& backend_name)
      : backend_(BackendRegistry::instance().create(backend_name, {})), loop_(backend_->make_loop()) {
    // Every in-process backend is a kit::LoopBase: its exception handler is where
    // asyncio's call_exception_handler goes.
    if (auto* base = dynamic_cast<kit::LoopBase*>(loop_.get())) {
      base->set_exception_handler([this](std::string_view context, const Error& error) {
        if (++reported_count <= 100) reported.push_back({std::string(context), error});
        wake();
      });
    }
  }

  EventLoop& loop() { return *loop_; }
  bool has_exception_handler() const { return dynamic_cast<const kit::LoopBase*>(loop_.get()) != nullptr; }

  // What the loop's exception handler received: (context, error), the first 100 of reported_count.
  std::vector<std::pair<std::string, Error>> reported;
  std::uint64_t reported_count = 0;

  // Runs the loop until cond() holds; false on timeout (a hang guard).
  bool run_until(const std::function<bool()>& cond, double timeout_seconds = 30.0) {
    if (cond()) return true;
    cond_ = &cond;
    bool timed_out = false;
    auto guard = loop_->call_later(Duration(timeout_seconds), [&] {
      timed_out = true;
      loop_->stop();
    });
    loop_->run_forever();
    guard->cancel();
    cond_ = nullptr;
    return !timed_out && cond();
  }

  // Runs the loop for `seconds` of loop time, whatever happens.
  void run_for(double seconds) {
    auto stop = loop_->call_later(Duration(seconds), [this] { loop_->stop(); });
    loop_->run_forever();
    stop->cancel();
  }

  // On the loop thread: re-checks the condition of run_until.
  void wake() {
    if (cond_ != nullptr && (*cond_)()) loop_->stop();
  }
  // From any thread.
  void wake_threadsafe() {
    loop_->call_soon_threadsafe([this] { wake(); });
  }

 private:
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<EventLoop> loop_;
  const std::function<bool()>* cond_ = nullptr;
};

// A Protocol that logs every callback ("made", "data", "eof", "lost",
// "pause", "resume"), digests what it receives, and wakes the rig.
class Recorder : public Protocol {
 public:
  explicit Recorder(Rig& rig) : rig_(rig) {}

  std::vector<std::string> events;  // runs of "data" logged once
  std::shared_ptr<Transport> transport;     // a stream socket's
  std::shared_ptr<WriteTransport> writer;   // any writing transport's (a write pipe's too)
  Digest received_digest;
  std::uint64_t bytes_received = 0;
  MaybeError lost_error;
  int lost_count = 0;
  int made_count = 0;
  bool keep_open_on_eof = false;
  std::vector<std::size_t> sizes_at_pause, sizes_at_resume;  // get_write_buffer_size() then

  std::function<void()> on_made, on_eof, on_pause, on_resume;
  std::function<void(std::string_view)> on_data;

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<Transport>(t);
    writer = std::dynamic_pointer_cast<WriteTransport>(t);
    ++made_count;
    log("made");
    if (on_made) on_made();
    rig_.wake();
  }
  void data_received(std::string_view data) override {
    received_digest.update(data);
    bytes_received += data.size();
    log("data");
    if (on_data) on_data(data);
    rig_.wake();
  }
  bool eof_received() override {
    log("eof");
    if (on_eof) on_eof();
    rig_.wake();
    return keep_open_on_eof;
  }
  void pause_writing() override {
    sizes_at_pause.push_back(writer->get_write_buffer_size());
    log("pause");
    if (on_pause) on_pause();
    rig_.wake();
  }
  void resume_writing() override {
    sizes_at_resume.push_back(writer->get_write_buffer_size());
    log("resume");
    if (on_resume) on_resume();
    rig_.wake();
  }
  void connection_lost(const MaybeError& exc) override {
    ++lost_count;
    lost_error = exc;
    log("lost");
    rig_.wake();
  }

  // The events logged after the first "lost".
  std::vector<std::string> after_lost() const {
    std::vector<std::string> out;
    bool seen = false;
    for (const auto& e : events) {
      if (seen) out.push_back(e);
      seen = seen || e == "lost";
    }
    return out;
  }
  // pause and resume alternate, starting with pause (flow.pairing.alternate).
  bool flow_alternates() const {
    bool paused = false;
    for (const auto& e : events) {
      if (e == "pause") {
        if (paused) return false;
        paused = true;
      } else if (e == "resume") {
        if (!paused) return false;
        paused = false;
      }
    }
    return true;
  }

 private:
  void log(const char* event) {
    // Data runs are collapsed as they come: a huge transfer logs a few entries per pause.
    if (std::string_view(event) == "data" && !events.empty() && events.back() == "data") return;
    events.emplace_back(event);
  }
  Rig& rig_;
};

// Writes `total` bytes of a deterministic stream through the recorder's
// transport in chunks, from connection_made on, honouring pause_writing and
// resume_writing; digests what it wrote; calls on_done once all is written.
class Streamer {
 public:
  Streamer(Recorder& recorder, std::uint64_t total, std::size_t chunk) : total_(total), chunk_(chunk) {
    std::uint64_t x = 0x9e3779b97f4a7c15ULL;
    block_.resize(chunk + 4096);
    for (auto& c : block_) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      c = static_cast<char>(x);
    }
    recorder.on_made = [this, &recorder] { pump(*recorder.transport); };
    recorder.on_pause = [this] { paused_ = true; };
    recorder.on_resume = [this, &recorder] {
      paused_ = false;
      pump(*recorder.transport);
    };
  }

  Digest digest;
  std::uint64_t sent = 0;
  std::function<void()> on_done;
  bool done() const { return sent == total_; }

 private:
  void pump(Transport& transport) {
    while (!paused_ && sent < total_ && !transport.is_closing()) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_, total_ - sent));
      // A different window of the block each time, so that order matters to the digest.
      std::string_view data = std::string_view(block_).substr((sent / chunk_ * 4099) % 4096, n);
      digest.update(data);
      sent += n;
      transport.write(data);  // may call pause_writing
    }
    if (done() && !finished_) {
      finished_ = true;
      if (on_done) on_done();
    }
  }

  std::uint64_t total_;
  std::size_t chunk_;
  std::string block_;
  bool paused_ = false;
  bool finished_ = false;
};

// A server of the rig's loop whose factory hands out the given protocols in turn.
inline std::shared_ptr<Server> serve(Rig& rig, const Address& where, std::vector<std::shared_ptr<Recorder>> protocols,
                                     int backlog = 100) {
  auto queue = std::make_shared<std::vector<std::shared_ptr<Recorder>>>(std::move(protocols));
  auto next = std::make_shared<std::size_t>(0);
  std::optional<Outcome<Server>> served;
  ServerOptions options;
  options.backlog = backlog;
  rig.loop().create_server(
      [queue, next]() -> std::shared_ptr<StreamProtocol> {
        if (*next >= queue->size()) throw std::runtime_error("more connections than protocols");
        return (*queue)[(*next)++];
      },
      where, options, [&](Outcome<Server> o) {
        served = std::move(o);
        rig.wake();
      });
  if (!rig.run_until([&] { return served.has_value(); })) throw std::runtime_error("create_server hung");
  if (!served->ok()) throw std::runtime_error("create_server failed: " + served->error->to_string());
  return served->value;
}

// A harness peer connected to the server, once the loop made the connection
// (connection_made on `accepted`); its changes wake the rig. The peer must
// go before the rig.
inline std::unique_ptr<Peer> connect_peer(Rig& rig, Server& server, const Recorder& accepted) {
  auto peer = Peer::connect(server.addresses().front(), Duration(10.0));
  peer->set_notify([&rig] { rig.wake_threadsafe(); });
  if (!rig.run_until([&] { return accepted.made_count == 1; })) throw std::runtime_error("connection_made never came");
  return peer;
}

// A Unix socket path of its own, unlinked on destruction.
struct TempSocketPath {
  std::string path = "/tmp/loopspec-rel-" + std::to_string(::getpid()) + "-" +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".sock";
  ~TempSocketPath() { ::unlink(path.c_str()); }
};

// CPU time (user + system) of the whole process, in seconds.
inline double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A /proc/self/status field in KiB (VmHWM: peak RSS, VmRSS: current), -1 when absent.
inline long status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// Resets the peak RSS (VmHWM) to the current RSS; false where the kernel does not allow it.
inline bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return clear.good();
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace loopspec::reliability
