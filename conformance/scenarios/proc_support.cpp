#include "proc_support.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace loopspec::scenarios {

// ---- observations ----

bool ProcessObservations::pipe_lost(int fd) const {
  return std::any_of(pipes_lost.begin(), pipes_lost.end(), [fd](const auto& entry) { return entry.first == fd; });
}

std::string ProcessObservations::order_text() const {
  std::string text;
  for (const auto& step : order) text += (text.empty() ? "" : ", ") + step;
  return text;
}

void ObservingSubprocessProtocol::connection_made(std::shared_ptr<BaseTransport> transport) {
  ++seen_.made;
  seen_.transport = std::dynamic_pointer_cast<SubprocessTransport>(transport);
}

void ObservingSubprocessProtocol::pipe_data_received(int fd, std::string_view data) {
  if (fd >= 0 && fd < 3) seen_.output[static_cast<std::size_t>(fd)].append(data);
  seen_.data_fds.push_back(fd);
  // Consecutive data of one pipe is one step of the order.
  std::string step = "data:" + std::to_string(fd);
  if (seen_.order.empty() || seen_.order.back() != step) seen_.order.push_back(step);
}

void ObservingSubprocessProtocol::pipe_connection_lost(int fd, const MaybeError& exc) {
  seen_.pipes_lost.emplace_back(fd, exc);
  seen_.order.push_back("pipe_lost:" + std::to_string(fd));
}

void ObservingSubprocessProtocol::process_exited() {
  ++seen_.exited;
  if (seen_.transport) seen_.returncode_at_exit = seen_.transport->get_returncode();
  seen_.order.push_back("exited");
}

void ObservingSubprocessProtocol::connection_lost(const MaybeError& exc) {
  ++seen_.lost;
  seen_.lost_error = exc;
  seen_.order.push_back("lost");
}

void ObservingSubprocessProtocol::pause_writing() {
  ++seen_.pauses;
  if (hooks_.on_pause) hooks_.on_pause();
}

void ObservingSubprocessProtocol::resume_writing() {
  ++seen_.resumes;
  if (hooks_.on_resume) hooks_.on_resume();
}

// ---- children of the backend ----

std::shared_ptr<WriteTransport> ChildProcess::stdin_pipe() {
  return std::dynamic_pointer_cast<WriteTransport>(transport().get_pipe_transport(0));
}

std::shared_ptr<ReadTransport> ChildProcess::output_pipe(int fd) {
  return std::dynamic_pointer_cast<ReadTransport>(transport().get_pipe_transport(fd));
}

std::unique_ptr<ChildProcess> start_child(ScenarioContext& ctx, const std::string& script, SubprocessOptions options) {
  auto child = std::make_unique<ChildProcess>();
  child->protocol = std::make_shared<ObservingSubprocessProtocol>(child->seen, child->hooks);
  child->recorded = ctx.recorder().record_subprocess(child->protocol);
  bool completed = false;
  MaybeError failure;
  ChildProcess* raw = child.get();
  auto done = [&, raw](Outcome<SubprocessTransport> outcome) {
    completed = true;
    failure = outcome.error;
    raw->completed = outcome.value;
    raw->made_before_done = raw->seen.made > 0;
  };
  auto factory = [recorded = child->recorded] { return recorded; };
  if (ctx.variant() == "subprocess+shell") {
    ctx.loop().subprocess_shell(factory, script, options, done);
  } else {
    ctx.loop().subprocess_exec(factory, {"/bin/sh", "-c", script}, options, done);
  }
  ctx.wait([&] { return completed; }, "the child to start");
  if (failure || !child->completed) {
    throw ScenarioAbort("the child did not start: " + (failure ? failure->to_string() : std::string("no transport")));
  }
  ctx.wait([&] { return child->seen.made > 0; }, "connection_made");
  if (!child->seen.transport) throw ScenarioAbort("connection_made did not get a SubprocessTransport");
  return child;
}

// ---- pipes held for a child ----

HeldPipe::HeldPipe(bool child_reads) : child_reads_(child_reads) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) throw ScenarioAbort(std::string("pipe2: ") + std::strerror(errno));
  child_end_ = child_reads ? fds[0] : fds[1];
  held_end_ = child_reads ? fds[1] : fds[0];
}

std::unique_ptr<ChildProcess> start_child_with(ScenarioContext& ctx, const std::string& script, HeldPipe& pipe) {
  SubprocessOptions options;
  (pipe.child_reads() ? options.stdin_spec : options.stdout_spec) = pipe.child_spec();
  auto child = start_child(ctx, script, options);
  pipe.close_child_end();
  return child;
}

HeldPipe::~HeldPipe() {
  close_child_end();
  close_held_end();
}

void HeldPipe::close_child_end() {
  if (child_end_ >= 0) ::close(child_end_);
  child_end_ = -1;
}

void HeldPipe::close_held_end() {
  if (held_end_ >= 0) ::close(held_end_);
  held_end_ = -1;
}

int HeldPipe::release_held_end() {
  int fd = held_end_;
  held_end_ = -1;
  return fd;
}

std::string HeldPipe::read_available() {
  std::string out;
  if (held_end_ < 0) return out;
  int flags = ::fcntl(held_end_, F_GETFL);
  ::fcntl(held_end_, F_SETFL, flags | O_NONBLOCK);
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(held_end_, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return out;
  }
}

}  // namespace loopspec::scenarios
