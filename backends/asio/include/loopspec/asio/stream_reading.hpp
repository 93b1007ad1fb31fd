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
// Promises beyond kit::StreamReading's (kit/stream_reading.hpp):
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
// - After pause_reading() returns nothing is delivered until
//   resume_reading(): a wait that completes while paused reads nothing (it
//   is not cancelled: cancelling would cancel the socket's write too), and
//   resume_reading() starts a wait unless one is still outstanding.
#pragma once

#include "loopspec/asio/endpoint.hpp"
#include "loopspec/kit/stream_reading.hpp"

namespace loopspec::asio {

template <class Interface, class Handle>
class StreamReading : public kit::StreamReading<Endpoint<Interface, StreamProtocol, Handle>> {
  using Base = kit::StreamReading<Endpoint<Interface, StreamProtocol, Handle>>;

 protected:
  using Base::Base;

  // Whether a read error means end of file for this kind of descriptor.
  virtual bool is_end_of_file(const boost::system::error_code& /*ec*/) const { return false; }
  // Starts a wait for readability when the state wants one and none is outstanding.
  void update_reading() override;

 private:
  void readable(const boost::system::error_code& ec);
  void read_once();

  bool waiting_ = false;  // an async_wait(wait_read) or its scheduled completion is outstanding
};

}  // namespace loopspec::asio
