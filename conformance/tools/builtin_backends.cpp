// The backends compiled into this loopspec: the only file that names them.
#include "loopspec/conformance/builtin_backends.hpp"

#include "loopspec/reference/reference_backend.hpp"
#include "loopspec/remote/remote_backend.hpp"
#ifdef LOOPSPEC_HAVE_LIBUV
#include "loopspec/libuv/libuv_backend.hpp"
#endif
#ifdef LOOPSPEC_HAVE_ASIO
#include "loopspec/asio/asio_backend.hpp"
#endif

namespace loopspec {

void register_builtin_backends(BackendRegistry& registry) {
  register_reference_backend(registry);
  register_remote_backends(registry);
#ifdef LOOPSPEC_HAVE_LIBUV
  register_libuv_backend(registry);
#endif
#ifdef LOOPSPEC_HAVE_ASIO
  register_asio_backend(registry);
#endif
}

}  // namespace loopspec
