// The reading half of the transports that deliver a byte stream to a
// Protocol or a BufferedProtocol, on uv_read_start/uv_read_stop, or, for a
// handle that is a uv_poll_t (a pty: see pipe_transports.hpp), on
// uv_poll_start/uv_poll_stop and one read(2) per readiness.
//
// Promises beyond kit::StreamReading's (kit/stream_reading.hpp):
// - Reading starts once connection_made returned. libuv asks for a buffer
//   before each read (alloc_cb): a Protocol reads into the loop's 256 KiB
//   buffer and gets data_received; a BufferedProtocol is asked
//   get_buffer(libuv's size hint), libuv reads straight into that buffer and
//   buffer_updated(n) follows. A zero-size buffer is a fatal error
//   (RuntimeError, nothing read). If get_buffer pauses reading or closes the
//   transport, nothing is read into that buffer: libuv gets no buffer, and
//   what get_buffer asked for (stop reading, close the handle) is done in
//   the read_cb that libuv calls right after (endpoint.hpp, begin_busy).
// - A read error loses the transport with the canonical error of its status.
// - End of file (UV_EOF, or an error the derived class counts as one):
//   reading stops for good, then on_eof() decides what follows. A UV_EOF on
//   a socket with an error pending (a reset behind the last bytes read,
//   which libuv takes for a hang-up) loses the transport with that error.
// - After pause_reading() returns nothing is delivered until
//   resume_reading() (uv_read_stop takes effect at once, also between two
//   reads of one readiness).
#pragma once

#include <uv.h>

#include "loopspec/kit/stream_reading.hpp"
#include "loopspec/libuv/endpoint.hpp"

namespace loopspec::libuv {

template <class Interface>
class StreamReading : public kit::StreamReading<Endpoint<Interface, StreamProtocol>> {
  using Base = kit::StreamReading<Endpoint<Interface, StreamProtocol>>;

 protected:
  using Base::Base;

  // Whether a read error means end of file for this kind of descriptor.
  virtual bool is_end_of_file(int /*status*/) const { return false; }

  // kit's, while the handle is open.
  bool wants_reading() const { return Base::wants_reading() && this->stream() != nullptr; }
  void on_lose() override { update_reading(); }
  // Starts or stops libuv's reading to match the state.
  void update_reading() override;

 private:
  static StreamReading& of(uv_handle_t* handle);
  static void on_alloc(uv_handle_t* handle, size_t size_hint, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_readable(uv_poll_t* poll, int status, int events);
  void read_once();
  // SO_ERROR of a socket handle (0 for a pipe, or none pending).
  int pending_socket_error() const;
  uv_buf_t lend_buffer(size_t size_hint);
  void delivered(ssize_t nread, const uv_buf_t& buf);

  bool reading_ = false;                 // uv_read_start (uv_poll_start) in effect
  BufferedProtocol* lent_to_ = nullptr;  // whose buffer the pending read fills (null: the loop's)
};

}  // namespace loopspec::libuv
