// GoogleMock doubles of the contract classes (transports.hpp, protocols.hpp).
//
// Promise: every pure or overridable method of the contract class is mocked,
// so a test can stand a double in for either side of the contract and set
// expectations on it. Unset calls behave as gmock's defaults (zero, false,
// empty, nullptr); wrap in NiceMock / StrictMock as the test needs.
// Header-only; link loopspec_testing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include "loopspec/protocols.hpp"
#include "loopspec/transports.hpp"

namespace loopspec {

// The BaseTransport methods, shared by every transport double.
#define LOOPSPEC_MOCK_BASE_TRANSPORT_METHODS                                                     \
  MOCK_METHOD(std::optional<nlohmann::json>, get_extra_info, (std::string_view name), (override)); \
  MOCK_METHOD(bool, is_closing, (), (override));                                                  \
  MOCK_METHOD(void, close, (), (override));                                                       \
  MOCK_METHOD(void, set_protocol, (std::shared_ptr<BaseProtocol> protocol), (override));          \
  MOCK_METHOD(std::shared_ptr<BaseProtocol>, get_protocol, (), (override))

#define LOOPSPEC_MOCK_READ_TRANSPORT_METHODS        \
  MOCK_METHOD(bool, is_reading, (), (override));    \
  MOCK_METHOD(void, pause_reading, (), (override)); \
  MOCK_METHOD(void, resume_reading, (), (override))

#define LOOPSPEC_MOCK_WRITE_TRANSPORT_METHODS                                                         \
  MOCK_METHOD(void, set_write_buffer_limits,                                                           \
              (std::optional<std::int64_t> high, std::optional<std::int64_t> low), (override));        \
  MOCK_METHOD(WriteBufferLimits, get_write_buffer_limits, (), (override));                             \
  MOCK_METHOD(std::size_t, get_write_buffer_size, (), (override));                                     \
  MOCK_METHOD(void, write, (std::string_view data), (override));                                       \
  MOCK_METHOD(void, writelines, (std::span<const std::string_view> list_of_data), (override));         \
  MOCK_METHOD(void, write_eof, (), (override));                                                        \
  MOCK_METHOD(bool, can_write_eof, (), (override));                                                    \
  MOCK_METHOD(void, abort, (), (override))

class MockTransport : public Transport {
 public:
  LOOPSPEC_MOCK_BASE_TRANSPORT_METHODS;
  LOOPSPEC_MOCK_READ_TRANSPORT_METHODS;
  LOOPSPEC_MOCK_WRITE_TRANSPORT_METHODS;
};

class MockReadTransport : public ReadTransport {
 public:
  LOOPSPEC_MOCK_BASE_TRANSPORT_METHODS;
  LOOPSPEC_MOCK_READ_TRANSPORT_METHODS;
};

class MockWriteTransport : public WriteTransport {
 public:
  LOOPSPEC_MOCK_BASE_TRANSPORT_METHODS;
  LOOPSPEC_MOCK_WRITE_TRANSPORT_METHODS;
};

class MockDatagramTransport : public DatagramTransport {
 public:
  LOOPSPEC_MOCK_BASE_TRANSPORT_METHODS;
  MOCK_METHOD(void, sendto, (std::string_view data, std::optional<Address> addr), (override));
  MOCK_METHOD(void, abort, (), (override));
  MOCK_METHOD(std::size_t, get_write_buffer_size, (), (override));
};

class MockSubprocessTransport : public SubprocessTransport {
 public:
  LOOPSPEC_MOCK_BASE_TRANSPORT_METHODS;
  MOCK_METHOD(int, get_pid, (), (override));
  MOCK_METHOD(std::shared_ptr<BaseTransport>, get_pipe_transport, (int fd), (override));
  MOCK_METHOD(std::optional<int>, get_returncode, (), (override));
  MOCK_METHOD(void, send_signal, (int signal), (override));
  MOCK_METHOD(void, terminate, (), (override));
  MOCK_METHOD(void, kill, (), (override));
};

#undef LOOPSPEC_MOCK_BASE_TRANSPORT_METHODS
#undef LOOPSPEC_MOCK_READ_TRANSPORT_METHODS
#undef LOOPSPEC_MOCK_WRITE_TRANSPORT_METHODS

// The BaseProtocol callbacks, shared by every protocol double.
#define LOOPSPEC_MOCK_BASE_PROTOCOL_METHODS                                                      \
  MOCK_METHOD(void, connection_made, (std::shared_ptr<BaseTransport> transport), (override));    \
  MOCK_METHOD(void, connection_lost, (const MaybeError& exc), (override));                       \
  MOCK_METHOD(void, pause_writing, (), (override));                                              \
  MOCK_METHOD(void, resume_writing, (), (override))

class MockProtocol : public Protocol {
 public:
  LOOPSPEC_MOCK_BASE_PROTOCOL_METHODS;
  MOCK_METHOD(bool, eof_received, (), (override));
  MOCK_METHOD(void, data_received, (std::string_view data), (override));
};

class MockBufferedProtocol : public BufferedProtocol {
 public:
  LOOPSPEC_MOCK_BASE_PROTOCOL_METHODS;
  MOCK_METHOD(bool, eof_received, (), (override));
  MOCK_METHOD(std::span<char>, get_buffer, (std::int64_t sizehint), (override));
  MOCK_METHOD(void, buffer_updated, (std::size_t nbytes), (override));
};

class MockDatagramProtocol : public DatagramProtocol {
 public:
  LOOPSPEC_MOCK_BASE_PROTOCOL_METHODS;
  MOCK_METHOD(void, datagram_received, (std::string_view data, const Address& addr), (override));
  MOCK_METHOD(void, error_received, (const Error& exc), (override));
};

class MockSubprocessProtocol : public SubprocessProtocol {
 public:
  LOOPSPEC_MOCK_BASE_PROTOCOL_METHODS;
  MOCK_METHOD(void, pipe_data_received, (int fd, std::string_view data), (override));
  MOCK_METHOD(void, pipe_connection_lost, (int fd, const MaybeError& exc), (override));
  MOCK_METHOD(void, process_exited, (), (override));
};

#undef LOOPSPEC_MOCK_BASE_PROTOCOL_METHODS

}  // namespace loopspec
