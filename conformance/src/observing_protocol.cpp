#include "loopspec/conformance/observing_protocol.hpp"

#include <algorithm>

namespace loopspec {

void ObservingProtocol::connection_made(std::shared_ptr<BaseTransport> transport) {
  ++seen_.made;
  seen_.transport = std::dynamic_pointer_cast<Transport>(transport);
  if (hooks_.on_made && seen_.transport) hooks_.on_made(*seen_.transport);
}

void ObservingProtocol::data_received(std::string_view data) { observe_data(data, data.size()); }

void ObservingProtocol::observe_data(std::string_view data, std::size_t reported) {
  seen_.received.append(data);
  ++seen_.data_calls;
  seen_.chunk_sizes.push_back(reported);
  if (hooks_.on_data) hooks_.on_data(data);
}

bool ObservingProtocol::eof_received() {
  ++seen_.eof;
  return hooks_.on_eof ? hooks_.on_eof() : false;
}

void ObservingProtocol::connection_lost(const MaybeError& exc) {
  ++seen_.lost;
  seen_.lost_error = exc;
  if (hooks_.on_lost) hooks_.on_lost(exc);
}

void ObservingProtocol::pause_writing() {
  ++seen_.pauses;
  if (hooks_.on_pause) hooks_.on_pause();
}

void ObservingProtocol::resume_writing() {
  ++seen_.resumes;
  if (hooks_.on_resume) hooks_.on_resume();
}

std::span<char> ObservingBufferedProtocol::get_buffer(std::int64_t sizehint) {
  plain_.seen_.sizehints.push_back(sizehint);
  return {buffer_.data(), buffer_.size()};
}

void ObservingBufferedProtocol::buffer_updated(std::size_t nbytes) {
  plain_.observe_data(std::string_view(buffer_.data(), std::min(nbytes, buffer_.size())), nbytes);
}

}  // namespace loopspec
