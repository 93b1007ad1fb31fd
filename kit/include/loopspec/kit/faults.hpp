// Test-only deviations of the in-process backends ("faults").
//
// Each fault breaks exactly the contract rule named in its catalogue entry, so
// the conformance suite can prove that it notices the breakage. Promises:
// - Every fault is off unless chosen by name (BackendOptions::fault); a name
//   the backend does not offer throws std::invalid_argument listing the ones
//   it does.
// - Each fault is one flag of Faults, consulted at the spot that deviates and
//   nowhere else; that spot carries a "Fault: <name>" comment. A backend
//   offers (in its BackendInfo) exactly the faults its code consults.
// - With no fault chosen a backend follows the contract as far as it can.
#pragma once

#include <string_view>
#include <vector>

#include "loopspec/backend.hpp"

namespace loopspec::kit {

struct Faults {
  bool pause_at_high = false;
  bool never_pause = false;
  bool pause_repeated = false;
  bool resume_below_low = false;
  bool resume_early = false;
  bool eof_twice = false;
  bool data_after_eof = false;
  bool close_drops_buffer = false;
  bool abort_without_lost = false;
  bool pause_reading_ignored = false;
  bool resume_reading_noop = false;
  bool eof_false_stays_open = false;
  bool eof_true_closes = false;
  bool limits_unchecked = false;
  bool high_zero_keeps_low = false;
  bool not_closing_after_close = false;
  bool lost_twice = false;
  bool write_eof_before_flush = false;
  bool writev_reorder = false;
  bool writelines_drops_last = false;
  bool empty_data_received = false;
  bool pause_reading_raises_twice = false;
  bool buffer_size_zero = false;
  bool lost_error_on_close = false;
  // Datagram endpoints.
  bool dgram_split = false;
  bool dgram_error_closes = false;
  bool dgram_abort_flushes = false;
  bool dgram_wrong_sender = false;
  bool dgram_enobufs_closes = false;
  // Pipes.
  bool pipe_no_eof = false;
  bool pipe_write_eof_keeps_open = false;
  bool pipe_reader_gone_none = false;
  bool pipe_abort_flushes = false;
  // Subprocesses.
  bool proc_exited_twice = false;
  bool proc_lost_before_exit = false;
  bool proc_parent_fd = false;
  bool proc_terminate_kills = false;
  bool proc_close_no_kill = false;
  // TLS.
  bool tls_eof_true_keeps_open = false;
  bool tls_lost_without_made = false;
  bool tls_cipher_without_bits = false;
  bool tls_claims_write_eof = false;
  bool tls_skips_verification = false;
  bool tls_delivers_while_paused = false;
  bool tls_writes_plaintext = false;
  bool tls_no_handshake_timeout = false;
  bool tls_ignores_alpn = false;
  bool tls_close_without_notify = false;
  bool tls_no_shutdown_timeout = false;
  bool tls_compression_empty = false;

  bool operator==(const Faults&) const = default;
};

// Every fault, in catalogue order: name, description and the rule it breaks.
const std::vector<Fault>& fault_catalogue();

// The catalogue entries with these names, in catalogue order (a backend's offer);
// throws std::logic_error for a name not in the catalogue.
std::vector<Fault> faults_named(const std::vector<std::string_view>& names);

// The catalogue entries of the faults the kit's own code consults (WriteFlow's
// and the TLS layer's) and of `own`, in catalogue order: the offer of a
// backend whose writes go through kit::WriteFlow and whose TLS is the kit's.
std::vector<Fault> kit_faults_and(const std::vector<std::string_view>& own);

// The flags for a fault name among those `backend` offers; "" selects none.
// Throws std::invalid_argument naming the backend and its faults otherwise.
Faults faults_from_name(std::string_view name, const BackendInfo& backend);

}  // namespace loopspec::kit
