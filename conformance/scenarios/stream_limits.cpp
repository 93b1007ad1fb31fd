// set_write_buffer_limits / get_write_buffer_limits: validation, defaults,
// and the values read back.
#include <fmt/core.h>

#include "support.hpp"

namespace loopspec::scenarios {
namespace {

std::string describe(const MaybeError& e) { return e ? e->to_string() : "no error"; }

LOOPSPEC_SCENARIO({
    .id = "stream.limits.set-and-get",
    .title = "watermarks: defaults recorded; invalid limits raise ValueError; valid ones are read back; high alone "
             "gives low <= high; high=0 forces low=0",
    .rules = {"write.limits.validation", "write.limits.get-returns-set", "write.limits.low-defaults-le-high",
              "write.limits.high-zero-forces-low-zero", "write.limits.defaults", "write.limits.non-negative"},
    .variants = variants::kStream,
    .body =
        [](ScenarioContext& ctx) {
          auto& conn = ctx.open_stream();
          auto& t = *conn.transport();
          auto defaults = t.get_write_buffer_limits();
          ctx.check("write.limits.defaults", true,
                    fmt::format("default watermarks: low {}, high {}", defaults.low, defaults.high));
          ctx.check("write.limits.non-negative", defaults.low >= 0 && defaults.high >= defaults.low,
                    fmt::format("default watermarks: low {}, high {}", defaults.low, defaults.high));

          auto low_over_high = capture_error([&] { t.set_write_buffer_limits(10, 20); });
          ctx.check("write.limits.validation", low_over_high && low_over_high->type == "ValueError",
                    "set_write_buffer_limits(high=10, low=20) raised " + describe(low_over_high) + ", expected ValueError");
          auto negative_high = capture_error([&] { t.set_write_buffer_limits(-1, std::nullopt); });
          ctx.check("write.limits.validation", negative_high && negative_high->type == "ValueError",
                    "set_write_buffer_limits(high=-1) raised " + describe(negative_high) + ", expected ValueError");
          auto negative_low = capture_error([&] { t.set_write_buffer_limits(100, -5); });
          ctx.check("write.limits.validation", negative_low && negative_low->type == "ValueError",
                    "set_write_buffer_limits(high=100, low=-5) raised " + describe(negative_low) + ", expected ValueError");

          auto valid = capture_error([&] { t.set_write_buffer_limits(100000, 2000); });
          ctx.check("write.limits.validation", !valid,
                    "set_write_buffer_limits(high=100000, low=2000) raised " + describe(valid));
          auto limits = t.get_write_buffer_limits();
          ctx.check("write.limits.get-returns-set", limits.high == 100000 && limits.low == 2000,
                    fmt::format("after set (high=100000, low=2000) get returned (low {}, high {})", limits.low, limits.high));

          auto equal = capture_error([&] { t.set_write_buffer_limits(5000, 5000); });
          ctx.check("write.limits.validation", !equal, "set_write_buffer_limits(high=5000, low=5000) raised " + describe(equal));

          t.set_write_buffer_limits(40000, std::nullopt);
          limits = t.get_write_buffer_limits();
          ctx.check("write.limits.low-defaults-le-high", limits.high == 40000 && limits.low <= 40000 && limits.low >= 0,
                    fmt::format("after set (high=40000) get returned (low {}, high {})", limits.low, limits.high));

          t.set_write_buffer_limits(0, std::nullopt);
          limits = t.get_write_buffer_limits();
          ctx.check("write.limits.high-zero-forces-low-zero", limits.high == 0 && limits.low == 0,
                    fmt::format("after set (high=0) get returned (low {}, high {})", limits.low, limits.high));
          ctx.check("write.limits.non-negative", limits.low >= 0 && limits.high >= 0,
                    fmt::format("zero limits read back as (low {}, high {})", limits.low, limits.high));
        },
});

}  // namespace
}  // namespace loopspec::scenarios
