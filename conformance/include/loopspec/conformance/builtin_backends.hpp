// Registers every backend compiled into this build with the registry.
#pragma once

#include "loopspec/backend.hpp"

namespace loopspec {

void register_builtin_backends(BackendRegistry& registry);

}  // namespace loopspec
