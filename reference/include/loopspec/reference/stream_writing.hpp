// The writing half shared by the transports that write a byte stream: stream
// sockets and write pipes. It is layered on a DescriptorTransport (Base):
//   StreamWriting<StreamReadingTransport<Transport>>              stream sockets
//   StreamWriting<DescriptorTransport<WriteTransport, BaseProtocol>>  write pipes
//
// Promises:
// - write_pieces(): while nothing is queued the pieces go to the kernel at
//   once, as gathers of up to 64 pieces, until it takes no more; the rest is
//   copied once into the WriteQueue and written from there, oldest first,
//   when the descriptor is writable. Only while Open: afterwards data is
//   dropped silently. Empty pieces are skipped.
// - A write that fails for good loses the transport with the errno's
//   canonical error; one that would block leaves the data queued.
// - Flow control per WriteFlow: checked after every growth of the queue,
//   after every drain and in set_write_buffer_limits (both directions there).
// - Once the queue is empty after a flush (or was empty when one was asked
//   for), writing interest goes off and on_drained() says what follows
//   (closing, shutting down); never while the transport is ending.
// - lose() and release() drop the queue.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "loopspec/kit/write_flow.hpp"
#include "loopspec/kit/write_queue.hpp"

struct iovec;

namespace loopspec::reference {

template <class Base>
class StreamWriting : public Base {
 public:
  // WriteTransport
  void set_write_buffer_limits(std::optional<std::int64_t> high, std::optional<std::int64_t> low) override;
  WriteBufferLimits get_write_buffer_limits() override { return flow_.limits(); }
  std::size_t get_write_buffer_size() override { return queue_.size(); }
  // FdWatcher
  void on_writable() override { flush(); }

 protected:
  using Base::Base;

  // One gather write to the descriptor, never raising SIGPIPE: bytes
  // written, or -1 with errno.
  virtual ssize_t write_gather(const iovec* iov, std::size_t count) = 0;
  // The queue is empty and writing interest off: what the transport does now.
  virtual void on_drained() = 0;

  // newest_first queues the pieces ahead of the queue's unsent chunks (the
  // writev-reorder fault only).
  void write_pieces(std::span<const std::string_view> pieces, bool newest_first = false);
  void flush();
  void drop_queued_output() override { queue_.clear(); }

  kit::WriteQueue queue_;
  kit::WriteFlow flow_{this->faults_};

 private:
  // Writes what the kernel takes now; advances (index, offset). False after a fatal error.
  bool write_now(std::span<const std::string_view> pieces, std::size_t& index, std::size_t& offset);
};

}  // namespace loopspec::reference
