// The writing half of the transports that write a byte stream: a
// non-blocking write_some at once, then one async_write at a time for what
// the kernel did not take.
//
// Promises:
// - write_pieces(): while nothing is queued, write_some (a gather write of
//   up to 64 pieces) hands the pieces to the kernel at once; what it does not
//   take is copied once into the WriteQueue, and one async_write at a time
//   (up to 64 queued chunks, pointed at, not copied) sends it from there,
//   oldest first. Only while Open: afterwards data is dropped silently.
//   Empty pieces are skipped.
// - get_write_buffer_size() is every byte accepted and not yet reported
//   written: the queue, including the bytes of the async_write in flight
//   until its completion. 0 once ending.
// - A write that fails loses the transport with the canonical error of its
//   errno (EPIPE: BrokenPipeError); would-block leaves the data queued.
// - Flow control per kit::WriteFlow: checked after every growth of the
//   queue, after every completed async_write and in set_write_buffer_limits
//   (both directions there); pause_writing/resume_writing come only between
//   connection_made and connection_lost.
// - Once the queue is empty after a flush (or was empty when one was asked
//   for), on_drained() says what follows (closing, shutting down); never
//   while the transport is ending.
// - lose() drops the queue; bytes in flight stay alive until Asio's
//   completion (operation_aborted once the I/O object is closed) gives them back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include "loopspec/asio/asio_loop.hpp"

#include "loopspec/kit/write_flow.hpp"
#include "loopspec/kit/write_queue.hpp"

namespace loopspec::asio {

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
  // Hands what the kernel takes now to write_some; unsent keeps the rest.
  // False after a fatal error (the transport is lost).
  bool try_write(std::span<net::const_buffer>& unsent);
  void start_write();
  // The protocol hears what WriteFlow says the size now calls for.
  void check_flow();
  void written(const boost::system::error_code& ec);

  std::size_t in_flight_ = 0;  // bytes at the head of queue_ that async_write is writing
};

}  // namespace loopspec::asio
