// The locations shipped_data() promises, given by whoever compiles this file:
// harness/CMakeLists.txt for the build tree, loopspecConfig.cmake for an
// installed package (see loopspec/shipped_data.hpp).
#include "loopspec/shipped_data.hpp"

#if !defined(LOOPSPEC_SHIPPED_SPEC_DIR) || !defined(LOOPSPEC_SHIPPED_EXPECTATIONS_DIR) || \
    !defined(LOOPSPEC_SHIPPED_TLS_DIR) || !defined(LOOPSPEC_SHIPPED_PYTHON_DRIVER)
#error "the LOOPSPEC_SHIPPED_* locations must be defined by the build"
#endif

namespace loopspec {

const ShippedData& shipped_data() {
  static const ShippedData data{LOOPSPEC_SHIPPED_SPEC_DIR, LOOPSPEC_SHIPPED_EXPECTATIONS_DIR, LOOPSPEC_SHIPPED_TLS_DIR,
                                LOOPSPEC_SHIPPED_PYTHON_DRIVER};
  return data;
}

}  // namespace loopspec
