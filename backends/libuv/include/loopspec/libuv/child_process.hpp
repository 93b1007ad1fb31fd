// A child process (uv_spawn) and its pipes as an asyncio
// SubprocessTransport: the kit's (kit/child_process.hpp: lifecycle,
// callbacks, signals, close), with the child started and reaped by libuv.
//
// Promises:
// - spawn() starts the child at once with uv_spawn; each stdio stream asked
//   as a pipe is a UV_CREATE_PIPE whose parent end becomes a pipe transport
//   of this loop (stdin a WritePipeTransport, stdout and stderr
//   ReadPipeTransports); DevNull is libuv's UV_IGNORE (the child gets
//   /dev/null), Inherit and Fd are UV_INHERIT_FD. A child that cannot start
//   is the canonical error of uv_spawn's status (FileNotFoundError, ...).
//   connection_made, then `done`, come from a callback scheduled after the
//   pipes' own.
// - The loop's destruction kills a child still running and reaps it, so
//   nothing outlives the loop, not even a zombie.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "loopspec/event_loop.hpp"
#include "loopspec/kit/child_process.hpp"
#include "loopspec/libuv/handle_box.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

class ChildProcess final : public kit::ChildProcess, public LoopResident {
 public:
  // Throws ContractError when the child cannot be started.
  static void spawn(UvLoop& loop, const std::vector<std::string>& argv, const SubprocessOptions& options,
                    std::shared_ptr<SubprocessProtocol> protocol, Completion<SubprocessTransport> done);

  ChildProcess(UvLoop& loop, std::shared_ptr<SubprocessProtocol> protocol);
  ~ChildProcess() override;

  // LoopResident
  void on_loop_destroyed() override;

 private:
  static void on_exit(uv_process_t* process, int64_t exit_status, int term_signal);
  bool running() const override { return box_ != nullptr && !returncode_; }
  MaybeError signal_child(int signal) override;

  UvLoop* uv_loop_;           // null once the loop is destroyed
  HandleBox* box_ = nullptr;  // the uv_process_t, until the child was reaped
};

}  // namespace loopspec::libuv
