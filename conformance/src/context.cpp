#include "loopspec/conformance/context.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "loopspec/conformance/tls_settings.hpp"
#include "observed_loop.hpp"

namespace loopspec {

namespace {
bool has_suffix(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}
std::string base_variant(const std::string& variant) { return variant.substr(0, variant.find('+')); }
bool accepts_in(const std::string& variant) {
  auto base = base_variant(variant);
  return base == "tcp-server" || base == "tls-server";
}
}  // namespace

void StreamConnection::record_peer(std::string action, std::int64_t size) {
  Event e;
  e.kind = EventKind::Peer;
  e.name = std::move(action);
  if (size >= 0) e.size = size;
  ctx_.recorder().emit(std::move(e));
}

void StreamConnection::peer_send(std::string data, std::size_t chunk_size) {
  record_peer("send", static_cast<std::int64_t>(data.size()));
  peer_->send(std::move(data), chunk_size);
}
void StreamConnection::peer_stop_reading() {
  record_peer("stop_reading");
  peer_->stop_reading();
}
void StreamConnection::peer_resume_reading() {
  record_peer("resume_reading");
  peer_->resume_reading();
}
void StreamConnection::peer_shutdown_write() {
  record_peer("shutdown_write");
  peer_->shutdown_write();
}
void StreamConnection::peer_close() {
  record_peer("close");
  peer_->close();
}
void StreamConnection::peer_reset() {
  record_peer("reset");
  peer_->reset();
}

ScenarioContext::ScenarioContext(Backend& backend, const RuleCatalogue& rules, const ScenarioSpec& spec,
                                 ScenarioSettings settings, TraceSink& trace)
    : backend_(backend), rules_(rules), spec_(spec), settings_(std::move(settings)), recorder_(trace) {
  loop_ = backend_.make_loop();
  observed_ = std::make_unique<ObservedLoop>(*loop_, [this] { poke(); });
  recorder_.set_after_callback([this] { poke(); });
}

ScenarioContext::~ScenarioContext() {
  // Peers first (their threads wake the loop), then servers and transports, then the loop.
  for (auto& s : streams_) s->peer_.reset();
  streams_.clear();
  servers_.clear();
  observed_.reset();
  loop_.reset();
}

void ScenarioContext::watch(Peer& peer) {
  peer.set_notify([loop = loop_.get(), this] { loop->call_soon_threadsafe([this] { poke(); }); });
}

void ScenarioContext::poke() {
  if (waiting_for_ != nullptr && !wait_satisfied_ && (*waiting_for_)()) {
    wait_satisfied_ = true;
    loop_->stop();
  }
}

bool ScenarioContext::run_until(const std::function<bool()>& done, std::string_view what) {
  return run_until_progressing(done, nullptr, what);
}

bool ScenarioContext::run_until_progressing(const std::function<bool()>& done,
                                            const std::function<std::size_t()>& progress, std::string_view what) {
  if (done()) return true;
  bool timed_out = false;
  std::size_t last = progress ? progress() : 0;
  std::shared_ptr<TimerHandle> timer;
  // Without progress() the first expiry is the timeout; with it, an expiry that finds progress re-arms.
  std::function<void()> expire = [&] {
    if (progress && progress() != last) {
      last = progress();
      timer = loop_->call_later(settings_.wait_timeout, expire);
      return;
    }
    timed_out = true;
    loop_->stop();
  };
  timer = loop_->call_later(settings_.wait_timeout, expire);
  waiting_for_ = &done;
  wait_satisfied_ = false;
  // stop() can arrive from a callback that fires while the condition is still
  // false (a stray wake-up of an earlier wait); keep running until it holds.
  while (!wait_satisfied_ && !timed_out) {
    loop_->run_forever();
    if (done()) wait_satisfied_ = true;
  }
  waiting_for_ = nullptr;
  timer->cancel();
  if (!wait_satisfied_) note(timeout_text(what, progress != nullptr));
  return wait_satisfied_;
}

std::string ScenarioContext::timeout_text(std::string_view what, bool progressing) const {
  return "timed out after " + std::to_string(settings_.wait_timeout.count()) + " s" +
         (progressing ? " without progress" : "") + " waiting for " + std::string(what);
}

void ScenarioContext::wait(const std::function<bool()>& done, std::string_view what) {
  if (!run_until(done, what)) throw ScenarioAbort("timed out waiting for " + std::string(what));
}

bool ScenarioContext::expect_within(std::string_view rule, const std::function<bool()>& done, std::string_view what) {
  return expect_progressing(rule, done, nullptr, what);
}

bool ScenarioContext::expect_progressing(std::string_view rule, const std::function<bool()>& done,
                                         const std::function<std::size_t()>& progress, std::string_view what) {
  bool ok = run_until_progressing(done, progress, what);
  if (!ok) check(rule, false, timeout_text(what, progress != nullptr));
  return ok;
}

void ScenarioContext::run_pending() {
  bool fired = false;
  auto timer = loop_->call_later(Duration(0), [this, &fired] {
    fired = true;
    loop_->stop();
  });
  while (!fired) loop_->run_forever();
}

bool ScenarioContext::rule_in_profile(std::string_view rule) const {
  const Rule* r = rules_.find(rule);
  return r != nullptr && r->holds_for(settings_.profile);
}

void ScenarioContext::check(std::string_view rule, bool held, std::string message) {
  if (std::find(spec_.rules.begin(), spec_.rules.end(), rule) == spec_.rules.end()) {
    throw std::logic_error("scenario " + spec_.id + " checks rule " + std::string(rule) + " it does not declare");
  }
  if (!rule_in_profile(rule)) return;
  if (!held) note("check failed: " + std::string(rule) + ": " + message);
  checks_.push_back(CheckResult{std::string(rule), held, std::move(message)});
}

void ScenarioContext::note(std::string text) {
  Event e;
  e.kind = EventKind::Note;
  e.name = "note";
  e.detail = std::move(text);
  recorder_.emit(std::move(e));
}

std::shared_ptr<StreamProtocol> ScenarioContext::make_observing_protocol(StreamConnection& conn, StreamOptions options) {
  if (has_suffix(settings_.variant, "+buffered")) {
    return std::make_shared<ObservingBufferedProtocol>(conn.seen, conn.hooks,
                                                       options.buffer_size.value_or(settings_.buffered_buffer_size));
  }
  return std::make_shared<ObservingProtocol>(conn.seen, conn.hooks);
}

StreamConnection& ScenarioContext::open_stream(StreamHooks hooks, StreamOptions options) {
  streams_.push_back(std::unique_ptr<StreamConnection>(new StreamConnection(*this)));
  StreamConnection& conn = *streams_.back();
  conn.hooks = std::move(hooks);
  conn.protocol = make_observing_protocol(conn, options);
  auto recorded = recorder_.record_stream(conn.protocol);
  if (accepts_in(settings_.variant)) {
    accept_in(conn, std::move(recorded));
  } else {
    connect_out(conn, std::move(recorded));
  }
  watch(*conn.peer_);
  wait([&conn] { return conn.seen.made > 0; }, "connection_made");
  return conn;
}

void ScenarioContext::connect_out(StreamConnection& conn, std::shared_ptr<StreamProtocol> protocol) {
  Address address = InetAddress{"127.0.0.1", 0};
  if (base_variant(settings_.variant) == "unix") {
    address = UnixAddress{(settings_.temp_dir / ("s" + std::to_string(++socket_counter_))).string()};
  }
  PeerListener listener(address);
  bool completed = false;
  MaybeError failure;
  loop().create_connection([protocol] { return protocol; }, listener.address(), connect_options(),
                           [&](Outcome<Transport> outcome) {
                             completed = true;
                             failure = outcome.error;
                           });
  if (tls_variant()) {
    conn.peer_ = accept_tls_while(listener, peer_tls_server(tls_material()), [&] { return completed; },
                                  "create_connection to complete");
    if (!completed) throw ScenarioAbort("timed out waiting for create_connection to complete");
  } else {
    wait([&] { return completed; }, "create_connection to complete");
  }
  if (failure) throw ScenarioAbort("create_connection failed: " + failure->to_string());
  if (!tls_variant()) conn.peer_ = listener.accept(settings_.wait_timeout);
  if (!conn.peer_) throw ScenarioAbort("the peer did not see the connection");
}

std::unique_ptr<Peer> ScenarioContext::accept_tls_while(PeerListener& listener, const PeerTls& tls,
                                                        const std::function<bool()>& done, std::string_view what) {
  std::unique_ptr<Peer> peer;
  std::string error;
  std::atomic<bool> accepted{false};
  std::thread acceptor([&] {
    try {
      peer = listener.accept(settings_.wait_timeout, tls);
    } catch (const std::exception& e) {
      error = e.what();
    }
    accepted = true;
    loop_->call_soon_threadsafe([this] { poke(); });
  });
  run_until([&] { return accepted && done(); }, what);
  acceptor.join();  // bounded: accept gives up after the wait timeout
  if (!error.empty()) throw ScenarioAbort("the TLS peer could not be set up: " + error);
  return peer;
}

void ScenarioContext::accept_in(StreamConnection& conn, std::shared_ptr<StreamProtocol> protocol) {
  std::shared_ptr<Server> server;
  MaybeError failure;
  bool completed = false;
  bool handed_out = false;
  loop().create_server(
      [protocol, handed_out]() mutable -> std::shared_ptr<StreamProtocol> {
        // One connection is expected; a second would get a plain protocol.
        if (handed_out) return std::make_shared<Protocol>();
        handed_out = true;
        return protocol;
      },
      InetAddress{"127.0.0.1", 0}, server_options(), [&](Outcome<Server> outcome) {
        completed = true;
        server = outcome.value;
        failure = outcome.error;
      });
  wait([&] { return completed; }, "create_server to complete");
  if (failure || !server) throw ScenarioAbort("create_server failed: " + (failure ? failure->to_string() : "no server"));
  servers_.push_back(server);
  auto addresses = server->addresses();
  if (addresses.empty()) throw ScenarioAbort("the server reports no address");
  if (tls_variant()) {
    conn.peer_ = Peer::connect(addresses.front(), settings_.wait_timeout, peer_tls_client(tls_material()));
  } else {
    conn.peer_ = Peer::connect(addresses.front(), settings_.wait_timeout);
  }
}

bool ScenarioContext::tls_variant() const {
  auto base = base_variant(settings_.variant);
  return base == "tls" || base == "tls-server";
}

ConnectOptions ScenarioContext::connect_options() {
  return tls_variant() ? tls_connect_options(tls_material()) : ConnectOptions{};
}

ServerOptions ScenarioContext::server_options() {
  return tls_variant() ? tls_server_options(tls_material()) : ServerOptions{};
}

const TlsMaterial& ScenarioContext::tls_material() {
  if (!tls_material_) tls_material_ = TlsMaterial::locate();
  return *tls_material_;
}

}  // namespace loopspec
