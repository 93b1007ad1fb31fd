// The TLS layer of one connection: asyncio's SSLProtocol. It is the raw
// stream transport's Protocol and drives a TlsSession between the raw bytes
// and the application protocol, which sees a TlsTransport.
//
// States and the only transitions (set_state throws std::logic_error on any other):
//   Unwrapped   --raw connection_made---------------------------> Handshaking
//   Handshaking --handshake done--------------------------------> Wrapped
//   Wrapped     --close(), the peer's close_notify or EOF-------> Flushing
//   Flushing    --backlog encrypted and handed to the raw side--> Shutdown
//   any         --failure, abort(), raw connection_lost---------> Unwrapped
// The application protocol's own states:
//   Init --connection_made--> Made --eof_received--> Eof;  Made|Eof --connection_lost--> Lost
//
// Promises:
// - The application protocol gets connection_made only after the handshake
//   succeeded, and connection_lost only after connection_made. A failed
//   handshake (a rejected certificate, ssl_handshake_timeout, the connection
//   lost) calls no application callback; `done` gets the error.
// - `done` runs once: right after connection_made, or with the error.
// - Writing: application data waits in a plaintext backlog and is encrypted
//   one record (16 KiB) at a time, only while the raw transport is not
//   paused; the ciphertext goes to the raw transport at once. The write
//   buffer size is the backlog plus ciphertext not yet handed over. So a
//   blocked socket pauses the raw transport, encryption stops, the backlog
//   grows and the application is paused (WriteFlow: strictly over high; it
//   is resumed at or below low), every size change checked at once.
// - Reading: plaintext is delivered as soon as the ciphertext carrying it
//   arrives: data_received per batch of up to 256 KiB, or get_buffer then
//   buffer_updated. pause_reading() stops delivery at once, also between two
//   batches of one arrival, and pauses the raw transport's reading so the
//   peer feels the back-pressure; resume_reading() delivers what is pending
//   from a scheduled callback.
// - The peer's close_notify (or a bare EOF) gives eof_received once; whatever
//   it returns, the connection is shut down (TLS has no half-close).
// - close(): nothing is delivered any more; the backlog is still sent, then
//   close_notify; once the peer's close_notify arrives the raw transport is
//   closed and connection_lost(None) follows its connection_lost. If
//   ssl_shutdown_timeout passes first, the raw transport is aborted and
//   connection_lost gets a TimeoutError.
// - abort(): the raw transport is aborted, connection_lost(None).
// - A TLS error after the handshake, or an exception from an application
//   callback, aborts the raw transport; connection_lost gets that error (the
//   loop's exception handler hears of an exception too).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/loop_base.hpp"
#include "loopspec/kit/faults.hpp"
#include "loopspec/kit/tls_context.hpp"
#include "loopspec/kit/tls_session.hpp"
#include "loopspec/kit/write_queue.hpp"

namespace loopspec::kit {

class TlsTransport;

struct TlsOptions {
  bool server_side = false;
  std::string server_hostname;  // client side: SNI and the name the certificate must match
  Duration handshake_timeout{60.0};  // asyncio's SSL_HANDSHAKE_TIMEOUT
  Duration shutdown_timeout{30.0};   // asyncio's SSL_SHUTDOWN_TIMEOUT
};

class TlsProtocol final : public Protocol, public std::enable_shared_from_this<TlsProtocol> {
  struct Passkey {};

 public:
  enum class State { Unwrapped, Handshaking, Wrapped, Flushing, Shutdown };
  enum class AppState { Init, Made, Eof, Lost };

  // app must be a Protocol or a BufferedProtocol (TypeError otherwise); the
  // session's errors are ContractErrors too. done may hold an empty function.
  static std::shared_ptr<TlsProtocol> create(LoopBase& loop, std::shared_ptr<const TlsContext> context,
                                             TlsOptions options, std::shared_ptr<StreamProtocol> app,
                                             std::shared_ptr<Completion<Transport>> done);

  TlsProtocol(Passkey, LoopBase& loop, std::shared_ptr<const TlsContext> context, TlsOptions options,
              std::shared_ptr<Completion<Transport>> done);

  // Protocol: the raw transport's callbacks.
  void connection_made(std::shared_ptr<BaseTransport> transport) override;
  void data_received(std::string_view data) override;
  bool eof_received() override;
  void connection_lost(const MaybeError& exc) override;
  void pause_writing() override;
  void resume_writing() override;

  // The application transport's requests.
  void set_app_protocol(std::shared_ptr<StreamProtocol> app);
  std::shared_ptr<StreamProtocol> app_protocol() const { return app_; }
  bool app_reading_paused() const { return app_reading_paused_; }
  void pause_app_reading();
  void resume_app_reading();
  std::size_t write_buffer_size() const;
  void write_app_data(std::span<const std::string_view> pieces);
  void control_app_writing();
  void close_from_app();
  void abort_from_app();

  State state() const { return state_; }
  AppState app_state() const { return app_state_; }

 private:
  enum class ReadStep { More, Idle, PeerClosed, Stopped };

  void set_state(State next);
  bool readable_state() const { return state_ == State::Wrapped || state_ == State::Flushing; }
  template <class F>
  bool call_app(const char* name, F&& callback);

  // Handshake.
  void do_handshake();
  void on_handshake_done();
  void fail_handshake(const Error& error, bool send_alert);
  void on_handshake_timeout();
  void complete_setup(Outcome<Transport> outcome);

  // Incoming.
  void do_read();
  // Decrypts into buffer until it is full or the session stops (last: why).
  std::size_t read_plaintext(std::span<char> buffer, TlsSession::Status& last);
  ReadStep read_copied();
  ReadStep read_buffered();
  // eof_received once; false when the connection must stay open (a fault only).
  bool call_eof_received();
  // Whether pause_reading() holds deliveries back now.
  bool delivery_paused() const;
  void update_raw_reading();
  void resume_delivery();

  // Outgoing.
  void do_write();
  void process_outgoing();

  // Closing.
  void begin_shutdown();
  void do_flush();
  void do_shutdown();
  void on_shutdown_complete(const MaybeError& error);
  void on_shutdown_timeout();
  void fatal_error(const Error& error);
  void release();

  LoopBase* loop_;
  const Faults faults_;
  std::shared_ptr<const TlsContext> context_;
  TlsSession session_;
  TlsOptions options_;
  std::shared_ptr<Completion<Transport>> done_;

  std::shared_ptr<Transport> raw_;
  std::shared_ptr<StreamProtocol> app_;
  Protocol* app_data_ = nullptr;              // app_ as a Protocol, or null
  BufferedProtocol* app_buffered_ = nullptr;  // app_ as a BufferedProtocol, or null
  std::shared_ptr<TlsTransport> app_transport_;

  State state_ = State::Unwrapped;
  AppState app_state_ = AppState::Init;
  WriteQueue backlog_;                // plaintext not yet encrypted
  bool raw_writing_paused_ = false;   // the raw transport called pause_writing
  bool app_reading_paused_ = false;   // the application called pause_reading
  bool raw_reading_paused_ = false;   // what this layer asked of the raw transport
  bool raw_eof_ = false;              // the raw transport saw the peer's EOF
  bool app_closed_ = false;           // close()/abort()/failure: nothing more is delivered
  bool kept_open_after_eof_ = false;  // tls-eof-true-keeps-open fault only
  MaybeError lost_error_;             // reported by connection_lost instead of the raw transport's
  std::shared_ptr<TimerHandle> handshake_timer_;
  std::shared_ptr<TimerHandle> shutdown_timer_;
};

}  // namespace loopspec::kit
