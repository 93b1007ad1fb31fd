// BackendRegistry's prefix families (python:MODULE:CALLABLE): exact names
// first, then the longest matching prefix; names() lists what families offer.
// Tests harness machinery.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "loopspec/backend.hpp"

namespace loopspec {
namespace {

class NamedBackend : public Backend {
 public:
  explicit NamedBackend(std::string name) { info_.name = std::move(name); }
  const BackendInfo& info() const override { return info_; }
  std::unique_ptr<EventLoop> make_loop() override { return nullptr; }

 private:
  BackendInfo info_;
};

std::unique_ptr<Backend> named(std::string name) { return std::make_unique<NamedBackend>(std::move(name)); }

TEST(RegistryPrefix, ExactNamesFirstThenTheLongestPrefix) {
  BackendRegistry registry;
  registry.add("python:special", [](const BackendOptions&) { return named("exact"); });
  registry.add_prefix("python:", [](const std::string& name, const BackendOptions&) { return named("short:" + name); });
  registry.add_prefix("python:x.", [](const std::string& name, const BackendOptions&) { return named("long:" + name); });
  EXPECT_EQ(registry.create("python:special", {})->info().name, "exact");
  EXPECT_EQ(registry.create("python:mod:f", {})->info().name, "short:python:mod:f");
  EXPECT_EQ(registry.create("python:x.y:f", {})->info().name, "long:python:x.y:f");
  try {
    registry.create("node:loop", {});
    FAIL() << "an unknown name made a backend";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("python:..."));
  }
}

TEST(RegistryPrefix, NamesListWhatFamiliesOffer) {
  BackendRegistry registry;
  int asked = 0;
  registry.add("reference", [](const BackendOptions&) { return named("reference"); });
  registry.add_prefix(
      "python:", [](const std::string& name, const BackendOptions&) { return named(name); },
      [&asked] {
        ++asked;
        return std::vector<std::string>{"python:asyncio"};
      });
  registry.add_prefix("quiet:", [](const std::string& name, const BackendOptions&) { return named(name); });
  EXPECT_EQ(asked, 0);  // asked only when names() is
  EXPECT_EQ(registry.names(), (std::vector<std::string>{"reference", "python:asyncio"}));
  EXPECT_EQ(asked, 1);
}

}  // namespace
}  // namespace loopspec
