#include "loopspec/libuv/handle_box.hpp"

#include <unistd.h>

namespace loopspec::libuv {

HandleBox::~HandleBox() {
  if (owned_fd >= 0) ::close(owned_fd);
}

HandleBox* HandleBox::make(std::shared_ptr<LoopResident> owner) { return new HandleBox(std::move(owner)); }

void HandleBox::close(HandleBox* box) {
  if (box != nullptr && !uv_is_closing(&box->handle)) uv_close(&box->handle, on_closed);
}

void HandleBox::discard(HandleBox* box) { delete box; }

void HandleBox::on_closed(uv_handle_t* handle) { delete static_cast<HandleBox*>(handle->data); }

LoopResident* HandleBox::owner_of(const uv_handle_t* handle) {
  auto* box = static_cast<HandleBox*>(handle->data);
  return box == nullptr ? nullptr : box->owner.get();
}

}  // namespace loopspec::libuv
