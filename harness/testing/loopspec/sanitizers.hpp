// Which sanitizer instruments the test binary, for the tests whose figures
// mean something else under it (resident size: AddressSanitizer keeps freed
// memory in its quarantine; LeakSanitizer checks leaks there instead) or that
// it cannot host (UndefinedBehaviorSanitizer needs free descriptors).
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

// LOOPSPEC_SANITIZE=ON builds with UndefinedBehaviorSanitizer and says so (CMakeLists.txt).
#if defined(LOOPSPEC_UNDEFINED_BEHAVIOR_SANITIZER)
inline constexpr bool kUnderUndefinedBehaviorSanitizer = true;
#else
inline constexpr bool kUnderUndefinedBehaviorSanitizer = false;
#endif

}  // namespace loopspec::testing
