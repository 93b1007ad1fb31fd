#include "loopspec/rules.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "loopspec/shipped_data.hpp"

namespace loopspec {

namespace {

// The fields a rule and a quote may have; anything else is a typo to report.
constexpr std::array<std::string_view, 8> kRuleFields = {"id",          "title",     "level",  "section",
                                                         "transports", "revisions", "quotes", "notes"};
constexpr std::array<std::string_view, 7> kRequiredRuleFields = {"id",         "title",     "level", "section",
                                                                 "transports", "revisions", "quotes"};
constexpr std::array<std::string_view, 3> kQuoteFields = {"revision", "section", "text"};

[[noreturn]] void fail(std::string_view source, int line, std::string_view field, std::string_view message) {
  throw RuleError(fmt::format("{}:{}: field '{}': {}", source, line, field, message));
}

// 1-based line of a node; `fallback` where yaml-cpp has no position for it.
int line_of(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

std::string_view kind_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Scalar: return "a string";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

// Segments of [a-z0-9-], each starting with a letter or digit, at least two.
bool valid_id(std::string_view id) {
  std::size_t segments = 0;
  std::size_t start = 0;
  while (start <= id.size()) {
    const std::size_t dot = std::min(id.find('.', start), id.size());
    const std::string_view segment = id.substr(start, dot - start);
    if (segment.empty() || segment.front() == '-') return false;
    for (char c : segment) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    ++segments;
    start = dot + 1;
  }
  return segments >= 2;
}

// A value read from a mapping or a list: the node, the field name errors
// carry, and its line (the key's line where the value is empty, since
// yaml-cpp places a null value at the next token).
struct Value {
  YAML::Node node;
  std::string field;
  int line = 1;
};

// Reads one YAML document of rules, reporting every problem with its position.
class RuleFileParser {
 public:
  explicit RuleFileParser(std::string_view source) : source_(source) {}

  std::vector<Rule> parse(std::string_view text) const {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      fail(source_, e.mark.is_null() ? 1 : e.mark.line + 1, "(yaml)", "syntax error: " + e.msg);
    }
    if (!root.IsSequence()) {
      fail(source_, line_of(root, 1), "(top level)",
           fmt::format("expected a list of rules, got {}", kind_name(root)));
    }
    std::vector<Rule> rules;
    for (const YAML::Node& item : root) rules.push_back(parse_rule(item));
    return rules;
  }

 private:
  using Fields = std::map<std::string, Value>;

  Rule parse_rule(const YAML::Node& node) const {
    const int rule_line = line_of(node, 1);
    if (!node.IsMap()) fail(source_, rule_line, "(rule)", fmt::format("expected a mapping, got {}", kind_name(node)));
    const Fields fields = read_fields(node, kRuleFields, kRequiredRuleFields, "", rule_line);

    Rule rule;
    rule.file = source_;
    rule.line = rule_line;
    rule.id = text(fields.at("id"));
    if (!valid_id(rule.id)) {
      fail(source_, fields.at("id").line, "id",
           fmt::format("'{}' is not a dotted id of lowercase [a-z0-9-] segments (at least two)", rule.id));
    }
    rule.title = text(fields.at("title"));
    rule.level = level(fields.at("level"));
    rule.section = text(fields.at("section"));
    rule.transports = transports(fields.at("transports"));
    rule.revisions = revisions(fields.at("revisions"));
    rule.quotes = quotes(fields.at("quotes"), rule.revisions);
    check_every_revision_quoted(fields.at("revisions"), rule);
    if (const auto notes = fields.find("notes"); notes != fields.end()) {
      rule.notes = text(notes->second, /*allow_empty=*/true);
    }
    return rule;
  }

  // The fields of a mapping, rejecting unknown, repeated and missing ones;
  // `prefix` names the enclosing field in errors.
  template <std::size_t N, std::size_t R>
  Fields read_fields(const YAML::Node& map, const std::array<std::string_view, N>& known,
                     const std::array<std::string_view, R>& required, const std::string& prefix,
                     int map_line) const {
    Fields fields;
    for (const auto& entry : map) {
      const int key_line = line_of(entry.first, map_line);
      if (!entry.first.IsScalar()) fail(source_, key_line, prefix + "(key)", "field names must be strings");
      const std::string name = entry.first.Scalar();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string expected;
        for (std::string_view field : known) expected += (expected.empty() ? "" : ", ") + std::string(field);
        fail(source_, key_line, prefix + name, fmt::format("unknown field (expected one of: {})", expected));
      }
      const int value_line = entry.second.IsNull() ? key_line : line_of(entry.second, key_line);
      if (!fields.emplace(name, Value{entry.second, prefix + name, value_line}).second) {
        fail(source_, key_line, prefix + name, "field given twice");
      }
    }
    for (std::string_view field : required) {
      if (!fields.count(std::string(field))) fail(source_, map_line, prefix + std::string(field), "missing required field");
    }
    return fields;
  }

  // The items of a non-empty list, each named after the list's field.
  std::vector<Value> items(const Value& list) const {
    if (!list.node.IsSequence()) {
      fail(source_, list.line, list.field, fmt::format("expected a list, got {}", kind_name(list.node)));
    }
    if (list.node.size() == 0) fail(source_, list.line, list.field, "must not be empty");
    std::vector<Value> result;
    for (const YAML::Node& item : list.node) {
      result.push_back(Value{item, list.field, item.IsNull() ? list.line : line_of(item, list.line)});
    }
    return result;
  }

  std::string text(const Value& value, bool allow_empty = false) const {
    if (!value.node.IsScalar()) {
      fail(source_, value.line, value.field, fmt::format("expected a string, got {}", kind_name(value.node)));
    }
    std::string result = value.node.Scalar();
    if (!allow_empty && result.find_first_not_of(" \t\r\n") == std::string::npos) {
      fail(source_, value.line, value.field, "must not be empty");
    }
    return result;
  }

  Level level(const Value& value) const {
    const std::string name = text(value);
    if (const auto parsed = level_from_string(name)) return *parsed;
    fail(source_, value.line, value.field,
         fmt::format("unknown level '{}' (expected MUST, SHOULD, MAY or INFO)", name));
  }

  // Expands the aliases and returns the kinds in transport_kinds() order.
  std::vector<std::string> transports(const Value& list) const {
    std::set<std::string> named;
    for (const Value& item : items(list)) {
      const std::string name = text(item);
      if (name == "all") {
        named.insert(transport_kinds().begin(), transport_kinds().end());
      } else if (name == "stream") {
        named.insert({"tcp", "unix", "tls"});
      } else if (std::find(transport_kinds().begin(), transport_kinds().end(), name) != transport_kinds().end()) {
        named.insert(name);
      } else {
        fail(source_, item.line, item.field,
             fmt::format("unknown transport kind '{}' (expected one of: tcp, unix, tls, udp, read-pipe, "
                         "write-pipe, subprocess, stream, all)",
                         name));
      }
    }
    std::vector<std::string> kinds;
    for (const std::string& kind : transport_kinds()) {
      if (named.count(kind)) kinds.push_back(kind);
    }
    return kinds;
  }

  std::vector<std::string> revisions(const Value& list) const {
    std::vector<std::string> result;
    for (const Value& item : items(list)) {
      const std::string revision = text(item);
      const auto& known = known_revisions();
      if (std::find(known.begin(), known.end(), revision) == known.end()) {
        fail(source_, item.line, item.field,
             fmt::format("unknown revision '{}' (expected \"3.8\" or \"3.4.3\")", revision));
      }
      if (std::find(result.begin(), result.end(), revision) != result.end()) {
        fail(source_, item.line, item.field, fmt::format("revision '{}' listed twice", revision));
      }
      result.push_back(revision);
    }
    return result;
  }

  std::vector<Quote> quotes(const Value& list, const std::vector<std::string>& rule_revisions) const {
    std::vector<Quote> result;
    for (const Value& item : items(list)) {
      const std::string prefix = fmt::format("quotes[{}].", result.size());
      if (!item.node.IsMap()) {
        fail(source_, item.line, prefix + "(quote)", fmt::format("expected a mapping, got {}", kind_name(item.node)));
      }
      const Fields fields = read_fields(item.node, kQuoteFields, kQuoteFields, prefix, item.line);
      Quote quote;
      quote.revision = text(fields.at("revision"));
      if (std::find(rule_revisions.begin(), rule_revisions.end(), quote.revision) == rule_revisions.end()) {
        fail(source_, fields.at("revision").line, fields.at("revision").field,
             fmt::format("revision '{}' is not among the rule's revisions", quote.revision));
      }
      quote.section = text(fields.at("section"));
      quote.text = text(fields.at("text"));
      result.push_back(std::move(quote));
    }
    return result;
  }

  // A rule holds for a revision only because that revision's text says so.
  void check_every_revision_quoted(const Value& list, const Rule& rule) const {
    const std::vector<Value> listed = items(list);
    for (std::size_t i = 0; i < rule.revisions.size(); ++i) {
      const std::string& revision = rule.revisions[i];
      const bool quoted = std::any_of(rule.quotes.begin(), rule.quotes.end(),
                                      [&](const Quote& quote) { return quote.revision == revision; });
      if (!quoted) fail(source_, listed[i].line, list.field, fmt::format("revision '{}' has no quote", revision));
    }
  }

  std::string source_;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), 1, "(file)", "cannot be read");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace

std::string_view to_string(Level level) {
  switch (level) {
    case Level::Must: return "MUST";
    case Level::Should: return "SHOULD";
    case Level::May: return "MAY";
    case Level::Info: return "INFO";
  }
  return "MUST";
}

std::optional<Level> level_from_string(std::string_view text) {
  for (Level level : {Level::Must, Level::Should, Level::May, Level::Info}) {
    if (to_string(level) == text) return level;
  }
  return std::nullopt;
}

const std::vector<std::string>& known_revisions() {
  static const std::vector<std::string> revisions = {std::string(kRevision38), std::string(kRevision343)};
  return revisions;
}

const std::vector<std::string>& transport_kinds() {
  static const std::vector<std::string> kinds = {"tcp", "unix", "tls", "udp", "read-pipe", "write-pipe", "subprocess"};
  return kinds;
}

bool Rule::holds_for(std::string_view revision) const {
  return std::find(revisions.begin(), revisions.end(), revision) != revisions.end();
}

bool Rule::applies_to(std::string_view transport) const {
  return std::find(transports.begin(), transports.end(), transport) != transports.end();
}

RuleCatalogue RuleCatalogue::parse(std::string_view yaml, std::string_view source) {
  RuleCatalogue catalogue;
  for (Rule& rule : RuleFileParser(source).parse(yaml)) catalogue.add(std::move(rule));
  return catalogue;
}

RuleCatalogue RuleCatalogue::load(const std::filesystem::path& directory) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    fail(directory.string(), 1, "(directory)", "not a directory");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  if (error) fail(directory.string(), 1, "(directory)", "cannot be listed: " + error.message());
  if (files.empty()) fail(directory.string(), 1, "(directory)", "contains no *.yaml rule file");
  // File names carry the documents' section order (10-..., 20-...).
  std::sort(files.begin(), files.end());

  RuleCatalogue catalogue;
  for (const auto& file : files) {
    for (Rule& rule : RuleFileParser(file.string()).parse(read_file(file))) catalogue.add(std::move(rule));
  }
  return catalogue;
}

void RuleCatalogue::add(Rule rule) {
  if (const Rule* first = find(rule.id)) {
    fail(rule.file, rule.line, "id",
         fmt::format("duplicate id '{}' (first defined at {}:{})", rule.id, first->file, first->line));
  }
  rule.order = rules_.size();
  rules_.push_back(std::move(rule));
}

const Rule* RuleCatalogue::find(std::string_view id) const {
  const auto it = std::find_if(rules_.begin(), rules_.end(), [&](const Rule& rule) { return rule.id == id; });
  return it == rules_.end() ? nullptr : &*it;
}

std::vector<const Rule*> RuleCatalogue::for_profile(std::string_view revision) const {
  std::vector<const Rule*> result;
  for (const Rule& rule : rules_) {
    if (rule.holds_for(revision)) result.push_back(&rule);
  }
  return result;
}

std::filesystem::path RuleCatalogue::default_directory() {
  if (const char* overridden = std::getenv("LOOPSPEC_SPEC_DIR"); overridden != nullptr && *overridden != '\0') {
    return overridden;
  }
  return shipped_data().spec_dir;
}

}  // namespace loopspec
