// SPDX-License-Identifier: Apache-2.0

// fence/fence_config.h: canonical names, the "reboot" alias, policies, defaults.
#include "fence/fence_config.h"

#include <chrono>

#include <gtest/gtest.h>

namespace hbfence {
namespace {

using namespace std::chrono_literals;

TEST(FenceConfigTest, CanonicalActionNames) {
  EXPECT_EQ(Name(FenceActionKind::kHardReboot), "hard-reboot");
  EXPECT_EQ(Name(FenceActionKind::kGracefulReboot), "graceful-reboot");
  EXPECT_EQ(Name(FenceActionKind::kRestartAgent), "restart-agent");
  EXPECT_EQ(Name(FenceActionKind::kLogOnly), "log-only");
  EXPECT_EQ(Name(FenceActionKind::kCustom), "custom");
}

TEST(FenceConfigTest, ActionNamesRoundTrip) {
  for (auto a : {FenceActionKind::kHardReboot, FenceActionKind::kGracefulReboot, FenceActionKind::kRestartAgent,
                 FenceActionKind::kLogOnly, FenceActionKind::kCustom}) {
    const auto parsed = ParseFenceAction(Name(a));
    ASSERT_TRUE(parsed.has_value()) << Name(a);
    EXPECT_EQ(*parsed, a);
  }
}

TEST(FenceConfigTest, RebootIsAnAliasForHardReboot) {
  const auto a = ParseFenceAction("reboot");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, FenceActionKind::kHardReboot);
  // Name() gives the canonical name, never the alias.
  EXPECT_EQ(Name(*a), "hard-reboot");
}

TEST(FenceConfigTest, UnknownActionsAreRejected) {
  for (const char* text : {"", "Reboot", "hard_reboot", "hard-reboot ", "shutdown", "log"}) {
    EXPECT_FALSE(ParseFenceAction(text).has_value()) << '"' << text << '"';
  }
}

TEST(FenceConfigTest, Policies) {
  EXPECT_EQ(Name(Policy::kAny), "any");
  EXPECT_EQ(Name(Policy::kAll), "all");
  EXPECT_EQ(Name(Policy::kQuorum), "quorum");
  for (auto p : {Policy::kAny, Policy::kAll, Policy::kQuorum}) {
    const auto parsed = ParsePolicy(Name(p));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_FALSE(ParsePolicy("majority").has_value());
  EXPECT_FALSE(ParsePolicy("ANY").has_value());
  EXPECT_FALSE(ParsePolicy("").has_value());
}

TEST(FenceConfigTest, Defaults) {
  const FenceConfig f;
  EXPECT_EQ(f.action, FenceActionKind::kHardReboot);
  EXPECT_EQ(f.policy, Policy::kAny);
  EXPECT_EQ(f.journal_path, "/var/lib/hbfence/fence-journal.jsonl");
  EXPECT_EQ(f.sysrq_trigger_path, "/proc/sysrq-trigger");
  EXPECT_EQ(f.systemctl_path, "/usr/bin/systemctl");
  EXPECT_EQ(f.agent_unit, "cloudstack-agent");
  EXPECT_EQ(f.custom_timeout, 60s);
  EXPECT_EQ(f.graceful_escalation, 300s);
  EXPECT_EQ(f.sync_grace, 5s);
  EXPECT_EQ(f.systemctl_timeout, 30s);
}

}  // namespace
}  // namespace hbfence
