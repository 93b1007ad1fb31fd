// Traces: the in-memory form, JSON Lines writing and reading, and the
// reader's errors (spec/trace-format.md). Harness machinery: no rule id.
#include "loopspec/trace.hpp"

#include "loopspec/checker.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace loopspec {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kHeader = R"({"trace":"loopspec","version":1,"backend":"b","scenario":"s","profile":"3.8"})";

Event every_field_event() {
  Event e;
  e.seq = 7;
  e.conn = 3;
  e.kind = EventKind::Call;
  e.name = "write";
  e.size = -1;
  e.digest = "0123456789abcdef";
  e.value = false;
  e.high = 65536;
  e.low = 0;
  e.fd = 2;
  e.protocol = "BufferedProtocol";
  e.transport = "unix";
  e.error = Error{"BrokenPipeError", 32, "Broken pipe"};
  e.state = TransportState{5, 16384, 65536, true, false};
  e.detail = {{"key", "peername"}, {"value", {"127.0.0.1", 8080}}};
  return e;
}

Trace read_text(const std::string& text) {
  std::istringstream in(text);
  Trace trace;
  read_trace(in, trace, "t.jsonl");
  return trace;
}

// Harness machinery: every field survives to_json / event_from_json.
TEST(TraceJson, RoundTripsEveryField) {
  Event e = every_field_event();
  EXPECT_EQ(event_from_json(to_json(e)), e);
  nlohmann::json j = to_json(e);
  for (const char* field : {"seq", "conn", "kind", "name", "size", "digest", "value", "high", "low", "fd", "protocol",
                            "transport", "error", "state", "detail"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_EQ(j["error"], (nlohmann::json{{"type", "BrokenPipeError"}, {"errno", 32}, {"message", "Broken pipe"}}));
  EXPECT_EQ(j["state"],
            (nlohmann::json{{"wbuf", 5}, {"low", 16384}, {"high", 65536}, {"closing", true}, {"reading", false}}));
}

// Harness machinery: absent optionals are omitted, and read back absent.
TEST(TraceJson, OmitsAbsentFields) {
  Event e;
  e.seq = 0;
  e.conn = 1;
  e.kind = EventKind::Callback;
  e.name = "connection_made";
  nlohmann::json j = to_json(e);
  EXPECT_EQ(j, (nlohmann::json{{"seq", 0}, {"conn", 1}, {"kind", "callback"}, {"name", "connection_made"}}));
  EXPECT_EQ(event_from_json(j), e);

  e.state = TransportState{};
  e.state->closing = false;
  EXPECT_EQ(to_json(e)["state"], (nlohmann::json{{"closing", false}}));
  EXPECT_EQ(event_from_json(to_json(e)), e);
}

// Harness machinery: the kind names are stable.
TEST(TraceJson, KindNames) {
  const std::vector<std::pair<EventKind, std::string>> kinds = {{EventKind::Callback, "callback"},
                                                                {EventKind::Return, "return"},
                                                                {EventKind::Call, "call"},
                                                                {EventKind::Peer, "peer"},
                                                                {EventKind::Note, "note"}};
  for (const auto& [kind, name] : kinds) {
    EXPECT_EQ(to_string(kind), name);
    EXPECT_EQ(event_kind_from_string(name), kind);
  }
  EXPECT_EQ(event_kind_from_string("Callback"), std::nullopt);
}

// Harness machinery: writer then reader gives back the same trace.
TEST(TraceFile, WriterReaderRoundTrip) {
  Trace original;
  original.header = TraceHeader{kTraceFormatVersion, "reference", "stream.flow.basic", "3.4.3"};
  Event first;
  first.seq = 0;
  first.conn = 1;
  first.name = "connection_made";
  first.protocol = "Protocol";
  first.transport = "tcp";
  Event note;
  note.seq = 5;
  note.kind = EventKind::Note;
  note.name = "phase";
  note.detail = "drain";
  Event peer;
  peer.seq = 6;
  peer.kind = EventKind::Peer;
  peer.name = "send";
  peer.size = 3;
  original.events = {first, every_field_event(), note, peer};
  original.events[1].seq = 1;
  original.complete = true;

  std::ostringstream out;
  TraceWriter writer(out);
  original.replay(writer);
  std::string text = out.str();
  EXPECT_THAT(text, StartsWith(R"({"backend":"reference","profile":"3.4.3","scenario":"stream.flow.basic","trace":"loopspec")"));
  EXPECT_THAT(text, HasSubstr("\n{\"complete\":true,\"end\":true}\n"));

  Trace read = read_text(text);
  EXPECT_EQ(read.header, original.header);
  EXPECT_EQ(read.events, original.events);
  EXPECT_TRUE(read.complete);
}

// Harness machinery: the end line carries completeness; without it the trace is incomplete.
TEST(TraceFile, CompletenessComesFromTheEndLine) {
  const std::string event = R"({"seq":0,"conn":1,"kind":"callback","name":"connection_made"})";
  EXPECT_TRUE(read_text(kHeader + "\n" + event + "\n" + R"({"end":true,"complete":true})" + "\n").complete);
  EXPECT_FALSE(read_text(kHeader + "\n" + event + "\n" + R"({"end":true,"complete":false})").complete);
  Trace cut = read_text(kHeader + "\n" + event + "\n");
  EXPECT_FALSE(cut.complete);
  EXPECT_EQ(cut.events.size(), 1u);
}

// Harness machinery: blank lines and CRLF line ends are accepted.
TEST(TraceFile, AcceptsBlankLinesAndCrlf) {
  Trace trace = read_text("\n" + kHeader + "\r\n\r\n  \n" + R"({"seq":4,"conn":1,"kind":"note","name":"x"})" +
                          "\r\n" + R"({"end":true,"complete":true})" + "\r\n");
  ASSERT_EQ(trace.events.size(), 1u);
  EXPECT_EQ(trace.events[0].seq, 4u);
  EXPECT_TRUE(trace.complete);
}

// Harness machinery: a line of exactly kMaxTraceLine bytes is read; one byte more is not.
TEST(TraceFile, LineLengthBoundary) {
  const std::string prefix = R"({"seq":0,"conn":1,"kind":"note","name":"pad","detail":")";
  const std::string suffix = R"("})";
  std::string longest = prefix + std::string(kMaxTraceLine - prefix.size() - suffix.size(), 'x') + suffix;
  ASSERT_EQ(longest.size(), kMaxTraceLine);
  EXPECT_EQ(read_text(kHeader + "\n" + longest + "\n").events.size(), 1u);
  EXPECT_EQ(read_text(kHeader + "\n" + longest).events.size(), 1u);

  std::string too_long = prefix + std::string(kMaxTraceLine - prefix.size() - suffix.size() + 1, 'x') + suffix;
  try {
    read_text(kHeader + "\n" + too_long + "\n");
    FAIL() << "accepted a line longer than kMaxTraceLine";
  } catch (const TraceError& e) {
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(e.field(), "(line)");
    EXPECT_THAT(e.what(), StartsWith("t.jsonl:2: field '(line)': longer than"));
  }
}

// Harness machinery: the reader takes a line in 4 KiB pieces; lines of every
// length around one and two pieces, ended by LF, CRLF or the end of the
// input, come back whole and in order.
TEST(TraceFile, LinesAroundTheReadersPieceSize) {
  const std::string prefix = R"({"seq":0,"conn":1,"kind":"note","name":"pad","detail":")";
  const std::string suffix = R"("})";
  for (std::size_t length : {4094u, 4095u, 4096u, 4097u, 4098u, 8190u, 8191u, 8192u, 8193u}) {
    for (std::string end : {"\n", "\r\n", ""}) {
      std::string text = kHeader + "\n";
      std::vector<std::string> details;
      for (std::size_t i = 0; i < 3; ++i) {
        details.push_back(std::string(length - prefix.size() - suffix.size() - i, static_cast<char>('a' + i)));
        std::string line = prefix + details.back() + suffix;
        line.replace(line.find(R"("seq":0)"), 7, R"("seq":)" + std::to_string(i));
        text += line + (i < 2 ? "\n" : end);
      }
      Trace trace = read_text(text);
      ASSERT_EQ(trace.events.size(), 3u) << "length " << length;
      for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(trace.events[i].seq, i);
        EXPECT_EQ(trace.events[i].detail, details[i]) << "length " << length << ", line " << i;
      }
    }
  }
}

struct Malformed {
  std::string name;
  std::string text;
  std::size_t line;
  std::string field;
  std::string says;  // part of the message
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

class TraceReaderRejects : public ::testing::TestWithParam<Malformed> {};

// Harness machinery: each malformed input names its line and field.
TEST_P(TraceReaderRejects, NamesLineAndField) {
  const Malformed& m = GetParam();
  try {
    read_text(m.text);
    FAIL() << "accepted: " << m.text.substr(0, 200);
  } catch (const TraceError& e) {
    EXPECT_EQ(e.line(), m.line) << e.what();
    EXPECT_EQ(e.field(), m.field) << e.what();
    std::string shown_field = m.field;  // the message keeps to one line
    std::replace(shown_field.begin(), shown_field.end(), '\n', ' ');
    EXPECT_THAT(e.what(), StartsWith("t.jsonl:" + std::to_string(m.line) + ": field '" + shown_field + "': "));
    EXPECT_THAT(e.what(), HasSubstr(m.says));
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line";
  }
}

std::string ev(const std::string& fields) { return "{" + fields + "}"; }
const std::string kBase = R"("seq":1,"conn":1,"kind":"callback","name":"data_received")";

std::vector<Malformed> malformed_inputs() {
  std::string h = kHeader + "\n";
  std::string deep = std::string(200, '[') + std::string(200, ']');
  return {
      {"empty_input", "", 1, "trace", "missing trace header"},
      {"blank_input", "\n\n", 3, "trace", "missing trace header"},
      {"no_header", ev(kBase) + "\n", 1, "trace", "missing trace header"},
      {"wrong_magic", R"({"trace":"other","version":1})", 1, "trace", "expected \"loopspec\""},
      {"magic_not_string", R"({"trace":1,"version":1})", 1, "trace", "expected a string"},
      {"missing_version", R"({"trace":"loopspec"})", 1, "version", "missing required field"},
      {"unknown_version", R"({"trace":"loopspec","version":2})", 1, "version", "unsupported trace format version 2"},
      {"version_string", R"({"trace":"loopspec","version":"1"})", 1, "version", "non-negative integer"},
      {"unknown_profile", R"({"trace":"loopspec","version":1,"profile":"3.9"})", 1, "profile", "unknown profile"},
      {"header_unknown_field", R"({"trace":"loopspec","version":1,"extra":0})", 1, "extra", "unknown field"},
      {"invalid_json", h + R"({"seq":1,)" + "\n", 2, "(json)", "invalid JSON"},
      {"garbage_bytes", h + std::string("\x01\xff\xfe", 3) + "\n", 2, "(json)", "invalid JSON"},
      {"not_an_object", h + "[1,2]\n", 2, "(json)", "expected a JSON object"},
      {"too_deep", h + R"({"seq":1,"conn":1,"kind":"note","name":"x","detail":)" + deep + "}\n", 2, "(json)",
       "nested deeper"},
      {"unknown_kind", h + ev(R"("seq":1,"conn":1,"kind":"callbak","name":"x")"), 2, "kind", "unknown event kind"},
      {"missing_seq", h + ev(R"("conn":1,"kind":"call","name":"x")"), 2, "seq", "missing required field"},
      {"missing_conn", h + ev(R"("seq":1,"kind":"call","name":"x")"), 2, "conn", "missing required field"},
      {"missing_kind", h + ev(R"("seq":1,"conn":1,"name":"x")"), 2, "kind", "missing required field"},
      {"missing_name", h + ev(R"("seq":1,"conn":1,"kind":"call")"), 2, "name", "missing required field"},
      {"empty_name", h + ev(R"("seq":1,"conn":1,"kind":"call","name":"")"), 2, "name", "must not be empty"},
      {"seq_string", h + ev(R"("seq":"1","conn":1,"kind":"call","name":"x")"), 2, "seq", "non-negative integer"},
      {"seq_negative", h + ev(R"("seq":-1,"conn":1,"kind":"call","name":"x")"), 2, "seq", "non-negative integer"},
      {"seq_fraction", h + ev(R"("seq":1.5,"conn":1,"kind":"call","name":"x")"), 2, "seq", "non-negative integer"},
      {"conn_too_big", h + ev(R"("seq":1,"conn":4294967296,"kind":"call","name":"x")"), 2, "conn", "out of range"},
      {"kind_number", h + ev(R"("seq":1,"conn":1,"kind":3,"name":"x")"), 2, "kind", "expected a string"},
      {"size_fraction", h + ev(kBase + R"(,"size":1.5)"), 2, "size", "expected an integer"},
      {"size_too_big", h + ev(kBase + R"(,"size":18446744073709551615)"), 2, "size", "out of range"},
      {"value_string", h + ev(kBase + R"(,"value":"true")"), 2, "value", "expected true or false"},
      {"digest_short", h + ev(kBase + R"(,"digest":"abc")"), 2, "digest", "16 lowercase hex digits"},
      {"digest_upper", h + ev(kBase + R"(,"digest":"0123456789ABCDEF")"), 2, "digest", "16 lowercase hex digits"},
      {"fd_negative", h + ev(kBase + R"(,"fd":-1)"), 2, "fd", "must not be negative"},
      {"protocol_number", h + ev(kBase + R"(,"protocol":1)"), 2, "protocol", "expected a string"},
      {"error_not_object", h + ev(kBase + R"(,"error":"boom")"), 2, "error", "expected an object"},
      {"error_missing_type", h + ev(kBase + R"(,"error":{"errno":1})"), 2, "error.type", "missing required field"},
      {"error_errno_string", h + ev(kBase + R"(,"error":{"type":"OSError","errno":"5"})"), 2, "error.errno",
       "integer"},
      {"error_unknown_field", h + ev(kBase + R"(,"error":{"type":"OSError","code":5})"), 2, "error.code",
       "unknown field"},
      {"state_not_object", h + ev(kBase + R"(,"state":[1])"), 2, "state", "expected an object"},
      {"state_wbuf_string", h + ev(kBase + R"(,"state":{"wbuf":"5"})"), 2, "state.wbuf", "integer"},
      {"state_closing_number", h + ev(kBase + R"(,"state":{"closing":1})"), 2, "state.closing",
       "expected true or false"},
      {"state_unknown_field", h + ev(kBase + R"(,"state":{"paused":true})"), 2, "state.paused", "unknown field"},
      {"event_unknown_field", h + ev(kBase + R"(,"sise":5)"), 2, "sise", "unknown field"},
      {"seq_repeated", h + ev(R"("seq":1,"conn":1,"kind":"call","name":"x")") + "\n" +
                           ev(R"("seq":1,"conn":1,"kind":"call","name":"y")"),
       3, "seq", "not increasing: 1 after 1"},
      {"seq_decreasing", h + ev(R"("seq":5,"conn":1,"kind":"call","name":"x")") + "\n\n" +
                             ev(R"("seq":2,"conn":1,"kind":"call","name":"y")"),
       4, "seq", "not increasing: 2 after 5"},
      {"end_not_true", h + R"({"end":false,"complete":true})", 2, "end", "must be true"},
      {"end_without_complete", h + R"({"end":true})", 2, "complete", "missing required field"},
      {"end_complete_string", h + R"({"end":true,"complete":"yes"})", 2, "complete", "expected true or false"},
      {"unknown_kind_multiline", h + ev(R"("seq":1,"conn":1,"kind":"a\nb","name":"x")"), 2, "kind", R"("a\nb")"},
      {"unknown_field_multiline", h + ev(kBase + R"(,"a\nb":1)"), 2, "a\nb", "unknown field"},
      {"after_end", h + R"({"end":true,"complete":true})" + "\n" + ev(kBase), 3, "(line)", "after the end line"},
  };
}

INSTANTIATE_TEST_SUITE_P(Malformed, TraceReaderRejects, ::testing::ValuesIn(malformed_inputs()),
                         [](const ::testing::TestParamInfo<Malformed>& info) { return info.param.name; });

// Harness machinery: events before a malformed line have already reached the sink (streaming).
TEST(TraceFile, StreamsEventsBeforeAnError) {
  std::istringstream in(kHeader + "\n" + ev(kBase) + "\nnot json\n");
  Trace trace;
  EXPECT_THROW(read_trace(in, trace, "t.jsonl"), TraceError);
  EXPECT_EQ(trace.events.size(), 1u);
  EXPECT_FALSE(trace.complete);
}

// Harness machinery: a malformed event given to event_from_json directly names the field too.
TEST(TraceJson, EventFromJsonNamesField) {
  nlohmann::json j = to_json(every_field_event());
  j["state"]["low"] = "x";
  try {
    event_from_json(j, "api", 9);
    FAIL();
  } catch (const TraceError& e) {
    EXPECT_EQ(e.field(), "state.low");
    EXPECT_EQ(e.line(), 9u);
    EXPECT_THAT(e.what(), StartsWith("api:9: field 'state.low': "));
  }
  EXPECT_THROW(event_from_json(nlohmann::json::array()), TraceError);
  nlohmann::json built = {{"seq", 1}, {"conn", 2}, {"kind", "call"}, {"name", "close"}};  // signed integers
  EXPECT_EQ(event_from_json(built).conn, 2u);
}

// Harness machinery: strings that are not UTF-8 are written (replaced), never a crash.
TEST(TraceFile, WritesNonUtf8Strings) {
  Event e;
  e.name = "connection_lost";
  e.error = Error{"OSError", 5, std::string("bad \xff byte")};
  std::ostringstream out;
  TraceWriter writer(out);
  writer.on_header(TraceHeader{});
  writer.on_event(e);
  writer.on_end(true);
  Trace trace = read_text(out.str());
  ASSERT_EQ(trace.events.size(), 1u);
  EXPECT_THAT(trace.events[0].error->message, HasSubstr("bad "));
}

// Harness machinery: corrupted traces are either read or rejected with
// TraceError, and whatever is read can be checked; nothing else escapes.
TEST(TraceFile, CorruptedInputIsReadOrRejected) {
  std::ostringstream out;
  TraceWriter writer(out);
  writer.on_header(TraceHeader{kTraceFormatVersion, "b", "s", "3.8"});
  Event e = every_field_event();
  for (std::uint64_t seq = 0; seq < 6; ++seq) {
    e.seq = seq;
    e.kind = seq % 2 ? EventKind::Callback : EventKind::Call;
    writer.on_event(e);
  }
  writer.on_end(true);
  const std::string valid = out.str();
  std::string alphabet = "{}[]\":,0123456789-.eE truefalsenull\n\r\\";
  alphabet += std::string("\0\xff", 2);

  std::mt19937 random(2024);
  int rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = valid;
    int edits = std::uniform_int_distribution<int>(1, 8)(random);
    for (int k = 0; k < edits; ++k) {
      std::size_t at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(random);
      char c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(random)];
      switch (random() % 3) {
        case 0: text[at] = c; break;
        case 1: text.insert(at, 1, c); break;
        default: text.erase(at, 1); break;
      }
    }
    std::istringstream in(text);
    Checker checker;
    try {
      read_trace(in, checker, "fuzz");
    } catch (const TraceError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
}

// Harness machinery: the example in spec/trace-format.md is a valid, complete trace the checker accepts.
TEST(TraceFormatDocument, ExampleIsValid) {
  std::ifstream doc(std::string(LOOPSPEC_SPEC_DIR) + "/../trace-format.md");
  ASSERT_TRUE(doc) << "spec/trace-format.md not found";
  std::string text((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
  std::size_t section = text.find("## Example");
  ASSERT_NE(section, std::string::npos);
  std::size_t begin = text.find("```\n", section);
  ASSERT_NE(begin, std::string::npos);
  begin += 4;
  std::size_t end = text.find("```", begin);
  ASSERT_NE(end, std::string::npos);

  std::istringstream in(text.substr(begin, end - begin));
  Trace trace;
  read_trace(in, trace, "trace-format.md");
  EXPECT_TRUE(trace.complete);
  EXPECT_EQ(trace.header.version, kTraceFormatVersion);
  EXPECT_EQ(trace.events.size(), 7u);
  Checker checker(trace.header.profile);
  trace.replay(checker);
  EXPECT_TRUE(checker.violations().empty()) << checker.violations().front().message();
}

}  // namespace
}  // namespace loopspec
