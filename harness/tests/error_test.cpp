// Canonical errors: the class name asyncio
// would raise for an errno, so verdicts compare across backends.
#include "loopspec/error.hpp"

#include <cerrno>

#include <gtest/gtest.h>

#include "loopspec/address.hpp"
#include <nlohmann/json.hpp>

namespace loopspec {
namespace {

TEST(CanonicalError, MapsErrnoToAsyncioClass) {
  EXPECT_EQ(Error::from_errno(ECONNRESET).type, "ConnectionResetError");
  EXPECT_EQ(Error::from_errno(EPIPE).type, "BrokenPipeError");
  EXPECT_EQ(Error::from_errno(ECONNREFUSED).type, "ConnectionRefusedError");
  EXPECT_EQ(Error::from_errno(EBADF).type, "OSError");
  EXPECT_EQ(Error::from_errno(ECONNRESET).errnum, ECONNRESET);
  EXPECT_FALSE(Error::from_errno(ECONNRESET).message.empty());
}

TEST(CanonicalError, ToStringNamesClassErrnoAndMessage) {
  Error e{"ValueError", 0, "high must be >= low"};
  EXPECT_EQ(e.to_string(), "ValueError: high must be >= low");
  EXPECT_EQ(Error::from_errno(EPIPE, "x").to_string(), "BrokenPipeError [errno " + std::to_string(EPIPE) + "]: x");
  ContractError thrown(e);
  EXPECT_EQ(thrown.error(), e);
}

TEST(Address, AsyncioExtraInfoForm) {
  EXPECT_EQ(to_json(Address{InetAddress{"127.0.0.1", 8080}}).dump(), R"(["127.0.0.1",8080])");
  EXPECT_EQ(to_json(Address{UnixAddress{"/tmp/s"}}).dump(), R"("/tmp/s")");
  EXPECT_EQ(to_string(Address{InetAddress{"::1", 80}}), "[::1]:80");
}

}  // namespace
}  // namespace loopspec
