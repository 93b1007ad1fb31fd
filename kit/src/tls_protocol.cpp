#include "loopspec/kit/tls_protocol.hpp"

#include <sys/uio.h>

#include <cerrno>
#include <utility>

#include "loopspec/kit/exception_error.hpp"
#include "loopspec/kit/protocol_call.hpp"
#include "loopspec/kit/tls_transport.hpp"

namespace loopspec::kit {

namespace {

// One TLS record's worth of plaintext per encryption step, so the raw
// transport's pause_writing stops encryption within a record.
constexpr std::size_t kRecordSize = 16 * 1024;

const char* state_name(TlsProtocol::State state) {
  switch (state) {
    case TlsProtocol::State::Unwrapped: return "Unwrapped";
    case TlsProtocol::State::Handshaking: return "Handshaking";
    case TlsProtocol::State::Wrapped: return "Wrapped";
    case TlsProtocol::State::Flushing: return "Flushing";
    case TlsProtocol::State::Shutdown: return "Shutdown";
  }
  return "?";
}

bool transition_allowed(TlsProtocol::State from, TlsProtocol::State to) {
  using State = TlsProtocol::State;
  if (to == State::Unwrapped) return true;
  return (from == State::Unwrapped && to == State::Handshaking) ||
         (from == State::Handshaking && to == State::Wrapped) || (from == State::Wrapped && to == State::Flushing) ||
         (from == State::Flushing && to == State::Shutdown);
}

std::string seconds_text(Duration d) {
  std::string text = std::to_string(d.count());
  while (text.size() > 1 && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text += '0';
  return text;
}

}  // namespace

// ---- creation ----

std::shared_ptr<TlsProtocol> TlsProtocol::create(LoopBase& loop, std::shared_ptr<const TlsContext> context,
                                                 TlsOptions options, std::shared_ptr<StreamProtocol> app,
                                                 std::shared_ptr<Completion<Transport>> done) {
  auto tls = std::make_shared<TlsProtocol>(Passkey{}, loop, std::move(context), std::move(options), std::move(done));
  tls->app_transport_ = std::make_shared<TlsTransport>(tls, loop.faults());
  tls->set_app_protocol(std::move(app));
  return tls;
}

TlsProtocol::TlsProtocol(Passkey, LoopBase& loop, std::shared_ptr<const TlsContext> context, TlsOptions options,
                         std::shared_ptr<Completion<Transport>> done)
    : loop_(&loop),
      faults_(loop.faults()),
      context_(context),
      session_(std::move(context), options.server_hostname),
      options_(std::move(options)),
      done_(std::move(done)) {}

void TlsProtocol::set_app_protocol(std::shared_ptr<StreamProtocol> app) {
  auto* data = dynamic_cast<Protocol*>(app.get());
  auto* buffered = dynamic_cast<BufferedProtocol*>(app.get());
  if (data == nullptr && buffered == nullptr) {
    throw ContractError(Error{"TypeError", 0, "a TLS transport needs a Protocol or a BufferedProtocol"});
  }
  if (app_state_ == AppState::Lost) return;
  app_ = std::move(app);
  app_data_ = data;
  app_buffered_ = buffered;
}

void TlsProtocol::set_state(State next) {
  if (!transition_allowed(state_, next)) {
    throw std::logic_error(std::string("TLS protocol: no transition from ") + state_name(state_) + " to " +
                           state_name(next));
  }
  state_ = next;
  update_raw_reading();
}

template <class F>
bool TlsProtocol::call_app(const char* name, F&& callback) {
  auto keep = app_;  // set_protocol inside the callback must not free it mid-call
  return call_protocol(loop_, name, std::forward<F>(callback), [this](const Error& error) { fatal_error(error); });
}

// ---- the raw transport's callbacks ----

void TlsProtocol::connection_made(std::shared_ptr<BaseTransport> transport) {
  raw_ = std::dynamic_pointer_cast<Transport>(transport);
  app_transport_->attach_raw(raw_);
  set_state(State::Handshaking);
  // Fault: tls-no-handshake-timeout
  if (!faults_.tls_no_handshake_timeout) {
    handshake_timer_ = loop_->call_later(options_.handshake_timeout, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->on_handshake_timeout();
    });
  }
  do_handshake();
}

void TlsProtocol::data_received(std::string_view data) {
  auto self = shared_from_this();
  session_.feed(data);
  switch (state_) {
    case State::Handshaking: return do_handshake();
    case State::Wrapped: return do_read();
    case State::Flushing: return do_flush();
    case State::Shutdown: return do_shutdown();
    case State::Unwrapped: return;
  }
}

bool TlsProtocol::eof_received() {
  auto self = shared_from_this();
  raw_eof_ = true;
  switch (state_) {
    case State::Handshaking:
      fail_handshake(Error::from_errno(ECONNRESET, "the connection was closed during the TLS handshake"), false);
      return false;
    case State::Wrapped:
      // Fault: tls-eof-true-keeps-open
      if (kept_open_after_eof_) return true;
      set_state(State::Flushing);
      app_transport_->mark_closing();
      // What is still undelivered waits for resume_reading, on an open socket.
      if (app_reading_paused_) return true;
      do_flush();
      return false;
    case State::Flushing:
      do_flush();
      return false;
    case State::Shutdown:
      do_shutdown();
      return false;
    case State::Unwrapped:
      return false;
  }
  return false;
}

void TlsProtocol::connection_lost(const MaybeError& exc) {
  auto self = shared_from_this();
  backlog_.clear();
  session_.discard_outgoing();
  app_transport_->mark_closing();
  if (handshake_timer_) handshake_timer_->cancel();
  if (shutdown_timer_) shutdown_timer_->cancel();
  MaybeError reported = lost_error_ ? lost_error_ : exc;
  if (state_ == State::Handshaking) {
    complete_setup({nullptr, reported ? *reported
                                      : Error::from_errno(ECONNRESET, "the connection was lost during the TLS handshake")});
  }
  set_state(State::Unwrapped);
  if (app_state_ == AppState::Made || app_state_ == AppState::Eof) {
    app_state_ = AppState::Lost;
    try {
      app_->connection_lost(reported);
    } catch (...) {
      loop_->report_exception("connection_lost", error_from_current_exception());
    }
  }
  release();
}

void TlsProtocol::release() {
  app_state_ = AppState::Lost;
  raw_.reset();
  app_.reset();
  app_data_ = nullptr;
  app_buffered_ = nullptr;
  app_transport_.reset();
}

void TlsProtocol::pause_writing() { raw_writing_paused_ = true; }

void TlsProtocol::resume_writing() {
  auto self = shared_from_this();
  raw_writing_paused_ = false;
  process_outgoing();
  switch (state_) {
    case State::Wrapped: return do_write();
    case State::Flushing: return do_flush();
    case State::Shutdown: return do_shutdown();
    default: return;
  }
}

// ---- handshake ----

void TlsProtocol::do_handshake() {
  switch (session_.handshake()) {
    case TlsSession::Status::WantMore:
      return process_outgoing();
    case TlsSession::Status::Done:
      process_outgoing();
      return on_handshake_done();
    case TlsSession::Status::Closed:
    case TlsSession::Status::Failed:
      return fail_handshake(session_.error(), true);
  }
}

void TlsProtocol::on_handshake_done() {
  if (handshake_timer_) handshake_timer_->cancel();
  set_state(State::Wrapped);
  std::map<std::string, nlohmann::json, std::less<>> info;
  info["sslcontext"] = context_->describe();
  info["cipher"] = session_.cipher();
  // Fault: tls-cipher-without-bits
  if (faults_.tls_cipher_without_bits && info["cipher"].is_array()) info["cipher"].erase(2);
  // Fault: tls-compression-empty
  info["compression"] = faults_.tls_compression_empty ? nlohmann::json("") : session_.compression();
  if (auto certificate = session_.peercert()) info["peercert"] = *certificate;
  info["ssl_object"] = session_.describe();
  app_transport_->set_tls_info(std::move(info));

  app_state_ = AppState::Made;
  std::shared_ptr<Transport> transport = app_transport_;
  call_app("connection_made", [&] { app_->connection_made(transport); });
  complete_setup({transport, std::nullopt});
  do_read();
}

void TlsProtocol::fail_handshake(const Error& error, bool send_alert) {
  if (handshake_timer_) handshake_timer_->cancel();
  lost_error_ = error;
  app_closed_ = true;
  set_state(State::Unwrapped);
  // Fault: tls-lost-without-made
  if (faults_.tls_lost_without_made && app_) app_->connection_lost(error);
  complete_setup({nullptr, error});
  if (!raw_) return;
  if (send_alert) {
    // The alert tells the peer why; closing (not aborting) lets it leave.
    std::string alert = session_.take_outgoing();
    if (!alert.empty()) raw_->write(alert);
    raw_->close();
  } else {
    raw_->abort();
  }
}

void TlsProtocol::on_handshake_timeout() {
  if (state_ != State::Handshaking) return;
  fail_handshake(Error::from_errno(ECONNABORTED, "SSL handshake is taking longer than " +
                                                     seconds_text(options_.handshake_timeout) +
                                                     " seconds: aborting the connection"),
                 false);
}

void TlsProtocol::complete_setup(Outcome<Transport> outcome) {
  if (!done_ || !*done_) return;
  auto done = std::exchange(*done_, nullptr);
  done(std::move(outcome));
}

// ---- incoming ----

void TlsProtocol::do_read() {
  if (!readable_state() || app_closed_) return;
  auto self = shared_from_this();
  for (;;) {
    if (delivery_paused() || app_closed_ || !readable_state() || app_state_ != AppState::Made) break;
    ReadStep step = app_buffered_ != nullptr ? read_buffered() : read_copied();
    if (step == ReadStep::More) continue;
    if (step == ReadStep::PeerClosed) {
      // From Flushing (a bare EOF came first) do_flush goes on by itself.
      if (call_eof_received()) begin_shutdown();
      return;
    }
    if (step == ReadStep::Stopped) return;
    break;
  }
  if (readable_state()) {
    // Reading may have produced records to send (key updates, alerts).
    if (!backlog_.empty()) {
      do_write();
    } else {
      process_outgoing();
    }
  }
  update_raw_reading();
}

std::size_t TlsProtocol::read_plaintext(std::span<char> buffer, TlsSession::Status& last) {
  std::size_t filled = 0;
  while (filled < buffer.size()) {
    auto result = session_.read(buffer.subspan(filled));
    if (result.status != TlsSession::Status::Done) {
      last = result.status;
      break;
    }
    filled += result.bytes;
  }
  return filled;
}

TlsProtocol::ReadStep TlsProtocol::read_copied() {
  // The loop's buffer: the raw bytes that shared it are already in the session.
  auto buffer = loop_->read_buffer().subspan(1, LoopBase::kReadBufferSize);
  TlsSession::Status last = TlsSession::Status::Done;
  std::size_t filled = read_plaintext(buffer, last);
  if (filled > 0 && !call_app("data_received", [&] { app_data_->data_received({buffer.data(), filled}); })) {
    return ReadStep::Stopped;
  }
  switch (last) {
    case TlsSession::Status::Closed: return ReadStep::PeerClosed;
    case TlsSession::Status::Failed: fatal_error(session_.error()); return ReadStep::Stopped;
    case TlsSession::Status::WantMore: return ReadStep::Idle;
    case TlsSession::Status::Done: return ReadStep::More;  // the batch is full; more may be ready
  }
  return ReadStep::Idle;
}

TlsProtocol::ReadStep TlsProtocol::read_buffered() {
  // No get_buffer without plaintext to put in it.
  switch (session_.peek()) {
    case TlsSession::Status::WantMore: return ReadStep::Idle;
    case TlsSession::Status::Closed: return ReadStep::PeerClosed;
    case TlsSession::Status::Failed: fatal_error(session_.error()); return ReadStep::Stopped;
    case TlsSession::Status::Done: break;
  }
  BufferedProtocol* app = app_buffered_;  // the one whose buffer is filled
  std::span<char> buffer;
  auto hint = static_cast<std::int64_t>(session_.plaintext_pending() + session_.incoming_pending());
  if (!call_app("get_buffer", [&] { buffer = app->get_buffer(hint); })) return ReadStep::Stopped;
  if (buffer.empty()) {
    loop_->report_exception("get_buffer", Error{"RuntimeError", 0, "get_buffer() returned an empty buffer"});
    fatal_error(Error{"RuntimeError", 0, "get_buffer() returned an empty buffer"});
    return ReadStep::Stopped;
  }
  // get_buffer may have paused reading or closed the transport.
  if (delivery_paused() || app_closed_ || !readable_state()) return ReadStep::Stopped;
  TlsSession::Status last = TlsSession::Status::Done;
  std::size_t filled = read_plaintext(buffer, last);
  if (filled > 0 && !call_app("buffer_updated", [&] { app->buffer_updated(filled); })) return ReadStep::Stopped;
  switch (last) {
    case TlsSession::Status::Closed: return ReadStep::PeerClosed;
    case TlsSession::Status::Failed: fatal_error(session_.error()); return ReadStep::Stopped;
    case TlsSession::Status::WantMore: return ReadStep::Idle;
    case TlsSession::Status::Done: return ReadStep::More;
  }
  return ReadStep::Idle;
}

bool TlsProtocol::call_eof_received() {
  if (app_state_ != AppState::Made) return true;
  app_state_ = AppState::Eof;
  bool keep_open = false;
  if (!call_app("eof_received", [&] { keep_open = app_->eof_received(); })) return false;
  // TLS has no half-close: a true value changes nothing (asyncio logs a warning).
  // Fault: tls-eof-true-keeps-open
  if (keep_open && faults_.tls_eof_true_keeps_open) {
    kept_open_after_eof_ = true;
    return false;
  }
  return true;
}

bool TlsProtocol::delivery_paused() const {
  // Fault: tls-delivers-while-paused (pausing only stops the raw transport)
  return app_reading_paused_ && !faults_.tls_delivers_while_paused;
}

void TlsProtocol::update_raw_reading() {
  if (!raw_) return;
  bool pause = state_ == State::Wrapped && app_reading_paused_;
  if (pause == raw_reading_paused_) return;
  raw_reading_paused_ = pause;
  if (pause) {
    raw_->pause_reading();
  } else {
    raw_->resume_reading();
  }
}

void TlsProtocol::pause_app_reading() {
  if (app_reading_paused_) return;
  app_reading_paused_ = true;
  update_raw_reading();
}

void TlsProtocol::resume_app_reading() {
  if (!app_reading_paused_) return;
  app_reading_paused_ = false;
  update_raw_reading();
  loop_->call_soon([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->resume_delivery();
  });
}

void TlsProtocol::resume_delivery() {
  switch (state_) {
    case State::Wrapped: return do_read();
    case State::Flushing: return do_flush();
    case State::Shutdown: return do_shutdown();
    default: return;
  }
}

// ---- outgoing ----

std::size_t TlsProtocol::write_buffer_size() const { return backlog_.size() + session_.outgoing_pending(); }

void TlsProtocol::write_app_data(std::span<const std::string_view> pieces) {
  // After close() (or once the connection ends) data is dropped, as asyncio does.
  if (state_ != State::Wrapped || app_closed_) return;
  for (auto piece : pieces) backlog_.append(piece);
  do_write();
}

void TlsProtocol::do_write() {
  auto self = shared_from_this();
  while (!backlog_.empty() && !raw_writing_paused_ && raw_ && readable_state()) {
    iovec first{};
    backlog_.gather(&first, 1);
    std::string_view piece(static_cast<const char*>(first.iov_base), std::min(first.iov_len, kRecordSize));
    // Fault: tls-writes-plaintext
    if (faults_.tls_writes_plaintext) {
      raw_->write(piece);
      backlog_.consume(piece.size());
      continue;
    }
    auto result = session_.write(piece);
    if (result.status != TlsSession::Status::Done) return fatal_error(session_.error());
    backlog_.consume(result.bytes);
    process_outgoing();  // the raw transport may call pause_writing from here
  }
  process_outgoing();
  control_app_writing();
}

void TlsProtocol::process_outgoing() {
  if (!raw_ || raw_writing_paused_) return;
  std::string ciphertext = session_.take_outgoing();
  if (!ciphertext.empty()) raw_->write(ciphertext);
}

void TlsProtocol::control_app_writing() {
  if ((app_state_ != AppState::Made && app_state_ != AppState::Eof) || !app_transport_) return;
  WriteFlow& flow = app_transport_->flow();
  auto app = app_;  // kept alive through the callback
  flow.tell(*app, write_buffer_size(), [this](const char* name, auto&& callback) { call_app(name, callback); });
}

// ---- closing ----

void TlsProtocol::close_from_app() {
  app_closed_ = true;
  switch (state_) {
    case State::Handshaking: return abort_from_app();
    case State::Wrapped: return begin_shutdown();
    // A shutdown the peer started may be waiting for resume_reading, which no longer matters.
    case State::Flushing: return do_flush();
    default: return;
  }
}

void TlsProtocol::abort_from_app() {
  app_closed_ = true;
  if (state_ == State::Unwrapped && !raw_) return;
  set_state(State::Unwrapped);
  if (raw_) raw_->abort();
}

void TlsProtocol::begin_shutdown() {
  if (state_ != State::Wrapped) return;
  auto self = shared_from_this();
  set_state(State::Flushing);
  app_transport_->mark_closing();
  // Fault: tls-no-shutdown-timeout
  if (!faults_.tls_no_shutdown_timeout) {
    shutdown_timer_ = loop_->call_later(options_.shutdown_timeout, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->on_shutdown_timeout();
    });
  }
  do_flush();
}

void TlsProtocol::do_flush() {
  // After a bare EOF the application still gets what arrived before it.
  do_read();
  if (state_ != State::Flushing) return;
  if (app_reading_paused_ && !app_closed_) return;  // resume_reading continues
  do_write();
  if (state_ != State::Flushing || !backlog_.empty()) return;  // resume_writing continues
  set_state(State::Shutdown);
  // Fault: tls-close-without-notify
  if (faults_.tls_close_without_notify) return on_shutdown_complete(std::nullopt);
  do_shutdown();
}

void TlsProtocol::do_shutdown() {
  if (state_ != State::Shutdown) return;
  if (!raw_eof_) {
    TlsSession::Status status = session_.shutdown();
    process_outgoing();
    if (status == TlsSession::Status::Failed) return on_shutdown_complete(session_.error());
    if (status == TlsSession::Status::WantMore) return;  // the peer's close_notify is still to come
  }
  process_outgoing();
  if (!app_closed_ && !call_eof_received()) return;
  on_shutdown_complete(std::nullopt);
}

void TlsProtocol::on_shutdown_complete(const MaybeError& error) {
  if (shutdown_timer_) shutdown_timer_->cancel();
  if (error) return fatal_error(*error);
  if (raw_) raw_->close();
}

void TlsProtocol::on_shutdown_timeout() {
  if (state_ != State::Flushing && state_ != State::Shutdown) return;
  fatal_error(Error{"TimeoutError", 0, "SSL shutdown timed out"});
}

void TlsProtocol::fatal_error(const Error& error) {
  if (!lost_error_) lost_error_ = error;
  app_closed_ = true;
  if (app_transport_) app_transport_->mark_closing();
  if (state_ == State::Handshaking) return fail_handshake(error, false);
  set_state(State::Unwrapped);
  if (raw_) raw_->abort();
}

}  // namespace loopspec::kit
