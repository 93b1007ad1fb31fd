// A connected stream socket as an asyncio Transport, whatever the loop's I/O
// object: CPython's _SelectorSocketTransport unless stated otherwise. A mixin
// over the backend's reader and writer (stream_reading.hpp,
// stream_writing.hpp); the backend adds shutdown_send() and its start.
//
// Lifecycle (endpoint.hpp): Open --close() with data queued--> Closing
// --queue written--> LostPending; close() with nothing queued, abort(), a
// socket error or a protocol exception --> LostPending --connection_lost--> Lost.
// Promises:
// - write()/writelines() and flow control as StreamWriting promises. Empty
//   data is a no-op. After write_eof() write() raises RuntimeError; after
//   close()/abort() data is dropped silently.
// - write_eof(): once the queue is written, shutdown_send() (the peer reads
//   end of file), once; can_write_eof() is true.
// - close(): reading stops at once; connection_lost(None) once the queue is
//   written.
// - EOF: eof_received once; true keeps the transport open for writing
//   (reading stops for good), false closes it.
// - The stream faults (faults.hpp) are consulted here; a backend offers
//   those it wants the suite to try.
#pragma once

#include <span>
#include <string_view>

#include "loopspec/error.hpp"

namespace loopspec::kit {

template <class Base>
class StreamTransport : public Base {
 public:
  // BaseTransport
  bool is_closing() override {
    // Fault: not-closing-after-close
    if (this->faults_.not_closing_after_close) return false;
    return this->phase_ != Base::Phase::Open;
  }
  void close() override {
    if (this->phase_ != Base::Phase::Open) return;
    // Fault: lost-error-on-close
    if (this->faults_.lost_error_on_close) close_error_ = Error{"OSError", 0, "connection closed (injected fault)"};
    // Fault: close-drops-buffer
    if (this->drained() || this->faults_.close_drops_buffer) return this->lose(close_error_);
    this->phase_ = Base::Phase::Closing;
    this->update_reading();  // reading stops
  }
  // ReadTransport
  void pause_reading() override {
    // Fault: pause-reading-raises-twice
    if (this->faults_.pause_reading_raises_twice && this->phase_ == Base::Phase::Open && this->paused_) {
      throw ContractError(Error{"RuntimeError", 0, "Already paused"});
    }
    Base::pause_reading();
  }
  // WriteTransport
  std::size_t get_write_buffer_size() override {
    // Fault: buffer-size-zero
    if (this->faults_.buffer_size_zero) return 0;
    return Base::get_write_buffer_size();
  }
  void write(std::string_view data) override {
    check_writable();
    const std::string_view pieces[] = {data};
    this->write_pieces(pieces);
  }
  void writelines(std::span<const std::string_view> list_of_data) override {
    // Fault: writelines-drops-last
    if (this->faults_.writelines_drops_last && !list_of_data.empty()) {
      list_of_data = list_of_data.first(list_of_data.size() - 1);
    }
    check_writable();
    this->write_pieces(list_of_data);
  }
  void write_eof() override {
    if (this->phase_ != Base::Phase::Open || eof_requested_) return;
    eof_requested_ = true;
    if (this->drained()) shutdown_write();
  }
  bool can_write_eof() override { return true; }
  void abort() override {
    if (!this->ending()) this->lose(std::nullopt);
  }

 protected:
  using Base::Base;

  // The backend's half-close: the peer reads end of file. A failure means
  // the peer is gone; the next read or write reports that.
  virtual void shutdown_send() = 0;

 private:
  void on_eof() override {
    auto protocol = this->protocol_;
    bool keep_open = false;
    if (!this->call("eof_received", [&] { keep_open = protocol->eof_received(); })) return;
    // Fault: eof-twice
    if (this->faults_.eof_twice && !this->call("eof_received", [&] { keep_open = protocol->eof_received(); })) return;
    // Fault: empty-data-received
    if (this->faults_.empty_data_received && this->data_protocol_ != nullptr) {
      if (!this->call("data_received", [&] { this->data_protocol_->data_received({}); })) return;
    }
    // Fault: eof-false-stays-open
    if (this->faults_.eof_false_stays_open) keep_open = true;
    // Fault: eof-true-closes
    if (this->faults_.eof_true_closes) keep_open = false;
    if (!keep_open) close();
  }
  void on_drained() override {
    if (this->phase_ == Base::Phase::Closing) return this->lose(close_error_);
    if (eof_requested_) shutdown_write();
  }
  void check_writable() const {
    if (eof_requested_) throw ContractError(Error{"RuntimeError", 0, "Cannot call write() after write_eof()"});
  }
  void shutdown_write() {
    if (shutdown_done_) return;
    shutdown_done_ = true;
    shutdown_send();
  }

  bool eof_requested_ = false;  // write_eof() called
  bool shutdown_done_ = false;
  MaybeError close_error_;  // what close() ends with: nothing (test faults aside)
};

}  // namespace loopspec::kit
