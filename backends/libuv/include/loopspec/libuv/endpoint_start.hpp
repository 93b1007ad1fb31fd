// kit::start_endpoint (kit/endpoint_start.hpp) for a T(loop, box, args...)
// that adopts box; after a failure the box is closed (a no-op when the
// transport closed it already).
#pragma once

#include <memory>
#include <utility>

#include "loopspec/kit/endpoint_start.hpp"
#include "loopspec/libuv/handle_box.hpp"
#include "loopspec/libuv/uv_loop.hpp"

namespace loopspec::libuv {

template <class T, class Factory, class Done, class... Args>
std::shared_ptr<T> start_endpoint(UvLoop& loop, HandleBox* box, const Factory& factory, Done done, Args&&... args) {
  return kit::start_endpoint<T>(
      loop, factory, std::move(done), [&] { return std::make_shared<T>(loop, box, std::forward<Args>(args)...); },
      [box] { HandleBox::close(box); });
}

}  // namespace loopspec::libuv
