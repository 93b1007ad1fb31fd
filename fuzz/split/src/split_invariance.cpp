#include "loopspec/fuzz/split_invariance.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <tuple>

#include "loopspec/checker.hpp"
#include "loopspec/fuzz/mock_stream_transport.hpp"
#include "loopspec/fuzz/split_plan.hpp"
#include "loopspec/recorder.hpp"
#include "loopspec/transports.hpp"

namespace loopspec::fuzz {

namespace {

// Sits between the recorder and the protocol under test to catch the
// recorded transport, so that the application's pause/resume/close go
// through the recorder like the protocol's own calls.
struct CaughtTransport {
  std::shared_ptr<Transport> transport;
};

template <class Base>
class TransportCatcher : public Base, public CaughtTransport {
 public:
  explicit TransportCatcher(std::shared_ptr<Base> inner) : inner_(std::move(inner)) {}

  void connection_made(std::shared_ptr<BaseTransport> t) override {
    transport = std::dynamic_pointer_cast<Transport>(t);
    inner_->connection_made(std::move(t));
  }
  void connection_lost(const MaybeError& exc) override { inner_->connection_lost(exc); }
  void pause_writing() override { inner_->pause_writing(); }
  void resume_writing() override { inner_->resume_writing(); }
  bool eof_received() override { return inner_->eof_received(); }

 protected:
  std::shared_ptr<Base> inner_;
};

class ProtocolCatcher final : public TransportCatcher<Protocol> {
 public:
  using TransportCatcher::TransportCatcher;
  void data_received(std::string_view data) override { inner_->data_received(data); }
};

class BufferedCatcher final : public TransportCatcher<BufferedProtocol> {
 public:
  using TransportCatcher::TransportCatcher;
  std::span<char> get_buffer(std::int64_t sizehint) override { return inner_->get_buffer(sizehint); }
  void buffer_updated(std::size_t nbytes) override { inner_->buffer_updated(nbytes); }
};

struct Delivery {
  std::string name;
  std::shared_ptr<const EventLog> log;
  std::string written;
  std::vector<std::string> actions;
  std::string problem;  // a contract breach or a checker violation
};

Delivery deliver(const SplitPlan& plan, const std::vector<std::size_t>& chunks, std::string name,
                 const SubjectFactory& make, bool record) {
  Subject subject = make();
  // The protocol appends to the log as it goes: the delivery keeps the log, not a copy.
  Delivery out{std::move(name), subject.log, {}, {}, {}};
  if (!out.log) {
    out.problem = "the subject has no log";
    return out;
  }
  // Only a recorded delivery needs a checker, and the checker reads no digests.
  std::optional<Checker> checker;
  std::optional<Recorder> recorder;
  if (record) recorder.emplace(checker.emplace(), RecorderOptions{.digests = false});

  std::shared_ptr<StreamProtocol> catcher;
  const CaughtTransport* caught = nullptr;
  if (auto plain = std::dynamic_pointer_cast<Protocol>(subject.protocol)) {
    auto c = std::make_shared<ProtocolCatcher>(plain);
    caught = c.get();
    catcher = std::move(c);
  } else if (auto buffered = std::dynamic_pointer_cast<BufferedProtocol>(subject.protocol)) {
    auto c = std::make_shared<BufferedCatcher>(buffered);
    caught = c.get();
    catcher = std::move(c);
  } else {
    out.problem = "the subject is neither a Protocol nor a BufferedProtocol";
    return out;
  }
  auto app = [caught] { return caught->transport.get(); };

  auto transport = std::make_shared<MockStreamTransport>(plan.size_hints);
  transport->connect(record ? recorder->record_stream(catcher) : catcher);
  transport->pump();

  std::size_t offset = 0;
  bool app_paused = false;
  bool pause_done = false;
  int paused_steps = 0;
  auto step = [&] {
    // The application pauses once, at the first chunk boundary at or after pause_at, and
    // resumes after resume_after deliveries; a protocol that paused itself is resumed
    // at once, as an application would that drained it.
    if (!pause_done && offset >= plan.pause_at && !transport->lost() && !transport->is_closing()) {
      pause_done = true;
      app_paused = true;
      app()->pause_reading();
    }
    if (!transport->is_closing() && !transport->is_reading()) {
      if (!app_paused || paused_steps++ >= plan.resume_after) {
        app_paused = false;
        app()->resume_reading();
      }
    }
    transport->pump();
  };
  for (std::size_t size : chunks) {
    step();
    if (transport->lost()) break;
    transport->feed(plan.payload.substr(offset, size));
    offset += size;
  }
  if (!transport->lost()) {
    if (plan.eof) transport->feed_eof();
    // Enough steps to resume and drain whatever is queued.
    for (int i = 0; i < 6 && !transport->lost(); ++i) step();
    if (!transport->lost()) app()->close();
    transport->pump();
  }
  if (checker) checker->on_end(true);

  out.written = transport->written();
  out.actions = transport->actions();
  if (!transport->contract_breach().empty()) {
    out.problem = "contract breach: " + transport->contract_breach();
  } else if (checker && !checker->violations().empty()) {
    out.problem = "checker: " + checker->violations().front().message();
  } else if (!transport->lost()) {
    out.problem = "connection_lost never came";
  }
  return out;
}

std::string clip(const std::string& text) { return text.size() <= 200 ? text : text.substr(0, 197) + "..."; }

std::optional<std::string> compare_lists(const std::string& what, const std::vector<std::string>& a,
                                         const std::vector<std::string>& b, const Delivery& da, const Delivery& db) {
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string none = "(nothing)";
    const std::string& x = i < a.size() ? a[i] : none;
    const std::string& y = i < b.size() ? b[i] : none;
    if (x != y) {
      return what + " differs at entry " + std::to_string(i) + ": " + da.name + " gave \"" + clip(x) + "\", " + db.name +
             " gave \"" + clip(y) + "\"";
    }
  }
  return std::nullopt;
}

std::optional<std::string> compare(const Delivery& a, const Delivery& b) {
  if (auto d = compare_lists("the event log", *a.log, *b.log, a, b)) return d;
  if (a.written != b.written) {
    return "the bytes written differ: " + a.name + " wrote " + std::to_string(a.written.size()) + ", " + b.name +
           " wrote " + std::to_string(b.written.size());
  }
  return compare_lists("what the protocol did to its transport", a.actions, b.actions, a, b);
}

}  // namespace

std::optional<std::string> check_split_invariance(std::span<const std::uint8_t> input, const SubjectFactory& make) {
  SplitPlan plan = SplitPlan::parse(input);
  std::vector<std::size_t> whole;
  if (!plan.payload.empty()) whole.push_back(plan.payload.size());
  std::vector<std::size_t> bytes(std::min(plan.payload.size(), kByteByByteLimit), 1);
  if (plan.payload.size() > kByteByByteLimit) bytes.push_back(plan.payload.size() - kByteByByteLimit);

  Delivery reference = deliver(plan, whole, "whole", make, true);
  if (!reference.problem.empty()) return "whole: " + reference.problem;
  std::vector<std::size_t> fuzzed = plan.fuzzed_chunks();
  using Run = std::tuple<const std::vector<std::size_t>*, const char*, bool>;
  for (auto [chunks, name, record] : {Run{&bytes, "byte by byte", false}, Run{&fuzzed, "fuzzed splits", true}}) {
    // Fuzzed splits of single bytes over at most kByteByByteLimit bytes are the byte-by-byte delivery:
    // that one runs recorded, once.
    if (chunks == &bytes && bytes == fuzzed) continue;
    Delivery other = deliver(plan, *chunks, name, make, record);
    if (!other.problem.empty()) return std::string(name) + ": " + other.problem;
    if (auto difference = compare(reference, other)) return difference;
  }
  return std::nullopt;
}

void fuzz_split_invariance(const std::uint8_t* data, std::size_t size, const SubjectFactory& make) {
  if (auto finding = check_split_invariance({data, size}, make)) {
    std::fprintf(stderr, "split invariance: %s\n", finding->c_str());
    std::abort();
  }
}

}  // namespace loopspec::fuzz
