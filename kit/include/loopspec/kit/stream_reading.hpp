// What the transports that deliver a byte stream to a Protocol or a
// BufferedProtocol share, whatever reads the bytes: the protocol's kind and
// the reading state. Base: the backend's endpoint (a kit::Endpoint over
// StreamProtocol, endpoint.hpp); the backend reads.
//
// Promises:
// - set_protocol() takes a Protocol or a BufferedProtocol (TypeError
//   otherwise); once connection_lost was delivered it is ignored.
//   data_protocol_ or buffered_protocol_ is the protocol as its kind, both
//   null once it is let go of.
// - pause_reading()/resume_reading() are idempotent and no-ops once closing;
//   each change, and connection_made's return, goes to update_reading(), the
//   backend's start or stop of reading. is_reading() is true while open and
//   not paused.
// - wants_reading(): open, connection_made delivered, not paused, and no end
//   of file read yet (eof_seen_, set by the backend before on_eof()).
#pragma once

#include <memory>

#include "loopspec/protocols.hpp"

namespace loopspec::kit {

template <class Base>
class StreamReading : public Base {
 public:
  // BaseTransport
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override {
    // The reads go where the protocol's kind says: its own buffer or data_received.
    auto* buffered = dynamic_cast<BufferedProtocol*>(protocol.get());
    auto* data = buffered != nullptr ? nullptr : dynamic_cast<Protocol*>(protocol.get());
    if (buffered == nullptr && data == nullptr) throw ContractError(this->wrong_protocol());
    if (this->adopt_protocol(std::static_pointer_cast<StreamProtocol>(std::move(protocol)))) {
      buffered_protocol_ = buffered;
      data_protocol_ = data;
    }
  }
  // ReadTransport
  bool is_reading() override { return this->phase_ == Base::Phase::Open && !paused_; }
  void pause_reading() override { set_paused(true); }
  void resume_reading() override { set_paused(false); }

 protected:
  using Base::Base;

  // End of file was read; reading has stopped for good.
  virtual void on_eof() = 0;
  // Starts or stops the backend's reading to match the state.
  virtual void update_reading() = 0;

  bool wants_reading() const {
    return this->phase_ == Base::Phase::Open && this->made_ && !paused_ && !eof_seen_;
  }
  void on_connection_made() override { update_reading(); }
  void on_released() override {
    buffered_protocol_ = nullptr;
    data_protocol_ = nullptr;
  }
  void set_paused(bool paused) {
    // Idempotent, and nothing to do once closing.
    if (this->phase_ == Base::Phase::Open && paused_ != paused) {
      paused_ = paused;
      update_reading();
    }
  }

  Protocol* data_protocol_ = nullptr;              // protocol_ as a Protocol, or null
  BufferedProtocol* buffered_protocol_ = nullptr;  // protocol_ as a BufferedProtocol, or null
  bool paused_ = false;                            // pause_reading() in effect
  bool eof_seen_ = false;                          // end of file was read
};

}  // namespace loopspec::kit
