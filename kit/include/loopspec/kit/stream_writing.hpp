// The writing half of the transports that write a byte stream, over two
// primitives of the backend's I/O object: write_now, a non-blocking gather
// write of what the kernel takes at once, and start_send, one asynchronous
// write of queued bytes whose end the backend reports through written().
// Base is the backend's endpoint (a kit::Endpoint, endpoint.hpp).
//
// Promises:
// - write_pieces(): while nothing is queued, write_now hands the pieces to
//   the kernel at once (up to kMaxBuffers per call); what it does not take
//   is copied once into the WriteQueue, and one send at a time (up to
//   kMaxBuffers queued chunks, pointed at, not copied) sends it from there,
//   oldest first. Only while Open: afterwards data is dropped silently.
//   Never SIGPIPE: the writes it starts run under a kit::SigpipeGuard (the
//   sends that finish later run in the loop, which guards its whole run).
//   Empty pieces are skipped.
// - get_write_buffer_size() is every byte accepted and not yet reported
//   written: the queue, including the bytes of the send in flight until
//   written(). 0 once ending.
// - A write that fails loses the transport with its error; one that would
//   block leaves the data queued.
// - Flow control per WriteFlow: checked after every growth of the queue,
//   after every completed send and in set_write_buffer_limits (both
//   directions there); pause_writing/resume_writing come only between
//   connection_made and connection_lost.
// - Once the queue is empty after a send (or was empty when one was asked
//   for), on_drained() says what follows (closing, shutting down); never
//   while the transport is ending.
// - lose() drops the queue; the bytes of a send in flight stay where they
//   are until written() gives them back.
// The definitions are in stream_writing_impl.hpp, for the backend's explicit
// instantiations.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "loopspec/error.hpp"
#include "loopspec/kit/write_flow.hpp"
#include "loopspec/kit/write_queue.hpp"

namespace loopspec::kit {

template <class Base>
class StreamWriting : public Base {
 public:
  // WriteTransport
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override;
  WriteBufferLimits get_write_buffer_limits() override { return flow_.limits(); }
  std::size_t get_write_buffer_size() override { return this->active() ? queue_.size() : 0; }

 protected:
  static constexpr std::size_t kMaxBuffers = 64;  // per write_now or send

  using Base::Base;

  // The queue is empty and nothing in flight: what the transport does now.
  virtual void on_drained() = 0;

  // The backend's primitives. write_now: what the kernel takes of batch now,
  // without blocking (0: it would block), or 0 and the error that loses the
  // transport.
  virtual std::size_t write_now(std::span<const iovec> batch, MaybeError& error) = 0;
  // start_send: one write of chunks (they point into queue_, which keeps
  // them until written()); true when started, and written() follows; false
  // when not, with the error that loses the transport, if any.
  virtual bool start_send(std::span<const iovec> chunks, MaybeError& error) = 0;
  // The send ended: no error when all of it was written.
  void written(const MaybeError& error);

  void write_pieces(std::span<const std::string_view> pieces);
  // Whether nothing is queued nor in flight.
  bool drained() const { return queue_.empty(); }
  void on_lose() override;

  WriteQueue queue_;
  WriteFlow flow_{this->faults_};

 private:
  // Hands what the kernel takes now to write_now; unsent keeps the rest.
  // False after a fatal error (the transport is lost).
  bool try_write(std::span<iovec>& unsent);
  void start_write();
  // The protocol hears what WriteFlow says the size now calls for.
  void check_flow();

  std::size_t in_flight_ = 0;  // bytes at the head of queue_ that the send in flight is writing
};

}  // namespace loopspec::kit
