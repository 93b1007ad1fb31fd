// The "example" backend: what a loop author writes to put a loop under the
// suite. Its loop is loopspec's reference epoll loop, so the example stays
// short; yours would be your loop's adapter (docs/writing-a-backend.md).
//
// Promises: declares only stream capabilities (tcp, unix, buffered), so every
// other scenario is UNSUPPORTED rather than run; offers one test-only fault,
// "pause-at-high", which makes pause_writing come at the high watermark instead
// of strictly over it.
#pragma once

#include "loopspec/backend.hpp"

namespace example {

void register_example_backend(loopspec::BackendRegistry& registry);

}  // namespace example
