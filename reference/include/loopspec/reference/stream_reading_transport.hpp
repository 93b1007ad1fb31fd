// The reading half shared by the transports that deliver a byte stream to a
// Protocol or a BufferedProtocol: stream sockets and read pipes.
//
// Promises:
// - set_protocol() takes a Protocol or a BufferedProtocol (TypeError
//   otherwise); once connection_lost was delivered it is ignored.
// - Reading starts once connection_made returned. One read per readiness:
//   a Protocol gets data_received from the loop's 256 KiB buffer; a
//   BufferedProtocol gets get_buffer(-1), the read goes straight into its
//   buffer, then buffer_updated(n). A zero-size buffer is a fatal error
//   (RuntimeError, nothing read). If get_buffer pauses reading or closes the
//   transport, nothing is read into that buffer.
// - A read that fails loses the transport with the errno's canonical error;
//   one that would block delivers nothing.
// - End of file (a read of 0 bytes, or an error the derived class counts as
//   one): reading stops for good, then on_eof() decides what follows.
// - pause_reading()/resume_reading() are idempotent and no-ops once closing;
//   after pause_reading() returns nothing is delivered until resume_reading().
//   is_reading() is true while open and not paused.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "loopspec/reference/descriptor_transport.hpp"

namespace loopspec::reference {

template <class Interface>
class StreamReadingTransport : public DescriptorTransport<Interface, StreamProtocol> {
  using Base = DescriptorTransport<Interface, StreamProtocol>;

 public:
  // BaseTransport
  void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
  // ReadTransport
  bool is_reading() override { return this->phase_ == Base::Phase::Open && !paused_; }
  void pause_reading() override;
  void resume_reading() override;
  // FdWatcher
  void on_readable() override;

 protected:
  using Base::Base;

  // One read of the descriptor: bytes read, or -1 with errno.
  virtual ssize_t read_some(std::span<char> into) = 0;
  // Whether a read error means end of file for this kind of descriptor.
  virtual bool is_end_of_file(int /*err*/) { return false; }
  // End of file was read; reading has stopped for good.
  virtual void on_eof() = 0;

  void on_connection_made() override { update_reading(); }
  void on_released() override;
  void update_reading();

  // One read; nullopt when there is nothing to deliver (would block, or an
  // error that already lost the transport). 0 is end of file.
  std::optional<std::size_t> receive(std::span<char> into);
  void read_into_loop_buffer();
  void read_into_protocol_buffer();
  void end_of_file();

  Protocol* data_protocol_ = nullptr;              // protocol_ as a Protocol, or null
  BufferedProtocol* buffered_protocol_ = nullptr;  // protocol_ as a BufferedProtocol, or null
  bool paused_ = false;                            // pause_reading() in effect
  bool eof_seen_ = false;                          // end of file was read
};

}  // namespace loopspec::reference
