// The "reference" backend: the epoll loop of this library.
//
// Promises: register_reference_backend adds "reference" to a registry; each
// make_loop() is a fresh EpollLoop with the fault chosen by
// BackendOptions::fault (none by default). Creating the backend with an
// unknown fault name throws std::invalid_argument listing the known ones.
#pragma once

#include "loopspec/backend.hpp"

namespace loopspec::reference {

// name "reference", capabilities tcp, unix, buffered, udp, pipes, subprocess, and every fault of faults.hpp.
const BackendInfo& reference_backend_info();

}  // namespace loopspec::reference

namespace loopspec {

void register_reference_backend(BackendRegistry& registry);

}  // namespace loopspec
