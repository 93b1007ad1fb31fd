// loopspec's parsers of untrusted input: byte 0 picks one, the rest is its input.
//   0: a rules catalogue file (RuleCatalogue::parse)
//   1: a JSON Lines trace (read_trace), streamed through the checker, then
//      written and read again: the events must come back equal
//   2: a results.json file (read_results), which must survive to_json and
//      results_from_json unchanged
//   3: driver messages on a channel (Channel::receive over a socketpair), each
//      field read with every MessageView reader
// Oracle: each parser returns or throws its own error type (RuleError,
// TraceError, ResultsError, DriverFailure) with a message; anything else (a
// crash, another exception, a sanitizer report, a hang) is a finding.
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "loopspec/checker.hpp"
#include "loopspec/conformance/results.hpp"
#include "loopspec/remote/channel.hpp"
#include "loopspec/remote/wire.hpp"
#include "loopspec/rules.hpp"
#include "loopspec/trace.hpp"

namespace {

using namespace loopspec;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "parsers: %s\n", what.c_str());
  std::abort();
}

void expect_message(const std::exception& e) {
  if (std::string_view(e.what()).empty()) finding("an error without a message");
}

void rules(std::string_view text) {
  try {
    RuleCatalogue::parse(text, "fuzz.yaml");
  } catch (const RuleError& e) {
    expect_message(e);
  }
}

void trace(std::string_view text) {
  Trace first;
  try {
    Checker checker;
    TraceFanout both({&first, &checker});
    std::istringstream in{std::string(text)};
    read_trace(in, both, "fuzz.jsonl");
    for (const Violation& v : checker.violations()) {
      if (v.rule.empty()) finding("a violation without a rule id");
    }
  } catch (const TraceError& e) {
    expect_message(e);
    return;
  }
  std::ostringstream out;
  TraceWriter writer(out);
  first.replay(writer);
  Trace second;
  std::istringstream again(out.str());
  try {
    read_trace(again, second, "rewritten.jsonl");
  } catch (const TraceError& e) {
    finding(std::string("a trace that was read could not be read again once written: ") + e.what());
  }
  if (second.events != first.events || second.header != first.header) finding("a trace changed when written and read again");
}

void results(std::string_view text) {
  // read_results takes a path: the input is a memory file behind /proc/self/fd.
  static const int fd = ::memfd_create("results.json", MFD_CLOEXEC);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ::ftruncate(fd, 0) < 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    finding("cannot write the memory file");
  }
  RunResults read;
  try {
    read = read_results(path);
  } catch (const ResultsError& e) {
    expect_message(e);
    return;
  }
  nlohmann::json once = to_json(read);
  nlohmann::json twice;
  try {
    twice = to_json(results_from_json(once, "rewritten"));
  } catch (const ResultsError& e) {
    finding(std::string("results that were read could not be read again once written: ") + e.what());
  }
  if (once != twice) finding("results changed when written and read again");
}

void probe_fields(const nlohmann::json& message, std::string& staged) {
  remote::MessageView view(message, "fuzz", &staged);
  for (const auto& item : message.items()) {
    const char* field = item.key().c_str();
    auto attempt = [](auto read) {
      try {
        read();
      } catch (const remote::DriverFailure& e) {
        expect_message(e);
      }
    };
    attempt([&] { view.id(field); });
    attempt([&] { view.integer(field); });
    attempt([&] { view.boolean(field); });
    attempt([&] { view.string(field); });
    attempt([&] { view.blob(field); });
    attempt([&] { view.error(field); });
  }
}

void driver_messages(std::string_view text) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) finding("socketpair failed");
  remote::Channel channel(fds[0]);
  int writer = fds[1];
  auto now = [] { return remote::Clock::now(); };
  try {
    // Writes as much as the socket takes, reads what is complete, until all is written and read.
    std::size_t sent = 0;
    for (;;) {
      while (writer >= 0 && sent < text.size()) {
        ssize_t n = ::send(writer, text.data() + sent, text.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      if (writer >= 0 && sent == text.size()) {
        ::close(writer);
        writer = -1;
      }
      auto received = channel.receive(now());
      if (received.status == remote::Channel::Received::Status::EndOfStream) break;
      if (received.status == remote::Channel::Received::Status::Message) probe_fields(received.message, received.staged);
    }
  } catch (const remote::DriverFailure& e) {
    expect_message(e);
  }
  if (writer >= 0) ::close(writer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: rules(text); break;
    case 1: trace(text); break;
    case 2: results(text); break;
    case 3: driver_messages(text); break;
  }
  return 0;
}
