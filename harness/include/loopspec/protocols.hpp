// The protocol classes of asyncio's "Transports and Protocols" page, in C++.
//
// Callback order (spec/rules proto.*):
//   Protocol:          connection_made  data_received*  eof_received?  connection_lost
//   BufferedProtocol:  connection_made  (get_buffer buffer_updated?)*  eof_received?  connection_lost
//   DatagramProtocol:  connection_made  (datagram_received | error_received)*  connection_lost
//   SubprocessProtocol: connection_made  (pipe_data_received | pipe_connection_lost |
//                      process_exited)*  connection_lost
// pause_writing/resume_writing alternate, starting with pause_writing, between
// connection_made and connection_lost.
// Default implementations do nothing (eof_received returns false), as in asyncio.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "loopspec/address.hpp"
#include "loopspec/error.hpp"

namespace loopspec {

class BaseTransport;

class BaseProtocol {
 public:
  virtual ~BaseProtocol() = default;
  // The transport's dynamic type tells its kind: Transport (stream socket),
  // ReadTransport/WriteTransport (pipes), DatagramTransport, SubprocessTransport.
  virtual void connection_made(std::shared_ptr<BaseTransport> transport) {}
  // exc is nullopt on a regular EOF or close().
  virtual void connection_lost(const MaybeError& exc) {}
  virtual void pause_writing() {}
  virtual void resume_writing() {}
};

// What Protocol and BufferedProtocol share: a byte stream and its EOF.
class StreamProtocol : public BaseProtocol {
 public:
  // true keeps the transport half-open; false (the default) lets it close.
  virtual bool eof_received() { return false; }
};

class Protocol : public StreamProtocol {
 public:
  virtual void data_received(std::string_view data) {}
};

class BufferedProtocol : public StreamProtocol {
 public:
  // A writable buffer of any non-zero size; sizehint is advisory (-1: no hint).
  virtual std::span<char> get_buffer(std::int64_t sizehint) = 0;
  // nbytes (> 0, <= the buffer's size) were written at the start of the buffer.
  virtual void buffer_updated(std::size_t nbytes) = 0;
};

class DatagramProtocol : public BaseProtocol {
 public:
  virtual void datagram_received(std::string_view data, const Address& addr) {}
  virtual void error_received(const Error& exc) {}
};

class SubprocessProtocol : public BaseProtocol {
 public:
  virtual void pipe_data_received(int fd, std::string_view data) {}
  virtual void pipe_connection_lost(int fd, const MaybeError& exc) {}
  virtual void process_exited() {}
};

}  // namespace loopspec
