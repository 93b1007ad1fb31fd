// The load side of the echo soak: a raw-epoll client, independent of every
// loop under test, that keeps `connections` TCP connections to 127.0.0.1:port
// each with one message of `message_bytes` in flight (closed loop), for
// `seconds` from the moment all are connected.
//
// Promises:
// - Every message differs (its bytes come from the connection's index and
//   the message's sequence number), so an echo lost, duplicated, reordered or
//   mixed up with another connection's shows as a mismatch.
// - Each echoed byte is compared with the byte sent at that position; bytes
//   beyond the message in flight, or after the last one, count as
//   unexpected. Each connection also digests (loopspec::Digest) what it sent
//   and what came back, for the server's side to compare.
// - When the time is up each connection finishes its message in flight,
//   half-closes (shutdown SHUT_WR) and waits for the server's end of file;
//   the report is written once every connection ended or after `seconds` +
//   `grace_seconds` (the ones still open are reported unfinished).
// - Descriptors: the soft RLIMIT_NOFILE is raised to the hard limit; a
//   connect that fails is counted (connect_failures), not retried.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace loopspec::reliability {

struct EchoClientOptions {
  std::uint16_t port = 0;
  std::size_t connections = 100;
  double seconds = 5.0;
  std::size_t message_bytes = 1024;
  double grace_seconds = 60.0;
};

struct EchoConnectionReport {
  std::uint16_t local_port = 0;
  std::uint64_t messages = 0;  // round trips completed
  std::uint64_t sent_bytes = 0;
  std::uint64_t echoed_bytes = 0;
  std::uint64_t sent_digest = 0;
  std::uint64_t echoed_digest = 0;
  std::uint64_t mismatched_bytes = 0;   // echoed, but not the byte sent there
  std::uint64_t unexpected_bytes = 0;   // echoed beyond what was sent
  bool finished = false;                // the server's end of file came after the last echo
  std::string error;                    // a read or write that failed
};

struct EchoClientReport {
  std::size_t connect_failures = 0;
  std::string first_connect_error;
  double connect_seconds = 0;  // until all were connected
  double load_seconds = 0;     // from all connected to the last end of file
  std::vector<EchoConnectionReport> connections;
};

EchoClientReport run_echo_client(const EchoClientOptions& options);

nlohmann::json to_json(const EchoClientReport& report);
// Throws std::runtime_error naming the field that is missing or malformed.
EchoClientReport echo_client_report_from_json(const nlohmann::json& json);

}  // namespace loopspec::reliability
