#include "loopspec/reports/trace_view.hpp"

#include <algorithm>
#include <fstream>

namespace loopspec::reports {

using nlohmann::json;

std::optional<std::size_t> KeptTrace::index_of_seq(std::uint64_t seq) const {
  auto it = std::lower_bound(events.begin(), events.end(), seq, [](const Event& e, std::uint64_t s) { return e.seq < s; });
  if (it == events.end() || it->seq != seq) return std::nullopt;
  return static_cast<std::size_t>(it - events.begin());
}

KeptTrace read_kept_trace(const json& trace, const std::string& source) {
  KeptTrace kept;
  auto count = [&](const char* name) -> std::size_t {
    auto it = trace.find(name);
    if (it == trace.end()) return 0;
    if (!it->is_number_unsigned()) throw TraceError(source, 0, name, "expected a non-negative integer");
    return it->get<std::size_t>();
  };
  try {
    if (!trace.is_object()) throw TraceError(source, 0, "trace", "expected an object");
    kept.first_event = count("first_event");
    kept.omitted = count("omitted");
    kept.complete = trace.value("complete", false);
    auto events = trace.find("events");
    if (events == trace.end() || !events->is_array()) throw TraceError(source, 0, "events", "expected a list");
    kept.events.reserve(events->size());
    for (std::size_t i = 0; i < events->size(); ++i) {
      kept.events.push_back(event_from_json((*events)[i], source + " events/" + std::to_string(i), 0));
      if (i > 0 && kept.events[i].seq <= kept.events[i - 1].seq) {
        throw TraceError(source, 0, "events/" + std::to_string(i) + "/seq", "not greater than the previous seq");
      }
    }
  } catch (const std::exception& e) {
    kept = KeptTrace{};
    kept.problem = e.what();
  }
  return kept;
}

KeptTrace read_trace_file(const std::filesystem::path& file) {
  KeptTrace whole;
  try {
    std::ifstream in(file);
    if (!in) throw std::runtime_error(file.string() + ": cannot open");
    Trace trace;
    read_trace(in, trace, file.string());
    whole.events = std::move(trace.events);
    whole.complete = trace.complete;
  } catch (const std::exception& e) {
    whole = KeptTrace{};
    whole.problem = e.what();
  }
  return whole;
}

Window window_around(std::size_t n, std::optional<std::size_t> focus, std::size_t max_rows) {
  if (n <= max_rows) return Window{0, n};
  std::size_t center = focus ? std::min(*focus, n - 1) : n;
  std::size_t before = max_rows / 4;
  std::size_t begin = center > before ? center - before : 0;
  begin = std::min(begin, n - max_rows);
  return Window{begin, begin + max_rows};
}

std::size_t fold_point(Window w, std::optional<std::size_t> focus, std::size_t context) {
  if (focus) return *focus > w.begin + context ? std::min(*focus - context, w.end) : w.begin;
  return w.end > w.begin + context ? w.end - context : w.begin;
}

std::string describe_arguments(const Event& e, bool with_digest) {
  std::string out;
  auto add = [&](const std::string& text) { out += (out.empty() ? "" : " ") + text; };
  if (!e.protocol.empty()) add("protocol=" + e.protocol);
  if (!e.transport.empty()) add("transport=" + e.transport);
  if (e.fd) add("fd=" + std::to_string(*e.fd));
  if (e.size) add("size=" + std::to_string(*e.size));
  if (e.value) add(std::string("value=") + (*e.value ? "true" : "false"));
  if (e.high || e.low) {
    add("high=" + (e.high ? std::to_string(*e.high) : std::string("None")) +
        " low=" + (e.low ? std::to_string(*e.low) : std::string("None")));
  }
  if (e.error) add("error=" + e.error->to_string());
  if (!e.detail.is_null()) add(e.detail.dump(-1, ' ', false, json::error_handler_t::replace));
  if (e.digest && with_digest) add("digest=" + *e.digest);
  return out;
}

std::string state_buffer(const Event& e) {
  if (!e.state || !e.state->write_buffer_size) return {};
  return std::to_string(*e.state->write_buffer_size);
}

std::string state_limits(const Event& e) {
  if (!e.state || (!e.state->low && !e.state->high)) return {};
  auto part = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string("?"); };
  return part(e.state->low) + "/" + part(e.state->high);
}

std::string state_flag(const std::optional<bool>& flag) {
  if (!flag) return {};
  return *flag ? "yes" : "no";
}

}  // namespace loopspec::reports
