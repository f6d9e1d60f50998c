// SPDX-License-Identifier: Apache-2.0

// The control socket's request line and reply codes: what is a request, and what
// `hbfence control` exits with for each reply.
#include "src/control_socket.h"

#include <gtest/gtest.h>

namespace hbfence {
namespace {

TEST(ControlRequestTest, StatusAndFence) {
  auto r = ParseControlRequest("status /mnt/pool");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().verb, ControlVerb::kStatus);
  EXPECT_EQ(r.value().argument, "/mnt/pool");
  r = ParseControlRequest("fence cloudstack agent: heartbeat lost\r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().verb, ControlVerb::kFence);
  EXPECT_EQ(r.value().argument, "cloudstack agent: heartbeat lost");
  r = ParseControlRequest("status a target with spaces");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().argument, "a target with spaces");
}

TEST(ControlRequestTest, AnythingElseIsAnUnknownRequest) {
  for (const char* line : {"", "status", "status ", "fence", "fence   ", "reboot", "STATUS x", "statusx y", " status x",
                           "status a\tb", "fence a\nb", "fence \x7f"}) {
    auto r = ParseControlRequest(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_EQ(r.error(), "error unknown request") << line;
  }
}

TEST(ControlRequestTest, ExitCodes) {
  EXPECT_EQ(ControlExitCode("ok pool last success 1.0 s ago"), 0);
  EXPECT_EQ(ControlExitCode("accepted hard-reboot"), 0);
  EXPECT_EQ(ControlExitCode("failing pool lease expired"), 1);
  EXPECT_EQ(ControlExitCode("unknown /mnt/x"), 1);
  EXPECT_EQ(ControlExitCode("refused a reboot is already under way"), 1);
  EXPECT_EQ(ControlExitCode("error unknown request"), 2);
  EXPECT_EQ(ControlExitCode("okay"), 2);
}

}  // namespace
}  // namespace hbfence
