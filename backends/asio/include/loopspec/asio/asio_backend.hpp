// The "asio" backend: an asyncio event loop on boost::asio::io_context
// (asio_loop.hpp), registered under the name "asio".
#pragma once

#include "loopspec/backend.hpp"

namespace loopspec {

const BackendInfo& asio_backend_info();

// Registers "asio" (one fresh AsioLoop per scenario, per kit::LoopBackend).
void register_asio_backend(BackendRegistry& registry);

}  // namespace loopspec
