// Split invariance of the example protocols (fuzz/protocols/): the first byte
// picks the protocol, the rest is a SplitPlan input (header, then payload).
#include <cstddef>
#include <cstdint>

#include "loopspec/fuzz/protocols/driver_message_protocol.hpp"
#include "loopspec/fuzz/protocols/frame_protocol.hpp"
#include "loopspec/fuzz/protocols/http_request_protocol.hpp"
#include "loopspec/fuzz/protocols/line_protocol.hpp"
#include "loopspec/fuzz/split_invariance.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace loopspec::fuzz;
  if (size == 0) return 0;
  static const SubjectFactory kSubjects[] = {protocols::line_subject, protocols::frame_subject,
                                             protocols::http_request_subject, protocols::driver_message_subject};
  fuzz_split_invariance(data + 1, size - 1, kSubjects[data[0] % 4]);
  return 0;
}
