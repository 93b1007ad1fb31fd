// The reading half of the transports that deliver a byte stream to a
// Protocol or a BufferedProtocol: Asio's reactor-style reading,
// async_wait(wait_read) and then one non-blocking read_some per readiness.
//
// Why not async_read_some: once an async_read_some is started, the bytes it
// reads are delivered to its handler whatever the transport was told in the
// meantime; a pause_reading() called after the kernel handed them over
// could only hold them back in a second buffer, and a BufferedProtocol would
// have to lend its buffer (get_buffer) long before the bytes arrive, for a
// read the transport might no longer want. Waiting for readiness and reading
// then keeps every decision at the moment of the read.
//
// Promises:
// - set_protocol() takes a Protocol or a BufferedProtocol (TypeError
//   otherwise); once connection_lost was delivered it is ignored.
// - Reading starts once connection_made returned: while the transport wants
//   to read (open, not paused, no end of file yet) one async_wait(wait_read)
//   is outstanding. Its completion schedules the read (asyncio's
//   _read_ready): a Protocol reads into the loop's 256 KiB buffer and gets
//   data_received; a BufferedProtocol is asked get_buffer(-1) and the read
//   goes straight into that buffer, then buffer_updated(n). A zero-size
//   buffer is a fatal error (RuntimeError, nothing read). If get_buffer
//   paused reading or closed the transport, nothing is read.
// - A read error loses the transport with the canonical error of its errno.
// - End of file (read_some's eof, or an error the derived class counts as
//   one): reading stops for good, then on_eof() decides what follows.
// - pause_reading()/resume_reading() are idempotent and no-ops once closing;
//   after pause_reading() returns nothing is delivered until
//   resume_reading(): a wait that completes while paused reads nothing (it
//   is not cancelled: cancelling would cancel the socket's write too), and
//   resume_reading() starts a wait unless one is still outstanding.
//   is_reading() is true while open and not paused.
#pragma once

#include "loopspec/asio/endpoint.hpp"

namespace loopspec::asio {

template <class Interface, class Handle>
class StreamReading : public Endpoint<Interface, StreamProtocol, Handle> {
  using Base = Endpoint<Interface, StreamProtocol, Handle>;

 public:
  // BaseTransport
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  // ReadTransport
  bool is_reading() override { return this->phase_ == Base::Phase::Open && !paused_; }
  void pause_reading() override { set_paused(true); }
  void resume_reading() override { set_paused(false); }

 protected:
  using Base::Base;

  // End of file was read; reading has stopped for good.
  virtual void on_eof() = 0;
  // Whether a read error means end of file for this kind of descriptor.
  virtual bool is_end_of_file(const boost::system::error_code& /*ec*/) const { return false; }

  bool wants_reading() const;
  void on_connection_made() override { update_reading(); }
  void on_released() override;
  void set_paused(bool paused);
  // Starts a wait for readability when the state wants one and none is outstanding.
  void update_reading();

  Protocol* data_protocol_ = nullptr;              // protocol_ as a Protocol, or null
  BufferedProtocol* buffered_protocol_ = nullptr;  // protocol_ as a BufferedProtocol, or null
  bool paused_ = false;                            // pause_reading() in effect
  bool eof_seen_ = false;                          // end of file was read

 private:
  void readable(const boost::system::error_code& ec);
  void read_once();

  bool waiting_ = false;  // an async_wait(wait_read) or its scheduled completion is outstanding
};

}  // namespace loopspec::asio
