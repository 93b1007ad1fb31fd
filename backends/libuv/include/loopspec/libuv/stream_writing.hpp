// The writing half of the transports that write a byte stream, on
// uv_try_write and uv_write.
//
// Promises:
// - write_pieces(): while nothing is queued, uv_try_write hands the pieces to
//   the kernel at once; what it does not take is copied once into the
//   WriteQueue, and one uv_write at a time (up to 64 queued chunks) sends it
//   from there, oldest first. Only while Open: afterwards data is dropped
//   silently. Empty pieces are skipped.
// - get_write_buffer_size() is every byte accepted and not yet reported
//   written by libuv: the queue, including the bytes of the uv_write in
//   flight until its callback. (libuv's own write_queue_size shrinks inside
//   the poll without a callback; counting it would let the size fall to low
//   with no chance to call resume_writing at that moment.) 0 once ending.
// - A write that fails loses the transport with the canonical error of its
//   status; UV_EAGAIN leaves the data queued.
// - Flow control per WriteFlow: checked after every growth of the queue,
//   after every completed uv_write and in set_write_buffer_limits (both
//   directions there); pause_writing/resume_writing come only between
//   connection_made and connection_lost.
// - Once the queue is empty after a flush (or was empty when one was asked
//   for), on_drained() says what follows (closing, shutting down); never
//   while the transport is ending.
// - lose() drops the queue; bytes in flight stay alive until libuv's
//   callback (UV_ECANCELED once the handle closes) gives them back.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "loopspec/kit/write_flow.hpp"
#include "loopspec/kit/write_queue.hpp"

namespace loopspec::libuv {

template <class Base>
class StreamWriting : public Base {
 public:
  // WriteTransport
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override;
  WriteBufferLimits get_write_buffer_limits() override { return flow_.limits(); }
  std::size_t get_write_buffer_size() override { return this->active() ? queue_.size() : 0; }

 protected:
  using Base::Base;

  // The queue is empty and nothing in flight: what the transport does now.
  virtual void on_drained() = 0;

  void write_pieces(std::span<const std::string_view> pieces);
  // Whether nothing is queued nor in flight.
  bool drained() const { return queue_.empty(); }
  void on_lose() override;

  kit::WriteQueue queue_;
  kit::WriteFlow flow_{this->faults_};

 private:
  // Hands what the kernel takes now to uv_try_write; unsent keeps the rest.
  // False after a fatal error (the transport is lost).
  bool try_write(std::span<uv_buf_t>& unsent);
  void start_write();
  // The protocol hears what WriteFlow says the size now calls for.
  void check_flow();
  static void on_written(uv_write_t* request, int status);
  void written(int status);

  uv_write_t write_request_{};
  std::size_t in_flight_ = 0;  // bytes at the head of queue_ that libuv is writing
};

}  // namespace loopspec::libuv
