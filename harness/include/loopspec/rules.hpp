// The rules catalogue: every normative sentence of the two documents as data.
//
// Promises: load() reads every *.yaml file of a directory in name order (the
// files follow the documents' section order, so rule order is document
// order); any malformed file, unknown field, bad value or duplicate id throws
// RuleError whose message starts "FILE:LINE: field 'NAME': " (LINE is
// 1-based; 1 where the error concerns a whole file or directory; NAME is the
// field, "quotes[N].FIELD" inside a quote, or a parenthesised word such as
// "(yaml)" for a syntax error and "(directory)"). The loaded catalogue is
// immutable.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace loopspec {

enum class Level { Must, Should, May, Info };
std::string_view to_string(Level level);  // "MUST", "SHOULD", "MAY", "INFO"
std::optional<Level> level_from_string(std::string_view text);  // exact spelling of to_string

// The document revisions a run can be checked against.
inline constexpr std::string_view kRevision38 = "3.8";
inline constexpr std::string_view kRevision343 = "3.4.3";
inline constexpr std::string_view kDefaultProfile = kRevision38;
const std::vector<std::string>& known_revisions();  // {"3.8", "3.4.3"}

struct Quote {
  std::string revision;  // "3.8" or "3.4.3"
  std::string section;   // document section, e.g. "Write-only Transports > WriteTransport.write"
  std::string text;      // the sentence(s), verbatim
};

struct Rule {
  std::string id;     // stable, dotted: "flow.pause.strictly-over-high"
  std::string title;  // one line
  Level level = Level::Must;
  std::string section;                  // the section it is grouped under in reports
  std::vector<std::string> transports;  // tcp, unix, tls, udp, read-pipe, write-pipe, subprocess
  std::vector<std::string> revisions;   // revisions it holds for
  std::vector<Quote> quotes;
  std::string notes;       // contradictions, interpretation, resolution and evidence
  std::string file;        // where it was defined
  int line = 0;
  std::size_t order = 0;   // position in document order

  bool holds_for(std::string_view revision) const;
  bool applies_to(std::string_view transport) const;
};

class RuleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RuleCatalogue {
 public:
  static RuleCatalogue load(const std::filesystem::path& directory);
  // Parses one YAML document; `source` names it in errors.
  static RuleCatalogue parse(std::string_view yaml, std::string_view source);

  const std::vector<Rule>& rules() const { return rules_; }
  const Rule* find(std::string_view id) const;
  // The rules holding for a revision, in document order (none for an
  // unknown revision: check it against known_revisions() first).
  std::vector<const Rule*> for_profile(std::string_view revision) const;

  // The directory shipped with loopspec (compiled-in path, overridable with
  // LOOPSPEC_SPEC_DIR).
  static std::filesystem::path default_directory();

 private:
  void add(Rule rule);
  std::vector<Rule> rules_;
};

// The transport kinds rules name; "stream" expands to tcp, unix, tls and
// "all" to every kind.
const std::vector<std::string>& transport_kinds();

}  // namespace loopspec
