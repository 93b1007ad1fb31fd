// The part of an event loop that the kit's transports and TLS layer need,
// whatever drives the I/O (epoll, Boost.Asio, libuv).
//
// Promises:
// - report_exception hands an exception of a callback or a protocol to the
//   exception handler (default: one line on stderr naming the loop and the
//   context); the loop goes on.
// - read_buffer() is one receive buffer per loop (kReadBufferSize bytes and a
//   spare byte in front, which the data-after-eof fault uses), valid until
//   the next read on the same loop: a loop runs one callback at a time, so
//   every connection can share it.
// - faults() is the test-only deviation switch this loop was made with
//   (faults.hpp); with none chosen every flag is off.
// - complete_with_error runs a setup's completion with its error from a
//   scheduled callback, so `done` never runs inside the call that started
//   the setup.
// - subprocess_shell is subprocess_exec of /bin/sh -c command.
//   start_subprocess is what every subprocess_exec does first: the protocol
//   from the factory, then start(protocol, done); a factory that throws or
//   returns no protocol, or a start that throws, completes `done` with the
//   canonical error (scheduled).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/faults.hpp"

namespace loopspec::kit {

class LoopBase : public EventLoop {
 public:
  using ExceptionHandler = std::function<void(std::string_view context, const Error& error)>;
  static constexpr std::size_t kReadBufferSize = 256 * 1024;

  // name: how the default exception handler introduces the loop ("loopspec reference loop").
  LoopBase(std::string name, Faults faults);

  void set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }
  void report_exception(std::string_view context, const Error& error);

  const Faults& faults() const { return faults_; }
  std::span<char> read_buffer() { return {read_buffer_.get(), kReadBufferSize + 1}; }

  template <class T>
  void complete_with_error(Completion<T> done, Error error) {
    call_soon([done = std::move(done), error = std::move(error)] { done(Outcome<T>{nullptr, error}); });
  }

  void subprocess_shell(SubprocessProtocolFactory factory, std::string command, SubprocessOptions options,
                        Completion<SubprocessTransport> done) override;

 protected:
  using ChildStart = std::function<void(std::shared_ptr<SubprocessProtocol>, Completion<SubprocessTransport>)>;
  void start_subprocess(const SubprocessProtocolFactory& factory, Completion<SubprocessTransport> done,
                        const ChildStart& start);

 private:
  std::string name_;
  Faults faults_;
  std::unique_ptr<char[]> read_buffer_;
  ExceptionHandler exception_handler_;
};

}  // namespace loopspec::kit
