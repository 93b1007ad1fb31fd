// Which sanitizer instruments the test binary, for the tests whose figures
// mean something else under it (resident size: AddressSanitizer keeps freed
// memory in its quarantine; LeakSanitizer checks leaks there instead).
#pragma once

namespace loopspec::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kUnderAddressSanitizer = true;
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif

}  // namespace loopspec::testing
