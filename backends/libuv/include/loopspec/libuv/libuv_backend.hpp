// The "libuv" backend: UvLoop (uv_loop.hpp) and its transports, in process.
//
// Promises: info() names libuv's run-time version (uv_version_string()) and
// declares only what the transports implement; make_loop() returns a fresh
// UvLoop with the fault chosen by name (kit/faults.hpp), among those the
// code of this backend consults.
#pragma once

#include "loopspec/backend.hpp"

namespace loopspec {

const BackendInfo& libuv_backend_info();
void register_libuv_backend(BackendRegistry& registry);

}  // namespace loopspec
