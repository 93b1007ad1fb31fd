// What lives on an in-process loop and must let go of it when the loop is
// destroyed first (a transport, a server, a timer, a child).
//
// Promise: on_loop_destroyed() is called at most once, while the loop still
// exists; the resident closes its I/O objects, drops its protocol and never
// touches the loop again.
#pragma once

namespace loopspec::kit {

class LoopResident {
 public:
  virtual ~LoopResident() = default;
  virtual void on_loop_destroyed() = 0;
};

}  // namespace loopspec::kit
