// Overloaded{lambdas...}: one callable made of several, for std::visit.
// The deduction guide is spelled out for compilers without C++20's aggregate
// deduction (clang before 17).
#pragma once

namespace loopspec {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace loopspec
