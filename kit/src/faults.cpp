#include "loopspec/kit/faults.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace loopspec::kit {

namespace {

struct FaultEntry {
  Fault fault;
  bool Faults::*flag;
};

// The single table behind fault_catalogue() and faults_from_name().
const std::vector<FaultEntry>& fault_table() {
  static const std::vector<FaultEntry> table = {
      {{"pause-at-high", "pause_writing is called when the buffer size reaches high (>=), not only when it goes over",
        "flow.pause.strictly-over-high"},
       &Faults::pause_at_high},
      {{"never-pause", "pause_writing is never called", "flow.pause.when-over-high"}, &Faults::never_pause},
      {{"pause-repeated", "pause_writing is called on every buffer growth while over high, even when already paused",
        "flow.pairing.alternate"},
       &Faults::pause_repeated},
      {{"resume-below-low", "resume_writing only once the buffer size is strictly below low",
        "flow.resume.when-at-or-below-low"},
       &Faults::resume_below_low},
      {{"resume-early", "resume_writing as soon as the buffer size is at or below high", "flow.resume.at-or-below-low"},
       &Faults::resume_early},
      {{"eof-twice", "eof_received is delivered twice", "proto.eof.at-most-once"}, &Faults::eof_twice},
      {{"data-after-eof", "the last byte of the stream is held back and delivered after eof_received",
        "proto.data.not-after-eof"},
       &Faults::data_after_eof},
      {{"close-drops-buffer", "close() discards the write buffer instead of flushing it",
        "transport.close.flushes-buffer"},
       &Faults::close_drops_buffer},
      {{"abort-without-lost", "abort() closes the socket without calling connection_lost",
        "write.abort.connection-lost"},
       &Faults::abort_without_lost},
      {{"pause-reading-ignored", "pause_reading() reports paused but keeps delivering data",
        "read.pause.no-data-while-paused"},
       &Faults::pause_reading_ignored},
      {{"resume-reading-noop", "resume_reading() reports reading but never delivers data again",
        "read.resume.delivers-pending"},
       &Faults::resume_reading_noop},
      {{"eof-false-stays-open", "eof_received returning false leaves the transport open", "proto.eof.false-closes"},
       &Faults::eof_false_stays_open},
      {{"eof-true-closes", "eof_received returning true closes the transport anyway", "proto.eof.true-half-open"},
       &Faults::eof_true_closes},
      {{"limits-unchecked", "set_write_buffer_limits accepts low > high", "write.limits.validation"},
       &Faults::limits_unchecked},
      {{"high-zero-keeps-low", "set_write_buffer_limits(high=0) keeps the previous low",
        "write.limits.high-zero-forces-low-zero"},
       &Faults::high_zero_keeps_low},
      {{"not-closing-after-close", "is_closing() stays false after close() and abort()",
        "transport.closing.after-close"},
       &Faults::not_closing_after_close},
      {{"lost-twice", "close() after abort() delivers connection_lost a second time", "proto.order.lost-once"},
       &Faults::lost_twice},
      {{"write-eof-before-flush", "write_eof() shuts down at once, discarding the write buffer",
        "write.eof.flushes-then-shuts-down"},
       &Faults::write_eof_before_flush},
      {{"writev-reorder", "queued chunks are sent newest first", "write.data.in-order"}, &Faults::writev_reorder},
      {{"writelines-drops-last", "writelines() drops its last element", "write.writelines.equivalent"},
       &Faults::writelines_drops_last},
      {{"empty-data-received", "a zero-length data_received is delivered before eof_received", "proto.data.non-empty"},
       &Faults::empty_data_received},
      {{"pause-reading-raises-twice", "pause_reading() raises RuntimeError when already paused",
        "read.pause.idempotent"},
       &Faults::pause_reading_raises_twice},
      {{"buffer-size-zero", "get_write_buffer_size() always answers 0", "write.buffer-size.reports-buffered"},
       &Faults::buffer_size_zero},
      {{"lost-error-on-close", "close() ends with connection_lost(OSError) instead of connection_lost(None)",
        "proto.connection-lost.none-on-close"},
       &Faults::lost_error_on_close},
      {{"dgram-split", "a datagram longer than one byte is delivered as two datagram_received calls",
        "datagram.received.whole-datagram"},
       &Faults::dgram_split},
      {{"dgram-error-closes", "an OSError of a datagram send or receive ends the endpoint with connection_lost(exc) "
        "instead of reaching error_received",
        "datagram.error.reported"},
       &Faults::dgram_error_closes},
      {{"dgram-abort-flushes", "DatagramTransport.abort() sends the queued datagrams before closing, like close()",
        "datagram.abort.discards-buffer"},
       &Faults::dgram_abort_flushes},
      {{"dgram-wrong-sender", "datagram_received gets the endpoint's own address instead of the sender's",
        "datagram.received.sender-address"},
       &Faults::dgram_wrong_sender},
      {{"dgram-enobufs-closes", "the first datagram send fails with a simulated ENOBUFS, which ends the endpoint "
        "instead of only reaching error_received",
        "datagram.enobufs.reported-and-ignored"},
       &Faults::dgram_enobufs_closes},
      {{"pipe-no-eof", "a read pipe at end of file goes straight to connection_lost, without eof_received",
        "proto.eof.on-peer-shutdown"},
       &Faults::pipe_no_eof},
      {{"pipe-write-eof-keeps-open", "write_eof() on a write pipe writes the queue but never closes the pipe",
        "write.eof.flushes-then-shuts-down"},
       &Faults::pipe_write_eof_keeps_open},
      {{"pipe-reader-gone-none", "a write pipe whose reader goes away with data queued reports connection_lost(None)",
        "proto.connection-lost.error-on-failure"},
       &Faults::pipe_reader_gone_none},
      {{"pipe-abort-flushes", "abort() on a write pipe writes the queue before closing, like close()",
        "write.abort.discards-buffer"},
       &Faults::pipe_abort_flushes},
      {{"proc-exited-twice", "process_exited is delivered twice", "subprocess.exited.called"},
       &Faults::proc_exited_twice},
      {{"proc-lost-before-exit", "connection_lost comes as soon as every pipe closed, before process_exited",
        "subprocess.connection-lost.last"},
       &Faults::proc_lost_before_exit},
      {{"proc-parent-fd", "pipe_data_received gets the parent's descriptor number instead of the child's 1 or 2",
        "subprocess.pipe-data.fd"},
       &Faults::proc_parent_fd},
      {{"proc-terminate-kills", "terminate() sends SIGKILL instead of SIGTERM", "subprocess.terminate.sigterm"},
       &Faults::proc_terminate_kills},
      {{"proc-close-no-kill", "close() closes the pipes but leaves a running child running", "subprocess.close.kills"},
       &Faults::proc_close_no_kill},
      {{"tls-eof-true-keeps-open", "a TLS transport whose protocol's eof_received returns true stays open",
        "proto.eof.true-closes-without-half-close"},
       &Faults::tls_eof_true_keeps_open},
      {{"tls-lost-without-made", "a failed TLS handshake calls the application protocol's connection_lost",
        "proto.setup.no-lost-without-made"},
       &Faults::tls_lost_without_made},
      {{"tls-cipher-without-bits", "get_extra_info('cipher') leaves out the number of secret bits",
        "transport.extra-info.ssl-cipher-triple"},
       &Faults::tls_cipher_without_bits},
      {{"tls-claims-write-eof", "a TLS transport's can_write_eof() answers true, yet write_eof() raises",
        "write.eof.can-write-eof-consistent"},
       &Faults::tls_claims_write_eof},
      {{"tls-skips-verification", "a TLS client accepts any server certificate", "loop.tls.verifies-certificate"},
       &Faults::tls_skips_verification},
      {{"tls-delivers-while-paused",
        "pause_reading() on a TLS transport only stops the socket: plaintext already decrypted is still delivered",
        "read.pause.no-data-while-paused"},
       &Faults::tls_delivers_while_paused},
      {{"tls-writes-plaintext", "application data goes to the socket unencrypted, outside TLS records",
        "loop.tls.encrypted-stream"},
       &Faults::tls_writes_plaintext},
      {{"tls-no-handshake-timeout", "ssl_handshake_timeout is accepted but never armed: a silent server hangs the setup",
        "loop.tls.handshake-timeout"},
       &Faults::tls_no_handshake_timeout},
      {{"tls-ignores-alpn", "the ALPN protocols of the SSL context are neither offered nor selected",
        "loop.tls.alpn"},
       &Faults::tls_ignores_alpn},
      {{"tls-close-without-notify", "close() flushes the data, then closes the socket without sending close_notify",
        "loop.tls.close-notify"},
       &Faults::tls_close_without_notify},
      {{"tls-no-shutdown-timeout", "ssl_shutdown_timeout is accepted but never armed: a silent peer keeps a closing "
        "transport forever", "loop.tls.shutdown-timeout"},
       &Faults::tls_no_shutdown_timeout},
      {{"tls-compression-empty", "get_extra_info('compression') answers '' instead of None when nothing is compressed",
        "transport.extra-info.ssl-compression-name-or-none"},
       &Faults::tls_compression_empty},
  };
  return table;
}

}  // namespace

const std::vector<Fault>& fault_catalogue() {
  static const std::vector<Fault> catalogue = [] {
    std::vector<Fault> out;
    for (const auto& entry : fault_table()) out.push_back(entry.fault);
    return out;
  }();
  return catalogue;
}

std::vector<Fault> faults_named(const std::vector<std::string_view>& names) {
  std::vector<Fault> out;
  for (const auto& entry : fault_table()) {
    if (std::find(names.begin(), names.end(), entry.fault.name) != names.end()) out.push_back(entry.fault);
  }
  for (std::string_view name : names) {
    if (std::none_of(out.begin(), out.end(), [&](const Fault& f) { return f.name == name; })) {
      throw std::logic_error("faults_named: '" + std::string(name) + "' is not in the fault catalogue");
    }
  }
  return out;
}

std::vector<Fault> kit_faults_and(const std::vector<std::string_view>& own) {
  std::vector<std::string_view> names = {
      // WriteFlow (write_flow.cpp)
      "pause-at-high", "never-pause", "pause-repeated", "resume-below-low", "resume-early", "limits-unchecked",
      "high-zero-keeps-low",
      // The TLS layer (tls_protocol.cpp, tls_transport.cpp, tls_context.cpp)
      "tls-eof-true-keeps-open", "tls-lost-without-made", "tls-cipher-without-bits", "tls-claims-write-eof",
      "tls-skips-verification", "tls-delivers-while-paused", "tls-writes-plaintext", "tls-no-handshake-timeout",
      "tls-ignores-alpn", "tls-close-without-notify", "tls-no-shutdown-timeout", "tls-compression-empty"};
  names.insert(names.end(), own.begin(), own.end());
  return faults_named(names);
}

Faults faults_from_name(std::string_view name, const BackendInfo& backend) {
  Faults faults;
  if (name.empty()) return faults;
  const bool offered = std::any_of(backend.faults.begin(), backend.faults.end(),
                                   [&](const Fault& f) { return f.name == name; });
  for (const auto& entry : fault_table()) {
    if (offered && entry.fault.name == name) {
      faults.*entry.flag = true;
      return faults;
    }
  }
  std::string known;
  for (const auto& fault : backend.faults) known += (known.empty() ? "" : ", ") + fault.name;
  throw std::invalid_argument("unknown fault '" + std::string(name) + "' for backend '" + backend.name +
                              "' (known: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace loopspec::kit
