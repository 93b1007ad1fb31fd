#include "loopspec/conformance/results.hpp"

#include <fstream>
#include <unistd.h>

namespace loopspec {

using nlohmann::json;

std::size_t RunResults::count(Verdict v) const {
  std::size_t n = 0;
  for (const auto& r : rules) n += r.verdict == v ? 1 : 0;
  return n;
}

std::size_t RunResults::unexpected() const {
  std::size_t n = 0;
  for (const auto& r : rules) n += r.expected ? 0 : 1;
  return n;
}

std::size_t RunResults::unexpected_failures() const {
  std::size_t n = 0;
  for (const auto& r : rules) {
    n += !r.expected && (r.verdict == Verdict::Fail || r.verdict == Verdict::Error) ? 1 : 0;
  }
  return n;
}

namespace {

json check_to_json(const CheckOutcome& c) {
  json j{{"rule", c.rule}, {"verdict", to_string(c.verdict)}, {"source", c.source}, {"message", c.message}};
  if (c.seq) j["seq"] = *c.seq;
  return j;
}

json expectation_to_json(const Expectation& e) {
  return json{{"rule", e.rule}, {"verdict", to_string(e.verdict)}, {"reason", e.reason}, {"link", e.link}, {"racy", e.racy}};
}

const char* type_name(json::value_t type) {
  switch (type) {
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::array: return "a list";
    case json::value_t::object: return "an object";
    default: return "a number";
  }
}

// Reads fields of one JSON object, naming "SOURCE: field 'PATH'" in every error.
class Fields {
 public:
  Fields(const json& j, std::string source, std::string path) : j_(j), source_(std::move(source)), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_, "expected an object, got " + std::string(j_.type_name()));
  }
  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw ResultsError(source_ + ": field '" + (path.empty() ? "/" : path) + "': " + what);
  }
  const json& get(const char* name, json::value_t type, bool required = true) const {
    static const json kNull;
    auto it = j_.find(name);
    if (it == j_.end()) {
      if (required) fail(path_ + "/" + name, "missing");
      return kNull;
    }
    bool ok = it->type() == type || (type == json::value_t::number_float && it->is_number()) ||
              (type == json::value_t::number_unsigned && it->is_number_integer() && *it >= 0);
    if (!ok) fail(path_ + "/" + name, std::string("expected ") + type_name(type) + ", got " + it->type_name());
    return *it;
  }
  std::string str(const char* name, bool required = true) const {
    const json& v = get(name, json::value_t::string, required);
    return v.is_string() ? v.get<std::string>() : std::string();
  }
  double num(const char* name, bool required = true) const {
    const json& v = get(name, json::value_t::number_float, required);
    return v.is_number() ? v.get<double>() : 0.0;
  }
  bool boolean(const char* name, bool required = true) const {
    const json& v = get(name, json::value_t::boolean, required);
    return v.is_boolean() && v.get<bool>();
  }
  Verdict verdict(const char* name) const {
    std::string text = str(name);
    auto v = verdict_from_string(text);
    if (!v) fail(path_ + "/" + name, "unknown verdict '" + text + "'");
    return *v;
  }
  std::vector<std::string> strings(const char* name, bool required = true) const {
    const json& v = get(name, json::value_t::array, required);
    std::vector<std::string> out;
    if (!v.is_array()) return out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) fail(path_ + "/" + name + "/" + std::to_string(i), "expected a string");
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }
  template <class F>
  void each(const char* name, F f) const {
    const json& v = get(name, json::value_t::array);
    for (std::size_t i = 0; i < v.size(); ++i) f(Fields(v[i], source_, path_ + "/" + name + "/" + std::to_string(i)));
  }
  Fields object(const char* name) const { return Fields(get(name, json::value_t::object), source_, path_ + "/" + name); }
  const json& raw() const { return j_; }
  bool has(const char* name) const { return j_.contains(name) && !j_[name].is_null(); }

 private:
  const json& j_;
  std::string source_;
  std::string path_;
};

Expectation expectation_from(const Fields& f) {
  return Expectation{f.str("rule"), f.verdict("verdict"), f.str("reason"), f.str("link", false),
                     f.boolean("racy", false)};
}

}  // namespace

json to_json(const RunResults& r) {
  json summary = json::object();
  for (auto v : {Verdict::Pass, Verdict::Fail, Verdict::NonStrict, Verdict::Info, Verdict::Unsupported, Verdict::Error,
                 Verdict::Untested}) {
    summary[std::string(to_string(v))] = r.count(v);
  }
  summary["unexpected"] = r.unexpected();
  summary["rules"] = r.rules.size();
  summary["scenarios"] = r.scenarios.size();

  json rules = json::array();
  for (const auto& o : r.rules) {
    json j{{"id", o.id},           {"title", o.title},      {"level", o.level},
           {"section", o.section}, {"verdict", to_string(o.verdict)}, {"expected", o.expected},
           {"scenarios", o.scenarios}, {"message", o.message}};
    j["expectation"] = o.expectation ? expectation_to_json(*o.expectation) : json(nullptr);
    rules.push_back(std::move(j));
  }
  json scenarios = json::array();
  for (const auto& s : r.scenarios) {
    json checks = json::array();
    for (const auto& c : s.checks) checks.push_back(check_to_json(c));
    json j{{"id", s.id},           {"variant", s.variant}, {"title", s.title},     {"rules", s.rules},
           {"verdict", to_string(s.verdict)}, {"duration_ms", s.duration_ms}, {"checks", checks},
           {"error", s.error},     {"stderr", s.stderr_tail}};
    j["trace"] = s.trace.is_null() ? json(nullptr) : s.trace;
    scenarios.push_back(std::move(j));
  }
  return json{{"format", "loopspec-results"},
              {"version", kResultsFormatVersion},
              {"loopspec", {{"version", r.loopspec_version}, {"revision", r.loopspec_revision}}},
              {"backend",
               {{"name", r.backend.name},
                {"implementation", r.backend.implementation},
                {"version", r.backend.version},
                {"capabilities", r.backend.capabilities},
                {"fault", r.backend.fault}}},
              {"profile", r.profile},
              {"started", r.started},
              {"duration_s", r.duration_s},
              {"host", r.host.is_null() ? json::object() : r.host},
              {"interrupted", r.interrupted},
              {"summary", summary},
              {"rules", rules},
              {"scenarios", scenarios}};
}

RunResults results_from_json(const json& j, const std::string& source) {
  Fields top(j, source, "");
  if (top.str("format") != "loopspec-results") top.fail("/format", "not a loopspec results file");
  double version = top.num("version");
  if (version != kResultsFormatVersion) {
    top.fail("/version", "unsupported version " + json(version).dump() + " (this loopspec reads " +
                             std::to_string(kResultsFormatVersion) + ")");
  }
  RunResults r;
  Fields meta = top.object("loopspec");
  r.loopspec_version = meta.str("version");
  r.loopspec_revision = meta.str("revision", false);
  Fields backend = top.object("backend");
  r.backend.name = backend.str("name");
  r.backend.implementation = backend.str("implementation", false);
  r.backend.version = backend.str("version", false);
  r.backend.capabilities = backend.strings("capabilities", false);
  r.backend.fault = backend.str("fault", false);
  r.profile = top.str("profile");
  r.started = top.str("started", false);
  r.duration_s = top.num("duration_s", false);
  if (top.has("host")) r.host = top.object("host").raw();
  r.interrupted = top.boolean("interrupted", false);
  top.each("rules", [&](const Fields& f) {
    RuleOutcome o;
    o.id = f.str("id");
    o.title = f.str("title", false);
    o.level = f.str("level");
    o.section = f.str("section", false);
    o.verdict = f.verdict("verdict");
    o.expected = f.boolean("expected");
    if (f.has("expectation")) o.expectation = expectation_from(f.object("expectation"));
    o.scenarios = f.strings("scenarios", false);
    o.message = f.str("message", false);
    r.rules.push_back(std::move(o));
  });
  top.each("scenarios", [&](const Fields& f) {
    ScenarioOutcome s;
    s.id = f.str("id");
    s.variant = f.str("variant");
    s.title = f.str("title", false);
    s.rules = f.strings("rules", false);
    s.verdict = f.verdict("verdict");
    s.duration_ms = f.num("duration_ms", false);
    f.each("checks", [&](const Fields& c) {
      CheckOutcome check{c.str("rule"), c.verdict("verdict"), c.str("source", false), c.str("message", false), {}};
      if (c.has("seq")) check.seq = static_cast<std::uint64_t>(c.num("seq"));
      s.checks.push_back(std::move(check));
    });
    s.error = f.str("error", false);
    s.stderr_tail = f.str("stderr", false);
    if (f.has("trace")) s.trace = f.object("trace").raw();
    r.scenarios.push_back(std::move(s));
  });
  return r;
}

RunResults read_results(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ResultsError(path.string() + ": cannot open");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double is out_of_range (406).
    throw ResultsError(path.string() + ": invalid JSON: " + e.what());
  }
  return results_from_json(j, path.string());
}

void write_results(const RunResults& results, const std::filesystem::path& path) {
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
    // Strings from backends may hold invalid UTF-8: replace rather than throw.
    out << to_json(results).dump(1, ' ', false, json::error_handler_t::replace) << '\n';
    if (!out.flush()) throw std::runtime_error(tmp.string() + ": write failed");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace loopspec
