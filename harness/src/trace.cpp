#include "loopspec/trace.hpp"

#include <array>
#include <cctype>
#include <initializer_list>
#include <limits>
#include <utility>

#include "loopspec/rules.hpp"

namespace loopspec {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<EventKind, std::string_view>, 5> kKindNames{{
    {EventKind::Callback, "callback"},
    {EventKind::Return, "return"},
    {EventKind::Call, "call"},
    {EventKind::Peer, "peer"},
    {EventKind::Note, "note"},
}};

// Deep nesting would make copying, comparing and printing an event recurse
// without bound; no field of the format needs more than a few levels.
constexpr int kMaxJsonDepth = 64;

// Values from the input are shown as JSON, so an error message stays one line.
std::string as_json_string(const std::string& text) { return Json(text).dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string describe(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return std::string(value.type_name()) + " " + text;
}

// Reads the fields of one JSON object, naming the field (with its parents)
// in every error.
class FieldReader {
 public:
  FieldReader(const Json& object, std::string_view source, std::size_t line, std::string prefix = {})
      : object_(object), source_(source), line_(line), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(std::string_view field, std::string what) const {
    throw TraceError(std::string(source_), line_, prefix_ + std::string(field), std::move(what));
  }

  void allow_only(std::initializer_list<std::string_view> known) const {
    for (const auto& item : object_.items()) {
      bool listed = false;
      for (std::string_view name : known) listed = listed || item.key() == name;
      if (!listed) fail(item.key(), "unknown field");
    }
  }

  const Json* find(std::string_view field) const {
    auto it = object_.find(field);
    return it == object_.end() ? nullptr : &*it;
  }

  const Json& require(std::string_view field) const {
    const Json* value = find(field);
    if (value == nullptr) fail(field, "missing required field");
    return *value;
  }

  std::uint64_t unsigned_value(std::string_view field, const Json& value,
                               std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) const {
    // Parsed non-negative integers are unsigned; built ones may be signed.
    bool non_negative = value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0);
    if (!non_negative) fail(field, "expected a non-negative integer, got " + describe(value));
    auto number = value.get<std::uint64_t>();
    if (number > max) fail(field, "out of range: " + std::to_string(number) + " > " + std::to_string(max));
    return number;
  }

  std::int64_t signed_value(std::string_view field, const Json& value) const {
    if (!value.is_number_integer()) fail(field, "expected an integer, got " + describe(value));
    if (!value.is_number_unsigned()) return value.get<std::int64_t>();
    return static_cast<std::int64_t>(
        unsigned_value(field, value, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
  }

  std::uint64_t required_unsigned(std::string_view field, std::uint64_t max) const {
    return unsigned_value(field, require(field), max);
  }

  std::string required_string(std::string_view field) const { return string_value(field, require(field)); }

  std::string string_value(std::string_view field, const Json& value) const {
    if (!value.is_string()) fail(field, "expected a string, got " + describe(value));
    return value.get<std::string>();
  }

  bool bool_value(std::string_view field, const Json& value) const {
    if (!value.is_boolean()) fail(field, "expected true or false, got " + describe(value));
    return value.get<bool>();
  }

  std::optional<std::int64_t> optional_signed(std::string_view field) const {
    const Json* value = find(field);
    if (value == nullptr) return std::nullopt;
    return signed_value(field, *value);
  }

  std::optional<bool> optional_bool(std::string_view field) const {
    const Json* value = find(field);
    if (value == nullptr) return std::nullopt;
    return bool_value(field, *value);
  }

  std::string optional_string(std::string_view field) const {
    const Json* value = find(field);
    return value == nullptr ? std::string() : string_value(field, *value);
  }

  const Json* optional_object(std::string_view field) const {
    const Json* value = find(field);
    if (value != nullptr && !value->is_object()) fail(field, "expected an object, got " + describe(*value));
    return value;
  }

  FieldReader nested(std::string_view field, const Json& object) const {
    return FieldReader(object, source_, line_, prefix_ + std::string(field) + ".");
  }

 private:
  const Json& object_;
  std::string_view source_;
  std::size_t line_;
  std::string prefix_;
};

bool is_digest(std::string_view text) {
  if (text.size() != 16) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

Error error_from_json(const FieldReader& reader) {
  reader.allow_only({"type", "errno", "message"});
  Error error;
  error.type = reader.required_string("type");
  if (error.type.empty()) reader.fail("type", "must not be empty");
  if (const Json* errnum = reader.find("errno")) {
    std::int64_t value = reader.signed_value("errno", *errnum);
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
      reader.fail("errno", "out of range: " + std::to_string(value));
    }
    error.errnum = static_cast<int>(value);
  }
  error.message = reader.optional_string("message");
  return error;
}

TransportState state_from_json(const FieldReader& reader) {
  reader.allow_only({"wbuf", "low", "high", "closing", "reading"});
  TransportState state;
  state.write_buffer_size = reader.optional_signed("wbuf");
  state.low = reader.optional_signed("low");
  state.high = reader.optional_signed("high");
  state.closing = reader.optional_bool("closing");
  state.reading = reader.optional_bool("reading");
  return state;
}

TraceHeader header_from_json(const FieldReader& reader) {
  const Json* magic = reader.find("trace");
  if (magic == nullptr) {
    reader.fail("trace", R"(missing trace header: the first line must be {"trace":"loopspec","version":1,...})");
  }
  if (reader.string_value("trace", *magic) != "loopspec") {
    reader.fail("trace", "expected \"loopspec\", got " + describe(*magic));
  }
  reader.allow_only({"trace", "version", "backend", "scenario", "profile"});
  TraceHeader header;
  std::uint64_t version = reader.required_unsigned("version", std::numeric_limits<int>::max());
  if (version != static_cast<std::uint64_t>(kTraceFormatVersion)) {
    reader.fail("version", "unsupported trace format version " + std::to_string(version) +
                               " (this reader knows version " + std::to_string(kTraceFormatVersion) + ")");
  }
  header.version = static_cast<int>(version);
  header.backend = reader.optional_string("backend");
  header.scenario = reader.optional_string("scenario");
  header.profile = reader.optional_string("profile");
  if (!header.profile.empty() && header.profile != kRevision38 && header.profile != kRevision343) {
    reader.fail("profile", "unknown profile " + as_json_string(header.profile) + " (known: 3.8, 3.4.3)");
  }
  return header;
}

// The end line: {"end":true,"complete":BOOL}.
bool completeness_from_json(const FieldReader& reader) {
  reader.allow_only({"end", "complete"});
  if (!reader.bool_value("end", reader.require("end"))) reader.fail("end", "must be true");
  return reader.bool_value("complete", reader.require("complete"));
}

Json parse_line(std::string_view text, const std::string& source, std::size_t line) {
  auto limit_depth = [&](int depth, Json::parse_event_t event, Json&) {
    if (depth > kMaxJsonDepth) {
      throw TraceError(source, line, "(json)", "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    return true;
  };
  try {
    return Json::parse(text, limit_depth);
  } catch (const Json::exception& e) {
    throw TraceError(source, line, "(json)", std::string("invalid JSON: ") + e.what());
  }
}

bool is_blank(std::string_view text) {
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void write_line(std::ostream& out, const Json& value) {
  // Strings from transports (error messages, extra info) may hold bytes that
  // are not UTF-8; a trace must still be written.
  out << value.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace

std::string_view to_string(EventKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<EventKind> event_kind_from_string(std::string_view text) {
  for (const auto& [kind, name] : kKindNames) {
    if (name == text) return kind;
  }
  return std::nullopt;
}

void Trace::replay(TraceSink& sink) const {
  sink.on_header(header);
  for (const Event& event : events) sink.on_event(event);
  sink.on_end(complete);
}

namespace {
// Field names come from the input: keep the message on one line whatever they hold.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}
}  // namespace

TraceError::TraceError(std::string source, std::size_t line, std::string field, std::string what)
    : std::runtime_error(one_line(source + ":" + std::to_string(line) + ": " +
                                  (field.empty() ? std::string() : "field '" + field + "': ") + what)),
      line_(line),
      field_(std::move(field)) {}

nlohmann::json to_json(const Event& event) {
  Json j = Json::object();
  j["seq"] = event.seq;
  j["conn"] = event.conn;
  j["kind"] = to_string(event.kind);
  j["name"] = event.name;
  if (event.size) j["size"] = *event.size;
  if (event.digest) j["digest"] = *event.digest;
  if (event.value) j["value"] = *event.value;
  if (event.high) j["high"] = *event.high;
  if (event.low) j["low"] = *event.low;
  if (event.fd) j["fd"] = *event.fd;
  if (!event.protocol.empty()) j["protocol"] = event.protocol;
  if (!event.transport.empty()) j["transport"] = event.transport;
  if (event.error) {
    j["error"] = {{"type", event.error->type}, {"errno", event.error->errnum}, {"message", event.error->message}};
  }
  if (event.state) {
    const TransportState& s = *event.state;
    Json state = Json::object();
    if (s.write_buffer_size) state["wbuf"] = *s.write_buffer_size;
    if (s.low) state["low"] = *s.low;
    if (s.high) state["high"] = *s.high;
    if (s.closing) state["closing"] = *s.closing;
    if (s.reading) state["reading"] = *s.reading;
    j["state"] = std::move(state);
  }
  if (!event.detail.is_null()) j["detail"] = event.detail;
  return j;
}

nlohmann::json to_json(const TraceHeader& header) {
  return Json{{"trace", "loopspec"},
              {"version", header.version},
              {"backend", header.backend},
              {"scenario", header.scenario},
              {"profile", header.profile}};
}

Event event_from_json(const nlohmann::json& j, std::string_view source, std::size_t line) {
  if (!j.is_object()) throw TraceError(std::string(source), line, "(json)", "expected a JSON object, got " + describe(j));
  FieldReader reader(j, source, line);
  reader.allow_only({"seq", "conn", "kind", "name", "size", "digest", "value", "high", "low", "fd", "protocol",
                     "transport", "error", "state", "detail"});
  Event event;
  event.seq = reader.required_unsigned("seq", std::numeric_limits<std::uint64_t>::max());
  event.conn = static_cast<std::uint32_t>(reader.required_unsigned("conn", std::numeric_limits<std::uint32_t>::max()));
  std::string kind = reader.required_string("kind");
  auto parsed_kind = event_kind_from_string(kind);
  if (!parsed_kind) reader.fail("kind", "unknown event kind " + as_json_string(kind) + " (known: callback, return, call, peer, note)");
  event.kind = *parsed_kind;
  event.name = reader.required_string("name");
  if (event.name.empty()) reader.fail("name", "must not be empty");
  event.size = reader.optional_signed("size");
  if (const Json* digest = reader.find("digest")) {
    event.digest = reader.string_value("digest", *digest);
    if (!is_digest(*event.digest)) reader.fail("digest", "expected 16 lowercase hex digits, got " + as_json_string(*event.digest));
  }
  event.value = reader.optional_bool("value");
  event.high = reader.optional_signed("high");
  event.low = reader.optional_signed("low");
  if (auto fd = reader.optional_signed("fd")) {
    if (*fd > std::numeric_limits<int>::max()) reader.fail("fd", "out of range: " + std::to_string(*fd));
    if (*fd < 0) reader.fail("fd", "must not be negative: " + std::to_string(*fd));
    event.fd = static_cast<int>(*fd);
  }
  event.protocol = reader.optional_string("protocol");
  event.transport = reader.optional_string("transport");
  if (const Json* error = reader.optional_object("error")) event.error = error_from_json(reader.nested("error", *error));
  if (const Json* state = reader.optional_object("state")) event.state = state_from_json(reader.nested("state", *state));
  if (const Json* detail = reader.find("detail")) event.detail = *detail;
  return event;
}

void TraceWriter::on_header(const TraceHeader& header) { write_line(out_, to_json(header)); }

void TraceWriter::on_event(const Event& event) { write_line(out_, to_json(event)); }

void TraceWriter::on_end(bool complete) {
  write_line(out_, Json{{"end", true}, {"complete", complete}});
  out_.flush();
}

void read_trace(std::istream& in, TraceSink& sink, std::string_view source_name) {
  const std::string source(source_name);
  // Each line is read in pieces of kPiece - 1 characters into `text`, which
  // grows only as far as the longest line so far, and never past
  // kMaxTraceLine: memory stays bounded whatever the input, and a short
  // trace costs no large buffer (a 1 MiB buffer per call was most of the
  // parsers fuzzer's time under ASan: an mmap and munmap each time).
  constexpr std::size_t kPiece = 4096;
  std::array<char, kPiece> piece;
  std::string text;
  std::size_t line = 0;
  bool have_header = false;
  bool ended = false;
  bool complete = false;
  std::optional<std::uint64_t> last_seq;

  while (true) {
    text.clear();
    bool extracted_any = false;
    bool too_long = false;
    while (true) {
      in.getline(piece.data(), static_cast<std::streamsize>(piece.size()));
      auto extracted = static_cast<std::size_t>(in.gcount());
      extracted_any = extracted_any || extracted > 0;
      // good: the delimiter ended the line, counted but not stored. eof: the
      // input ended the line. fail alone: the piece is full, the line goes on.
      std::size_t stored = in.good() ? extracted - 1 : extracted;
      if (text.size() + stored > kMaxTraceLine) {
        too_long = true;
        break;
      }
      text.append(piece.data(), stored);
      if (in.bad() || !in.fail() || in.eof()) break;
      in.clear(in.rdstate() & ~std::ios::failbit);
    }
    if (!extracted_any && in.eof()) break;
    ++line;
    if (in.bad() && !in.eof()) throw TraceError(source, line, "(line)", "read error");
    if (too_long) throw TraceError(source, line, "(line)", "longer than " + std::to_string(kMaxTraceLine) + " bytes");
    std::string_view text_view(text);
    if (!text_view.empty() && text_view.back() == '\r') text_view.remove_suffix(1);
    if (is_blank(text_view)) continue;

    Json j = parse_line(text_view, source, line);
    if (!j.is_object()) throw TraceError(source, line, "(json)", "expected a JSON object, got " + describe(j));
    FieldReader reader(j, source, line);
    if (!have_header) {
      sink.on_header(header_from_json(reader));
      have_header = true;
      continue;
    }
    if (ended) throw TraceError(source, line, "(line)", "content after the end line");
    if (j.contains("end")) {
      complete = completeness_from_json(reader);
      ended = true;
      continue;
    }
    Event event = event_from_json(j, source, line);
    if (last_seq && event.seq <= *last_seq) {
      reader.fail("seq", "not increasing: " + std::to_string(event.seq) + " after " + std::to_string(*last_seq));
    }
    last_seq = event.seq;
    sink.on_event(event);
  }
  if (in.bad()) throw TraceError(source, line, "(line)", "read error");
  if (!have_header) {
    throw TraceError(source, line + 1, "trace", "missing trace header: the input is empty");
  }
  sink.on_end(ended && complete);
}

}  // namespace loopspec
