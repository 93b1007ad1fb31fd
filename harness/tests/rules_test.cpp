// The rules catalogue and its loader. These are harness machinery tests: they
// check the shipped catalogue's data against the two source documents and the
// loader's handling of good and malformed YAML; no backend behaviour is
// involved, so they name no rule id.
#include "loopspec/rules.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace loopspec {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kShippedRules = LOOPSPEC_SPEC_DIR;
const fs::path kSeeds = fs::path(LOOPSPEC_SPEC_DIR) / ".." / "seeds";

// The ids fixed before the catalogue was written (code refers to them), with
// their levels.
constexpr std::array<std::pair<std::string_view, Level>, 52> kFixedRuleIds = {{
    // Monitored by the streaming checker.
    {"proto.order.made-first", Level::Must},
    {"proto.order.made-once", Level::Must},
    {"proto.order.lost-once", Level::Must},
    {"proto.order.lost-last", Level::Must},
    {"proto.data.non-empty", Level::Must},
    {"proto.data.not-after-eof", Level::Must},
    {"proto.eof.at-most-once", Level::Must},
    {"buffered.order.updated-after-get-buffer", Level::Must},
    {"buffered.buffer.nbytes-within-buffer", Level::Must},
    {"buffered.get-buffer.zero-size-error", Level::Must},
    {"flow.pause.strictly-over-high", Level::Must},
    {"flow.pause.when-over-high", Level::Must},
    {"flow.pairing.alternate", Level::Must},
    {"flow.resume.at-or-below-low", Level::Must},
    {"flow.resume.when-at-or-below-low", Level::Must},
    {"write.limits.validation", Level::Must},
    {"write.limits.high-zero-forces-low-zero", Level::Must},
    {"write.limits.low-defaults-le-high", Level::Must},
    {"write.limits.get-returns-set", Level::Must},
    {"transport.closing.after-close", Level::Must},
    {"read.pause.no-data-while-paused", Level::Must},
    {"read.is-reading.reflects-state", Level::Must},
    {"read.pause.idempotent", Level::Must},
    {"read.resume.idempotent", Level::Must},
    {"write.eof.can-write-eof-consistent", Level::Must},
    {"write.abort.connection-lost", Level::Must},
    // Checked by conformance scenarios.
    {"proto.order.lost-exactly-once", Level::Must},
    {"proto.setup.no-lost-without-made", Level::Must},
    {"proto.connection-lost.none-on-close", Level::Must},
    {"proto.connection-lost.error-on-failure", Level::Must},
    {"proto.data.in-order", Level::Must},
    {"proto.eof.false-closes", Level::Must},
    {"proto.eof.true-half-open", Level::Must},
    {"transport.close.flushes-buffer", Level::Must},
    {"transport.close.connection-lost-after-flush", Level::Must},
    {"transport.close.no-more-data", Level::Must},
    {"write.abort.discards-buffer", Level::Must},
    {"write.data.in-order", Level::Must},
    {"write.writelines.equivalent", Level::Must},
    {"write.eof.flushes-then-shuts-down", Level::Must},
    {"write.eof.still-receives", Level::Must},
    {"write.buffer-size.reports-buffered", Level::Must},
    {"read.resume.delivers-pending", Level::Must},
    {"read.pause.stops-delivery", Level::Must},
    {"flow.limits.high-zero-pauses-non-empty", Level::Must},
    {"flow.limits.low-zero-resumes-empty", Level::Must},
    {"transport.extra-info.socket", Level::Must},
    {"transport.extra-info.default", Level::Must},
    {"transport.protocol.get-set", Level::Must},
    {"buffered.get-buffer.sizehint", Level::Info},
    {"proto.data.chunking", Level::Info},
    {"write.limits.defaults", Level::Info},
}};

// Rules that carry a contradiction or an open point of the documents and so
// must explain their resolution.
constexpr std::array<std::string_view, 15> kRulesWithResolutions = {
    "flow.pause.strictly-over-high",          "flow.resume.when-at-or-below-low",
    "flow.pairing.alternate",                 "write.limits.non-negative",
    "write.limits.high-zero-forces-low-zero", "write.limits.validation",
    "read.pause.idempotent",                  "proto.eof.true-closes-without-half-close",
    "proto.eof.read-pipe-return-value",       "write.eof.can-write-eof-consistent",
    "subprocess.pipe-transport.fd0-stdin",    "subprocess.close.kills",
    "subprocess.terminate.alias-of-close",    "buffered.get-buffer.unanswered-allowed",
    "proto.setup.no-lost-without-made",
};

// --- Quote normalisation (documented in spec/README.md) ---------------------

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Collapses every whitespace run to one space, trims, and maps typographic
// single and double quotes (U+2018/2019, U+201C/201D) to ASCII.
std::string normalise(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    std::string_view replacement;
    if (text.substr(i, 3) == "\u2018" || text.substr(i, 3) == "\u2019") replacement = "'";
    if (text.substr(i, 3) == "\u201c" || text.substr(i, 3) == "\u201d") replacement = "\"";
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    if (!replacement.empty()) {
      out += replacement;
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Position of the closing `marker` of inline markup opened before `from`, or
// npos when the paragraph (up to a blank line) ends first.
std::size_t closing_markup(std::string_view text, std::size_t from, std::string_view marker) {
  for (std::size_t i = from; i < text.size(); ++i) {
    if (text[i] == '\n') {
      std::size_t next = i + 1;
      while (next < text.size() && (text[next] == ' ' || text[next] == '\t')) ++next;
      if (next < text.size() && text[next] == '\n') return std::string_view::npos;
    }
    if (text.substr(i, marker.size()) == marker && i > from && !is_space(text[i - 1])) {
      const std::size_t after = i + marker.size();
      if (after >= text.size() || !is_word(text[after])) return i;
    }
  }
  return std::string_view::npos;
}

// How Sphinx shows a role's content: "title <target>" shows the title,
// "~a.b.c" the last component, and :meth:/:func: add "()".
std::string render_role(std::string_view role, std::string_view content) {
  const std::size_t angle = content.rfind('<');
  if (angle != std::string_view::npos && angle > 0 && is_space(content[angle - 1]) && content.back() == '>') {
    std::size_t title_end = angle;
    while (title_end > 0 && is_space(content[title_end - 1])) --title_end;
    return std::string(content.substr(0, title_end));
  }
  std::string shown(content);
  if (!shown.empty() && shown.front() == '!') shown.erase(0, 1);
  if (!shown.empty() && shown.front() == '~') shown = shown.substr(shown.rfind('.') + 1);
  const bool callable = role == "meth" || role == "func" || role == "py:meth" || role == "py:func";
  if (callable && (shown.size() < 2 || shown.substr(shown.size() - 2) != "()")) shown += "()";
  return shown;
}

// The reStructuredText source as a reader sees it rendered: roles, literals,
// interpreted text, references, emphasis and strong emphasis reduced to their
// text; a paragraph-ending "::" shown as ":".
std::string render_rst(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    // :role:`content`
    if (c == ':' && (i == 0 || !is_word(text[i - 1]))) {
      std::size_t j = i + 1;
      while (j < text.size() && ((text[j] >= 'a' && text[j] <= 'z') || text[j] == ':')) ++j;
      if (j > i + 2 && text[j - 1] == ':' && j < text.size() && text[j] == '`') {
        const std::size_t end = text.find('`', j + 1);
        if (end != std::string_view::npos) {
          out += render_role(text.substr(i + 1, j - i - 2), text.substr(j + 1, end - j - 1));
          i = end + 1;
          continue;
        }
      }
    }
    // ``literal``
    if (text.substr(i, 2) == "``") {
      const std::size_t end = text.find("``", i + 2);
      if (end != std::string_view::npos) {
        out += text.substr(i + 2, end - i - 2);
        i = end + 2;
        continue;
      }
    }
    // `interpreted text` and `reference`_ / `reference`__
    if (c == '`') {
      const std::size_t end = text.find('`', i + 1);
      if (end != std::string_view::npos) {
        out += render_role("", text.substr(i + 1, end - i - 1));
        i = end + 1;
        while (i < text.size() && text[i] == '_') ++i;
        continue;
      }
    }
    // **strong** and *emphasis*: an opener follows whitespace or an opening
    // punctuation mark and precedes a non-space.
    if (c == '*') {
      const bool opener_context = i == 0 || is_space(text[i - 1]) || std::string_view("([{<'\"-/:").find(text[i - 1]) != std::string_view::npos;
      const std::string_view marker = text.substr(i, 2) == "**" ? "**" : "*";
      const std::size_t content = i + marker.size();
      if (opener_context && content < text.size() && !is_space(text[content]) && text[content] != '*') {
        const std::size_t end = closing_markup(text, content, marker);
        if (end != std::string_view::npos) {
          out += text.substr(content, end - content);
          i = end + marker.size();
          continue;
        }
      }
    }
    // "text::" at the end of a paragraph line shows as "text:".
    if (text.substr(i, 3) == "::\n") {
      if (i > 0 && !is_space(text[i - 1])) out += ':';
      i += 2;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// The normalised text of each revision's document.
const std::string& seed_text(std::string_view revision) {
  static const std::string v38 = normalise(render_rst(read_text(kSeeds / "python-3.8-asyncio-protocol.rst")));
  static const std::string v343 = normalise(read_text(kSeeds / "python-3.4.3-asyncio-protocol.md"));
  return revision == kRevision38 ? v38 : v343;
}

const RuleCatalogue& shipped() {
  static const RuleCatalogue catalogue = RuleCatalogue::load(kShippedRules);
  return catalogue;
}

// --- The shipped catalogue ---------------------------------------------------

TEST(ShippedCatalogue, LoadsWithUniqueIds) {
  const auto& rules = shipped().rules();
  EXPECT_GE(rules.size(), 80u);
  EXPECT_LE(rules.size(), 150u);
  std::set<std::string> ids;
  for (const Rule& rule : rules) EXPECT_TRUE(ids.insert(rule.id).second) << rule.id;
}

TEST(ShippedCatalogue, ContainsEveryFixedIdWithItsLevel) {
  for (const auto& [id, level] : kFixedRuleIds) {
    const Rule* rule = shipped().find(id);
    ASSERT_NE(rule, nullptr) << "missing fixed rule id " << id;
    EXPECT_EQ(to_string(rule->level), to_string(level)) << id;
  }
}

TEST(ShippedCatalogue, EveryQuoteOccursInItsRevisionsDocument) {
  std::size_t checked = 0;
  for (const Rule& rule : shipped().rules()) {
    for (const Quote& quote : rule.quotes) {
      const std::string wanted = normalise(quote.text);
      EXPECT_NE(seed_text(quote.revision).find(wanted), std::string::npos)
          << rule.id << " (" << rule.file << ":" << rule.line << "): quote not found in the " << quote.revision
          << " document: \"" << wanted << "\"";
      ++checked;
    }
  }
  EXPECT_GE(checked, shipped().rules().size());
}

TEST(ShippedCatalogue, RulesAreInDocumentOrder) {
  const auto& rules = shipped().rules();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    EXPECT_EQ(rules[i].order, i) << rules[i].id;
    if (i > 0) {
      EXPECT_LT(rules[i - 1].order, rules[i].order) << rules[i].id;
      EXPECT_LE(fs::path(rules[i - 1].file).filename(), fs::path(rules[i].file).filename()) << rules[i].id;
    }
  }
}

TEST(ShippedCatalogue, ContradictionsCarryTheirResolution) {
  for (std::string_view id : kRulesWithResolutions) {
    const Rule* rule = shipped().find(id);
    ASSERT_NE(rule, nullptr) << id;
    EXPECT_GT(rule->notes.size(), 80u) << id << " must explain its resolution and evidence";
  }
  // The pause threshold contradiction quotes the losing sentence in its notes.
  EXPECT_THAT(normalise(shipped().find("flow.pause.strictly-over-high")->notes), HasSubstr("greater than or equal to"));
}

TEST(ShippedCatalogue, EveryRuleNamesTransportsRevisionsAndQuotes) {
  for (const Rule& rule : shipped().rules()) {
    EXPECT_FALSE(rule.transports.empty()) << rule.id;
    EXPECT_FALSE(rule.revisions.empty()) << rule.id;
    for (const std::string& revision : rule.revisions) {
      EXPECT_TRUE(std::any_of(rule.quotes.begin(), rule.quotes.end(),
                              [&](const Quote& quote) { return quote.revision == revision; }))
          << rule.id << " holds for " << revision << " without a quote from it";
    }
    EXPECT_EQ(rule.title.find('\n'), std::string::npos) << rule.id;
  }
}

// --- Revision profiles -------------------------------------------------------

std::set<std::string> ids_of(const std::vector<const Rule*>& rules) {
  std::set<std::string> ids;
  for (const Rule* rule : rules) ids.insert(rule->id);
  return ids;
}

TEST(RevisionProfiles, ProfileHoldsExactlyTheRulesOfItsRevision) {
  for (const std::string& revision : known_revisions()) {
    const auto profile = shipped().for_profile(revision);
    EXPECT_FALSE(profile.empty()) << revision;
    std::size_t expected = 0;
    for (const Rule& rule : shipped().rules()) expected += rule.holds_for(revision) ? 1 : 0;
    EXPECT_EQ(profile.size(), expected) << revision;
    for (std::size_t i = 1; i < profile.size(); ++i) EXPECT_LT(profile[i - 1]->order, profile[i]->order);
  }
  EXPECT_TRUE(shipped().for_profile("3.9").empty());
}

TEST(RevisionProfiles, Profile343ExcludesFeaturesNewIn38) {
  const auto v343 = ids_of(shipped().for_profile(kRevision343));
  for (std::string_view id : {"read.is-reading.reflects-state", "read.pause.idempotent", "read.resume.idempotent",
                              "transport.protocol.get-set", "transport.closing.after-close",
                              "transport.extra-info.ssl-object", "buffered.get-buffer.zero-size-error",
                              "buffered.order.updated-after-get-buffer", "subprocess.close.kills"}) {
    EXPECT_EQ(v343.count(std::string(id)), 0u) << id;
  }
  for (const Rule& rule : shipped().rules()) {
    if (rule.id.rfind("buffered.", 0) == 0) {
      EXPECT_EQ(v343.count(rule.id), 0u) << rule.id;
    }
  }
}

TEST(RevisionProfiles, Profile38ExcludesWhatOnly343Says) {
  const auto v38 = ids_of(shipped().for_profile(kRevision38));
  for (std::string_view id : {"subprocess.close.terminates", "subprocess.terminate.alias-of-close",
                              "subprocess.class.base-subprocess-transport", "read.pause-resume.repeat-unspecified"}) {
    EXPECT_EQ(v38.count(std::string(id)), 0u) << id;
  }
  EXPECT_EQ(v38.count("subprocess.close.kills"), 1u);
  EXPECT_EQ(v38.count("flow.pause.strictly-over-high"), 1u);
}

// --- The loader ----------------------------------------------------------------

// A valid rule, one field per line; tests replace or drop lines to break it.
// Line numbers: id 1, title 2, level 3, section 4, transports 5, revisions 6,
// quotes 7, quote revision 8, quote section 9, quote text 10.
std::vector<std::string> valid_rule_lines(std::string id = "a.b") {
  return {"id: " + id,
          "title: T",
          "level: MUST",
          "section: S",
          "transports: [tcp]",
          "revisions: [\"3.8\"]",
          "quotes:",
          "  - revision: \"3.8\"",
          "    section: Q",
          "    text: x"};
}

std::string as_rule(const std::vector<std::string>& lines) {
  std::string yaml;
  for (std::size_t i = 0; i < lines.size(); ++i) yaml += (i == 0 ? "- " : "  ") + lines[i] + "\n";
  return yaml;
}

std::string with_line(std::size_t line, std::string replacement) {
  auto lines = valid_rule_lines();
  lines.at(line - 1) = std::move(replacement);
  return as_rule(lines);
}

std::string error_of(const std::string& yaml) {
  try {
    RuleCatalogue::parse(yaml, "test.yaml");
  } catch (const RuleError& e) {
    return e.what();
  }
  return "(no error)";
}

void expect_error(const std::string& yaml, int line, std::string_view field, std::string_view says = "") {
  const std::string message = error_of(yaml);
  EXPECT_THAT(message, StartsWith("test.yaml:" + std::to_string(line) + ": field '" + std::string(field) + "': "))
      << "for:\n"
      << yaml;
  if (!says.empty()) {
    EXPECT_THAT(message, HasSubstr(std::string(says)));
  }
}

TEST(RuleLoader, ParsesAValidRule) {
  const RuleCatalogue catalogue = RuleCatalogue::parse(as_rule(valid_rule_lines()), "test.yaml");
  ASSERT_EQ(catalogue.rules().size(), 1u);
  const Rule& rule = catalogue.rules()[0];
  EXPECT_EQ(rule.id, "a.b");
  EXPECT_EQ(rule.title, "T");
  EXPECT_EQ(rule.level, Level::Must);
  EXPECT_EQ(rule.section, "S");
  EXPECT_EQ(rule.transports, std::vector<std::string>{"tcp"});
  EXPECT_EQ(rule.revisions, std::vector<std::string>{"3.8"});
  ASSERT_EQ(rule.quotes.size(), 1u);
  EXPECT_EQ(rule.quotes[0].section, "Q");
  EXPECT_EQ(rule.quotes[0].text, "x");
  EXPECT_EQ(rule.file, "test.yaml");
  EXPECT_EQ(rule.line, 1);
  EXPECT_TRUE(rule.notes.empty());
  EXPECT_TRUE(rule.holds_for("3.8"));
  EXPECT_FALSE(rule.holds_for("3.4.3"));
  EXPECT_TRUE(rule.applies_to("tcp"));
  EXPECT_FALSE(rule.applies_to("udp"));
  EXPECT_EQ(catalogue.find("a.b"), &rule);
  EXPECT_EQ(catalogue.find("a.c"), nullptr);
}

TEST(RuleLoader, ExpandsTransportAliases) {
  auto stream = RuleCatalogue::parse(with_line(5, "transports: [stream, write-pipe]"), "test.yaml");
  EXPECT_EQ(stream.rules()[0].transports, (std::vector<std::string>{"tcp", "unix", "tls", "write-pipe"}));
  auto all = RuleCatalogue::parse(with_line(5, "transports: [all]"), "test.yaml");
  EXPECT_EQ(all.rules()[0].transports, transport_kinds());
  auto overlapping = RuleCatalogue::parse(with_line(5, "transports: [udp, all, tcp]"), "test.yaml");
  EXPECT_EQ(overlapping.rules()[0].transports, transport_kinds());
}

TEST(RuleLoader, ReadsLevelsNotesAndSeveralRevisions) {
  auto lines = valid_rule_lines();
  lines[2] = "level: INFO";
  lines[5] = "revisions: [\"3.8\", \"3.4.3\"]";
  lines.insert(lines.end(), {"  - revision: \"3.4.3\"", "    section: R", "    text: y", "notes: |", "  why"});
  const Rule rule = RuleCatalogue::parse(as_rule(lines), "test.yaml").rules()[0];
  EXPECT_EQ(rule.level, Level::Info);
  EXPECT_EQ(rule.revisions, (std::vector<std::string>{"3.8", "3.4.3"}));
  EXPECT_EQ(rule.quotes.size(), 2u);
  EXPECT_EQ(rule.notes, "why\n");
  for (Level level : {Level::Must, Level::Should, Level::May, Level::Info}) {
    EXPECT_EQ(level_from_string(to_string(level)), level);
  }
  EXPECT_EQ(level_from_string("must"), std::nullopt);
}

TEST(RuleLoader, OrderFollowsTheDocument) {
  const auto catalogue =
      RuleCatalogue::parse(as_rule(valid_rule_lines("b.first")) + as_rule(valid_rule_lines("a.second")), "t.yaml");
  ASSERT_EQ(catalogue.rules().size(), 2u);
  EXPECT_EQ(catalogue.rules()[0].id, "b.first");
  EXPECT_EQ(catalogue.rules()[0].order, 0u);
  EXPECT_EQ(catalogue.rules()[1].order, 1u);
  EXPECT_EQ(catalogue.rules()[1].line, 11);
}

TEST(RuleLoaderErrors, YamlSyntaxError) {
  expect_error("- id: a.b\n  title: [unclosed\n  level: MUST\n", 3, "(yaml)", "syntax error");
}

TEST(RuleLoaderErrors, TopLevelNotAList) {
  expect_error("id: a.b\ntitle: T\n", 1, "(top level)", "expected a list of rules");
  expect_error("", 1, "(top level)");
  expect_error("\n\n- x\n", 3, "(rule)", "expected a mapping");
}

TEST(RuleLoaderErrors, UnknownField) {
  auto lines = valid_rule_lines();
  lines.insert(lines.begin() + 4, "colour: red");
  expect_error(as_rule(lines), 5, "colour", "unknown field");
  expect_error(with_line(9, "    sektion: Q"), 9, "quotes[0].sektion", "unknown field");
}

TEST(RuleLoaderErrors, FieldGivenTwice) {
  auto lines = valid_rule_lines();
  lines.insert(lines.begin() + 2, "title: again");
  expect_error(as_rule(lines), 3, "title", "twice");
}

TEST(RuleLoaderErrors, MissingRequiredField) {
  const std::array<std::string_view, 7> fields = {"id",         "title",     "level", "section",
                                                  "transports", "revisions", "quotes"};
  for (std::string_view field : fields) {
    auto lines = valid_rule_lines();
    if (field == "quotes") {
      lines.resize(6);
    } else {
      lines.erase(std::find_if(lines.begin(), lines.end(),
                               [&](const std::string& line) { return line.rfind(std::string(field) + ":", 0) == 0; }));
    }
    SCOPED_TRACE(std::string(field));
    expect_error(as_rule(lines), 1, field, "missing required field");
  }
  expect_error(with_line(10, "    txt: x"), 10, "quotes[0].txt", "unknown field");
  auto no_text = valid_rule_lines();
  no_text.pop_back();
  expect_error(as_rule(no_text), 8, "quotes[0].text", "missing required field");
}

TEST(RuleLoaderErrors, WrongTypes) {
  expect_error(with_line(2, "title: [a, b]"), 2, "title", "expected a string, got a list");
  expect_error(with_line(2, "title:"), 2, "title", "expected a string, got nothing");
  expect_error(with_line(4, "section: ''"), 4, "section", "must not be empty");
  expect_error(with_line(5, "transports: tcp"), 5, "transports", "expected a list, got a string");
  expect_error(with_line(5, "transports: []"), 5, "transports", "must not be empty");
  expect_error(with_line(6, "revisions: {a: b}"), 6, "revisions", "expected a list, got a mapping");
  expect_error(with_line(5, "transports: [[tcp]]"), 5, "transports", "expected a string, got a list");
  auto scalar_quote = valid_rule_lines();
  scalar_quote.resize(6);
  scalar_quote.push_back("quotes: [just text]");
  expect_error(as_rule(scalar_quote), 7, "quotes[0].(quote)", "expected a mapping");
  expect_error(with_line(10, "    text:"), 10, "quotes[0].text", "expected a string, got nothing");
  auto lines = valid_rule_lines();
  lines.push_back("notes: [x]");
  expect_error(as_rule(lines), 11, "notes", "expected a string");
}

TEST(RuleLoaderErrors, BadIdSyntax) {
  for (const char* id : {"Flow.pause", "flow", "flow..pause", "flow.pause_x", "flow.-pause", "flow.pause."}) {
    SCOPED_TRACE(id);
    expect_error(with_line(1, std::string("id: '") + id + "'"), 1, "id", "not a dotted id");
  }
}

TEST(RuleLoaderErrors, UnknownLevel) {
  expect_error(with_line(3, "level: must"), 3, "level", "unknown level 'must'");
  expect_error(with_line(3, "level: REQUIRED"), 3, "level", "unknown level");
}

TEST(RuleLoaderErrors, UnknownTransportKind) {
  expect_error(with_line(5, "transports: [tcp, sctp]"), 5, "transports", "unknown transport kind 'sctp'");
  auto lines = valid_rule_lines();
  lines[4] = "transports:";
  lines.insert(lines.begin() + 5, {"  - tcp", "  - pipes"});
  expect_error(as_rule(lines), 7, "transports", "unknown transport kind 'pipes'");
}

TEST(RuleLoaderErrors, UnknownRevision) {
  expect_error(with_line(6, "revisions: [\"3.9\"]"), 6, "revisions", "unknown revision '3.9'");
  expect_error(with_line(6, "revisions: [\"3.8\", \"3.8\"]"), 6, "revisions", "listed twice");
}

TEST(RuleLoaderErrors, QuoteRevisionNotAmongTheRulesRevisions) {
  expect_error(with_line(8, "  - revision: \"3.4.3\""), 8, "quotes[0].revision", "not among the rule's revisions");
}

TEST(RuleLoaderErrors, RevisionWithoutQuote) {
  auto lines = valid_rule_lines();
  lines[5] = "revisions:";
  lines.insert(lines.begin() + 6, {"  - \"3.8\"", "  - \"3.4.3\""});
  expect_error(as_rule(lines), 8, "revisions", "revision '3.4.3' has no quote");
}

TEST(RuleLoaderErrors, DuplicateIdInOneFile) {
  expect_error(as_rule(valid_rule_lines()) + as_rule(valid_rule_lines()), 11, "id",
               "duplicate id 'a.b' (first defined at test.yaml:1)");
}

// A scratch directory for load(), removed afterwards.
class RuleDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "loopspec-rules-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& content) { std::ofstream(dir_ / name) << content; }
  std::string load_error() {
    try {
      RuleCatalogue::load(dir_);
    } catch (const RuleError& e) {
      return e.what();
    }
    return "(no error)";
  }
  fs::path dir_;
};

TEST_F(RuleDirectory, LoadsFilesInNameOrderAndIgnoresOtherFiles) {
  write("20-second.yaml", as_rule(valid_rule_lines("x.second")));
  write("10-first.yaml", as_rule(valid_rule_lines("y.first")));
  write("README.md", "not yaml: [");
  const auto catalogue = RuleCatalogue::load(dir_);
  ASSERT_EQ(catalogue.rules().size(), 2u);
  EXPECT_EQ(catalogue.rules()[0].id, "y.first");
  EXPECT_EQ(catalogue.rules()[1].id, "x.second");
  EXPECT_EQ(catalogue.rules()[1].order, 1u);
  EXPECT_EQ(catalogue.rules()[1].file, (dir_ / "20-second.yaml").string());
}

TEST_F(RuleDirectory, DuplicateIdAcrossFilesNamesBothPlaces) {
  write("10-a.yaml", as_rule(valid_rule_lines("dup.id")));
  write("20-b.yaml", as_rule(valid_rule_lines("other.id")) + as_rule(valid_rule_lines("dup.id")));
  const std::string message = load_error();
  EXPECT_THAT(message, StartsWith((dir_ / "20-b.yaml").string() + ":11: field 'id': "));
  EXPECT_THAT(message, HasSubstr((dir_ / "10-a.yaml").string() + ":1"));
}

TEST_F(RuleDirectory, ErrorsNameTheFile) {
  write("10-a.yaml", as_rule(valid_rule_lines()));
  write("20-b.yaml", with_line(3, "level: OFTEN"));
  EXPECT_THAT(load_error(), StartsWith((dir_ / "20-b.yaml").string() + ":3: field 'level': "));
}

TEST_F(RuleDirectory, EmptyDirectory) {
  EXPECT_THAT(load_error(), StartsWith(dir_.string() + ":1: field '(directory)': "));
  EXPECT_THAT(load_error(), HasSubstr("no *.yaml"));
}

TEST_F(RuleDirectory, MissingDirectory) {
  const fs::path missing = dir_ / "nowhere";
  try {
    RuleCatalogue::load(missing);
    ADD_FAILURE() << "no error";
  } catch (const RuleError& e) {
    EXPECT_THAT(e.what(), StartsWith(missing.string() + ":1: field '(directory)': not a directory"));
  }
}

TEST(RuleLoader, DefaultDirectoryHonoursTheEnvironment) {
  const char* previous = std::getenv("LOOPSPEC_SPEC_DIR");
  const std::string saved = previous ? previous : "";
  ::unsetenv("LOOPSPEC_SPEC_DIR");
  EXPECT_EQ(RuleCatalogue::default_directory(), kShippedRules);
  ::setenv("LOOPSPEC_SPEC_DIR", "/elsewhere/rules", 1);
  EXPECT_EQ(RuleCatalogue::default_directory(), fs::path("/elsewhere/rules"));
  if (previous) {
    ::setenv("LOOPSPEC_SPEC_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("LOOPSPEC_SPEC_DIR");
  }
}

// The normalisation itself, so a quote check cannot pass vacuously.
TEST(QuoteNormalisation, RendersRstAsTheReaderSeesIt) {
  EXPECT_EQ(render_rst(":meth:`loop.create_connection`"), "loop.create_connection()");
  EXPECT_EQ(render_rst(":meth:`protocol.connection_lost() <BaseProtocol.connection_lost>`"),
            "protocol.connection_lost()");
  EXPECT_EQ(render_rst(":meth:`~WriteTransport.write_eof`"), "write_eof()");
  EXPECT_EQ(render_rst(":const:`None` and :class:`socket.socket`"), "None and socket.socket");
  EXPECT_EQ(render_rst(":ref:`not thread safe <asyncio-multithreading>`"), "not thread safe");
  EXPECT_EQ(render_rst(":meth:`protocol.eof_received()\n   <Protocol.eof_received>`, if"), "protocol.eof_received(), if");
  EXPECT_EQ(render_rst("``(transport, protocol)`` and `Transports`_ and `eof_received()`"),
            "(transport, protocol) and Transports and eof_received()");
  EXPECT_EQ(render_rst("the *high* and **low** (*stdin*) marks"), "the high and low (stdin) marks");
  EXPECT_EQ(render_rst("[-> data_received]*\n    [-> eof_received]?"), "[-> data_received]*\n    [-> eof_received]?");
  EXPECT_EQ(render_rst("a *b\n\nc* d"), "a *b\n\nc* d");
  EXPECT_EQ(render_rst("the transport::\n"), "the transport:\n");
  EXPECT_EQ(normalise("  won\u2019t\n   send \u2018ready\u2019 "), "won't send 'ready'");
  EXPECT_EQ(seed_text(kRevision38).find(":meth:"), std::string::npos);
  EXPECT_NE(seed_text(kRevision38).find("the protocol's protocol.connection_lost() method will be called"),
            std::string::npos);
  EXPECT_EQ(seed_text(kRevision343).find("a sentence no document contains"), std::string::npos);
}

}  // namespace
}  // namespace loopspec
