#include "loopspec/libuv/handle_box.hpp"

#include <unistd.h>

#include <cstring>
#include <new>

namespace loopspec::libuv {

HandleBox::~HandleBox() {
  if (owned_fd >= 0) ::close(owned_fd);
}

HandleBox* HandleBox::make(std::shared_ptr<LoopResident> owner) {
  // Zeroed first: libuv's *_init leave some fields of a handle as they find them.
  void* memory = ::operator new(sizeof(HandleBox));
  std::memset(memory, 0, sizeof(HandleBox));
  return new (memory) HandleBox(std::move(owner));
}

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
