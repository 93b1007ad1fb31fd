// Building blocks of the datagram scenarios: an observing DatagramProtocol,
// endpoints of the backend under test, and a datagram peer owned by the
// harness.
//
// Variants: "udp" (IPv4 loopback), "udp+ipv6" (::1), "udp+unix" (Unix
// datagram sockets under the run's temporary directory). Only a Unix
// datagram socket pushes back on a sender (Linux drops UDP on loopback
// instead of blocking), so the scenarios about queued datagrams run there.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/conformance/context.hpp"
#include "peer_thread.hpp"

namespace loopspec::scenarios {

namespace datagram_variants {
inline const std::vector<std::string> kAll{"udp", "udp+ipv6", "udp+unix"};
inline const std::vector<std::string> kInet{"udp", "udp+ipv6"};
inline const std::vector<std::string> kQueueing{"udp+unix"};
}  // namespace datagram_variants

struct ReceivedDatagram {
  std::string data;
  Address from;
};

struct DatagramObservations {
  std::shared_ptr<DatagramTransport> transport;  // the recorded transport given to connection_made
  int made = 0;
  std::vector<ReceivedDatagram> datagrams;
  std::vector<Error> errors;
  int lost = 0;
  MaybeError lost_error;
  int pauses = 0;
  int resumes = 0;
  bool writing_paused() const { return pauses > resumes; }
};

struct DatagramHooks {
  std::function<void()> on_pause;
  std::function<void()> on_resume;
};

class ObservingDatagramProtocol : public DatagramProtocol {
 public:
  ObservingDatagramProtocol(DatagramObservations& seen, DatagramHooks& hooks) : seen_(seen), hooks_(hooks) {}
  void connection_made(std::shared_ptr<BaseTransport> transport) override;
  void datagram_received(std::string_view data, const Address& addr) override;
  void error_received(const Error& exc) override;
  void connection_lost(const MaybeError& exc) override;
  void pause_writing() override;
  void resume_writing() override;

 private:
  DatagramObservations& seen_;
  DatagramHooks& hooks_;
};

// An endpoint of the backend under test with a recorded observing protocol.
struct DatagramEndpoint {
  DatagramObservations seen;
  DatagramHooks hooks;
  std::shared_ptr<DatagramProtocol> protocol;    // the observing protocol, before recording
  std::shared_ptr<DatagramProtocol> recorded;    // what the protocol factory handed the loop
  std::shared_ptr<DatagramTransport> completed;  // what create_datagram_endpoint completed with
  bool made_before_done = false;                 // connection_made had run when it completed
  DatagramTransport& transport() { return *seen.transport; }
};

// create_datagram_endpoint with a recorded observing protocol, waiting for it
// to complete; a failed setup stops the scenario (ScenarioAbort).
std::unique_ptr<DatagramEndpoint> open_endpoint(ScenarioContext& ctx, DatagramOptions options);
// open_endpoint bound to this variant's local address "endpoint", without a remote address.
std::unique_ptr<DatagramEndpoint> open_unconnected_endpoint(ScenarioContext& ctx);

// An address of this variant's family to bind to: 127.0.0.1 or ::1 with port
// 0 (any), or a fresh path `name` in the run's temporary directory.
Address local_address_for(ScenarioContext& ctx, const std::string& name);
bool unix_variant(const ScenarioContext& ctx);
// The address a transport reports as its 'sockname', where peers send to it.
Address sockname_address(DatagramTransport& transport);

// The harness's end: a datagram socket of the variant's family, bound, on a
// thread of its own. It reads (while reading is on) every datagram into
// received(), and sends queued datagrams as the kernel accepts them.
class DatagramPeer : public PeerThread {
 public:
  struct Snapshot {
    std::vector<ReceivedDatagram> received;
    bool reading = true;
    std::size_t send_queue = 0;
    std::vector<int> errors;  // errno of failed sends and receives
  };

  explicit DatagramPeer(ScenarioContext& ctx, const std::string& name);
  ~DatagramPeer() override;

  Address address() const { return address_; }
  Snapshot snapshot() const;

  // Commands, executed in order on the peer thread.
  void send(std::string data, const Address& to);
  void stop_reading();
  void resume_reading();
  // Waits until every command before it is done and the socket was read dry.
  void wait_synced(ScenarioContext& ctx, std::string_view what);

 protected:
  short wanted() override;
  void on_ready(short revents) override;

 private:
  void read_all();
  void send_queued();

  Address address_;
  Snapshot state_;
  std::deque<std::pair<std::string, Address>> queue_;
};

}  // namespace loopspec::scenarios
