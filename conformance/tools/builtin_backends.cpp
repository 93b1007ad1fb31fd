// The backends compiled into this loopspec: the only file that names them.
#include "loopspec/conformance/builtin_backends.hpp"

#include "loopspec/reference/reference_backend.hpp"
#include "loopspec/remote/remote_backend.hpp"

namespace loopspec {

void register_builtin_backends(BackendRegistry& registry) {
  register_reference_backend(registry);
  register_remote_backends(registry);
}

}  // namespace loopspec
