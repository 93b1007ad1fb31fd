// ScenarioContext: everything a scenario body may touch.
//
// Promises:
// - One fresh loop of the backend under test per scenario run.
// - Every protocol the context creates is recorded (loopspec::Recorder); peer
//   actions and notes are recorded too, so the trace tells the whole story.
// - Waiting is event-driven: run_until runs the backend's loop until a
//   condition holds, re-checking it after every protocol callback and every
//   peer change (woken through call_soon_threadsafe); the timeout only guards
//   against hangs.
// - check() records a verdict for a rule the scenario declared; a rule outside
//   the run's profile is ignored.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "loopspec/backend.hpp"
#include "loopspec/conformance/observing_protocol.hpp"
#include "loopspec/conformance/scenario.hpp"
#include "loopspec/peer.hpp"
#include "loopspec/recorder.hpp"
#include "loopspec/rules.hpp"
#include "loopspec/tls_material.hpp"
#include "loopspec/trace.hpp"

namespace loopspec {

struct CheckResult {
  std::string rule;
  bool held = true;
  std::string message;
};

// Thrown to stop a scenario that cannot go on (a setup step failed or hung):
// its verdict is ERROR unless a check already failed.
class ScenarioAbort : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ScenarioContext;

// One connection between a recorded protocol of the backend and a peer.
struct StreamOptions {
  std::optional<std::size_t> buffer_size;  // BufferedProtocol variants: get_buffer's size (default: the run's)
};

class StreamConnection {
 public:
  StreamObservations seen;
  StreamHooks hooks;
  std::shared_ptr<StreamProtocol> protocol;  // the scenario's protocol, as the loop got it before recording

  std::shared_ptr<Transport> transport() const { return seen.transport; }
  Peer& peer() { return *peer_; }

  // Peer actions, recorded as Peer events before they are queued.
  void peer_send(std::string data, std::size_t chunk_size = 0);
  void peer_stop_reading();
  void peer_resume_reading();
  void peer_shutdown_write();
  void peer_close();
  void peer_reset();

 private:
  friend class ScenarioContext;
  explicit StreamConnection(ScenarioContext& ctx) : ctx_(ctx) {}
  void record_peer(std::string action, std::int64_t size = -1);
  ScenarioContext& ctx_;
  std::unique_ptr<Peer> peer_;
};

struct ScenarioSettings {
  std::string variant;  // see scenario.hpp, namespace variants
  std::string profile{kDefaultProfile};
  Duration wait_timeout{2.0};
  std::filesystem::path temp_dir;  // for Unix socket paths
  std::size_t buffered_buffer_size = 1024;  // BufferedProtocol variants
};

class ScenarioContext {
 public:
  ScenarioContext(Backend& backend, const RuleCatalogue& rules, const ScenarioSpec& spec,
                  ScenarioSettings settings, TraceSink& trace);
  ~ScenarioContext();
  ScenarioContext(const ScenarioContext&) = delete;
  ScenarioContext& operator=(const ScenarioContext&) = delete;

  // The backend's loop; callbacks given to it re-check the current wait when they ran.
  EventLoop& loop() { return *observed_; }
  const BackendInfo& backend() const { return backend_.info(); }
  const std::string& variant() const { return settings_.variant; }
  const std::string& profile() const { return settings_.profile; }
  Duration wait_timeout() const { return settings_.wait_timeout; }
  Recorder& recorder() { return recorder_; }

  // Runs the loop until done() holds; false on timeout (a Note records it).
  bool run_until(const std::function<bool()>& done, std::string_view what);
  // Like run_until, but a timeout stops the scenario (ScenarioAbort).
  void wait(const std::function<bool()>& done, std::string_view what);
  // Like run_until, but a timeout is a broken rule.
  bool expect_within(std::string_view rule, const std::function<bool()>& done, std::string_view what);
  // Like expect_within, for a transfer of many callbacks: it times out only when a whole wait timeout
  // passes without progress() changing, so a live loop that is slow (a driver on a loaded machine,
  // thousands of lock-step callbacks) is not taken for a hung one.
  bool expect_progressing(std::string_view rule, const std::function<bool()>& done,
                          const std::function<std::size_t()>& progress, std::string_view what);
  // Runs the loop until every callback already due has run (a zero-delay
  // timer), without waiting for I/O.
  void run_pending();

  // A connected stream in this scenario's variant, its protocol recorded.
  // Hooks given here are in place before connection_made.
  StreamConnection& open_stream(StreamHooks hooks = {}, StreamOptions options = {});
  // TLS variants ("tls", "tls-server", with or without "+buffered") run the
  // stream over TLS; connect_options()/server_options() are what this
  // variant's create_connection/create_server get (TLS settings from
  // tls_settings.hpp for TLS variants, none otherwise).
  bool tls_variant() const;
  ConnectOptions connect_options();
  ServerOptions server_options();
  // The build's throwaway TLS material (throws std::runtime_error when it is missing).
  const TlsMaterial& tls_material();
  // Runs the loop until done() holds while a helper thread accepts one
  // connection on listener for a TLS peer (a TLS handshake needs the peer at
  // work while the backend's loop runs). Returns the peer, nullptr when
  // nobody connected in time; a timeout of done() is noted, not thrown; a
  // peer that cannot be set up is a ScenarioAbort.
  std::unique_ptr<Peer> accept_tls_while(PeerListener& listener, const PeerTls& tls,
                                         const std::function<bool()>& done, std::string_view what);

  // Makes a protocol of this variant's kind feeding conn's observations (for set_protocol).
  std::shared_ptr<StreamProtocol> make_observing_protocol(StreamConnection& conn, StreamOptions options = {});

  void check(std::string_view rule, bool held, std::string message);
  void note(std::string text);

  // Makes every change the peer sees wake this loop to re-check the current wait.
  void watch(Peer& peer);
  // Re-evaluates the current wait condition (stops the loop when it holds).
  void poke();
  // A fresh directory of this scenario run, for Unix socket paths.
  const std::filesystem::path& temp_dir() const { return settings_.temp_dir; }

  const std::vector<CheckResult>& checks() const { return checks_; }
  bool rule_in_profile(std::string_view rule) const;

 private:
  void connect_out(StreamConnection& conn, std::shared_ptr<StreamProtocol> recorded);
  void accept_in(StreamConnection& conn, std::shared_ptr<StreamProtocol> recorded);
  // progress may be empty: then the first expiry of the wait timeout ends the wait.
  bool run_until_progressing(const std::function<bool()>& done, const std::function<std::size_t()>& progress,
                             std::string_view what);
  std::string timeout_text(std::string_view what, bool progressing) const;

  Backend& backend_;
  const RuleCatalogue& rules_;
  const ScenarioSpec& spec_;
  ScenarioSettings settings_;
  Recorder recorder_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<EventLoop> observed_;  // loop_, seen through ObservedLoop
  std::vector<std::unique_ptr<StreamConnection>> streams_;
  std::vector<std::shared_ptr<Server>> servers_;
  std::vector<CheckResult> checks_;
  const std::function<bool()>* waiting_for_ = nullptr;
  bool wait_satisfied_ = false;
  int socket_counter_ = 0;
  std::optional<TlsMaterial> tls_material_;
};

}  // namespace loopspec
