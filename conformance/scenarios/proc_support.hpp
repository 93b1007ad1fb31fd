// Building blocks of the subprocess scenarios: an observing
// SubprocessProtocol, children started by the backend under test, and pipes
// the harness holds for a child.
//
// Variants: "subprocess" runs each child with subprocess_exec(["/bin/sh",
// "-c", script]), "subprocess+shell" with subprocess_shell(script). Children
// are small POSIX shell scripts; a child that must wait reads a pipe the
// scenario holds (HeldPipe), never sleeps.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopspec/conformance/context.hpp"

namespace loopspec::scenarios {

namespace process_variants {
inline const std::vector<std::string> kAll{"subprocess", "subprocess+shell"};
}  // namespace process_variants

struct ProcessObservations {
  std::shared_ptr<SubprocessTransport> transport;  // the recorded transport given to connection_made
  int made = 0;
  std::array<std::string, 3> output;  // by the fd pipe_data_received named (0..2)
  std::vector<int> data_fds;          // the fd of every pipe_data_received, in order
  std::vector<std::pair<int, MaybeError>> pipes_lost;
  int exited = 0;
  std::optional<int> returncode_at_exit;  // get_returncode() inside process_exited
  std::vector<std::string> order;         // "data:1", "pipe_lost:1", "exited", ... for the INFO record
  int lost = 0;
  MaybeError lost_error;
  int pauses = 0;
  int resumes = 0;
  bool writing_paused() const { return pauses > resumes; }
  bool pipe_lost(int fd) const;
  std::string order_text() const;
};

struct ProcessHooks {
  std::function<void()> on_pause;
  std::function<void()> on_resume;
};

class ObservingSubprocessProtocol : public SubprocessProtocol {
 public:
  ObservingSubprocessProtocol(ProcessObservations& seen, ProcessHooks& hooks) : seen_(seen), hooks_(hooks) {}
  void connection_made(std::shared_ptr<BaseTransport> transport) override;
  void pipe_data_received(int fd, std::string_view data) override;
  void pipe_connection_lost(int fd, const MaybeError& exc) override;
  void process_exited() override;
  void connection_lost(const MaybeError& exc) override;
  void pause_writing() override;
  void resume_writing() override;

 private:
  ProcessObservations& seen_;
  ProcessHooks& hooks_;
};

// A child of the backend under test with a recorded observing protocol.
struct ChildProcess {
  ProcessObservations seen;
  ProcessHooks hooks;
  std::shared_ptr<SubprocessProtocol> protocol;  // the observing protocol, before recording
  std::shared_ptr<SubprocessProtocol> recorded;  // what the protocol factory handed the loop
  std::shared_ptr<SubprocessTransport> completed;
  bool made_before_done = false;
  SubprocessTransport& transport() { return *seen.transport; }
  // The pipe transports, as the recorded transport hands them out (null when absent or of another class).
  std::shared_ptr<WriteTransport> stdin_pipe();
  std::shared_ptr<ReadTransport> output_pipe(int fd);
};

// Starts `script` with /bin/sh as this variant says, waiting for
// connection_made; a child that cannot start stops the scenario.
std::unique_ptr<ChildProcess> start_child(ScenarioContext& ctx, const std::string& script, SubprocessOptions options);

inline SubprocessOptions all_pipes() { return {}; }

// A return code as Python prints it: the number, or None.
inline std::string returncode_text(const std::optional<int>& code) { return code ? std::to_string(*code) : "None"; }

// A pipe the scenario holds for a child: the child gets one end as a
// Stdio::Fd, the scenario keeps the other; close_child_end() after the child
// started, close_held_end() to give the child its end of file.
class HeldPipe {
 public:
  // child_reads: the child gets the read end (its stdin); else the write end.
  explicit HeldPipe(bool child_reads);
  ~HeldPipe();
  HeldPipe(const HeldPipe&) = delete;
  HeldPipe& operator=(const HeldPipe&) = delete;

  StdioSpec child_spec() const { return StdioSpec{Stdio::Fd, child_end_}; }
  bool child_reads() const { return child_reads_; }
  void close_child_end();
  void close_held_end();
  // Hands the held end over (e.g. to a PipePeer); the caller closes it.
  int release_held_end();
  // Reads what is available at the held end right now (non-blocking).
  std::string read_available();

 private:
  bool child_reads_;
  int child_end_ = -1;
  int held_end_ = -1;
};

// start_child with the child's stdin (when it reads `pipe`) or its stdout
// (when it writes it) on `pipe`, the other streams piped; the pipe's child
// end is closed once the child started, so that only the child holds it.
std::unique_ptr<ChildProcess> start_child_with(ScenarioContext& ctx, const std::string& script, HeldPipe& pipe);

}  // namespace loopspec::scenarios
