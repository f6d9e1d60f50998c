// SPDX-License-Identifier: Apache-2.0

// src/host_identity.h: which address CloudStack's agent names this host by (the
// IPv4 address of private.network.device, as NetUtils.getNetworkParams picks it),
// and check-config's verdict on host.id, over address lists given by the test.
#include "src/host_identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hbfence {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Addresses = Result<std::vector<InterfaceAddress>, std::string>;

const std::vector<InterfaceAddress> kHost = {
    {"lo", "127.0.0.1"},        {"eth0", "198.51.100.4"}, {"cloudbr1", "169.254.3.1"},
    {"cloudbr1", "10.0.0.21"},  {"cloudbr0", "192.0.2.9"}, {"cloudbr1", "224.0.0.251"},
};

Config CloudStackConfig(const std::string& id, const std::string& device = "cloudbr1") {
  Config cfg;
  cfg.host.id = id;
  cfg.cloudstack.agent_properties = "/etc/cloudstack/agent/agent.properties";
  cfg.cloudstack.private_network_device = device;
  cfg.cloudstack.private_network_device_source = "private.network.device at /etc/cloudstack/agent/agent.properties:7";
  return cfg;
}

TEST(AgentAddressesTest, SkipsLoopbackLinkLocalAndMulticastAndKeepsTheKernelsOrder) {
  EXPECT_THAT(AgentAddresses(kHost, "cloudbr1"), ElementsAre("10.0.0.21"));
  EXPECT_THAT(AgentAddresses(kHost, "lo"), IsEmpty());
  EXPECT_THAT(AgentAddresses(kHost, "nosuch0"), IsEmpty());
  const std::vector<InterfaceAddress> two = {{"br", "10.0.0.2"}, {"br", "10.0.0.1"}};
  EXPECT_THAT(AgentAddresses(two, "br"), ElementsAre("10.0.0.2", "10.0.0.1"));
}

TEST(CheckHostIdTest, HostIdThatIsTheDevicesAddressIsANote) {
  const auto check = CheckHostId(CloudStackConfig("10.0.0.21"), Addresses(kHost));
  EXPECT_THAT(check.warnings, IsEmpty());
  EXPECT_THAT(check.notes, ElementsAre("host.id matches the CloudStack agent's private IP 10.0.0.21 (the IPv4 address "
                                       "of cloudbr1, private.network.device at "
                                       "/etc/cloudstack/agent/agent.properties:7)"));
}

TEST(CheckHostIdTest, AnyOtherHostIdIsAWarningNamingBothAndTheFiles) {
  // A hostname, another interface's address: neither is what the agent passes as -h.
  for (const char* id : {"kvm07", "198.51.100.4"}) {
    const auto check = CheckHostId(CloudStackConfig(id), Addresses(kHost));
    EXPECT_THAT(check.notes, IsEmpty());
    ASSERT_EQ(check.warnings.size(), 1u) << id;
    EXPECT_EQ(check.warnings[0], "host.id \"" + std::string(id) +
                                     "\" is not the CloudStack agent's private IP 10.0.0.21 (the IPv4 address of "
                                     "cloudbr1, private.network.device at /etc/cloudstack/agent/agent.properties:7): "
                                     "the agent writes, and its neighbours read, <pool>/KVMHA/hb-10.0.0.21, hbfence "
                                     "writes hb-" + id + ", so they would find this host dead; set [host] id = "
                                     "\"10.0.0.21\"");
  }
}

TEST(CheckHostIdTest, SeveralAddressesOnTheDeviceNeedTheAgentsLogToTell) {
  const std::vector<InterfaceAddress> two = {{"cloudbr1", "10.0.0.21"}, {"cloudbr1", "10.0.0.99"}};
  auto check = CheckHostId(CloudStackConfig("10.0.0.99"), Addresses(two));
  EXPECT_THAT(check.warnings, IsEmpty());
  ASSERT_EQ(check.notes.size(), 1u);
  EXPECT_THAT(check.notes[0], HasSubstr("is one of the IPv4 addresses of cloudbr1"));
  EXPECT_THAT(check.notes[0], HasSubstr("(10.0.0.21, 10.0.0.99)"));
  check = CheckHostId(CloudStackConfig("kvm07"), Addresses(two));
  ASSERT_EQ(check.warnings.size(), 1u);
  EXPECT_THAT(check.warnings[0], HasSubstr("private IP 10.0.0.21, 10.0.0.99 (the IPv4 addresses of cloudbr1"));
}

TEST(CheckHostIdTest, ADeviceWithoutAnAddressCannotBeChecked) {
  const auto check = CheckHostId(CloudStackConfig("10.0.0.21", "cloudbr9"), Addresses(kHost));
  ASSERT_EQ(check.warnings.size(), 1u);
  EXPECT_THAT(check.warnings[0], HasSubstr("private.network.device cloudbr9 ("));
  EXPECT_THAT(check.warnings[0], HasSubstr("has no IPv4 address here"));
  EXPECT_THAT(check.warnings[0], HasSubstr("host.id \"10.0.0.21\" is used as given"));
  const auto unlisted = CheckHostId(CloudStackConfig("10.0.0.21"), Addresses(Err{std::string("getifaddrs: boom")}));
  ASSERT_EQ(unlisted.warnings.size(), 1u);
  EXPECT_THAT(unlisted.warnings[0], HasSubstr("cannot list this host's addresses (getifaddrs: boom)"));
}

TEST(CheckHostIdTest, WithoutAgentPropertiesCloudStackFilesNeedAnAddressOfThisHost) {
  Config cfg;
  cfg.host.id = "kvm07";
  cfg.targets.push_back(TargetConfig{.name = "plain", .path = "/srv/hb"});
  EXPECT_THAT(CheckHostId(cfg, Addresses(kHost)).notes, IsEmpty()) << "no CloudStack files: host.id is any name";
  EXPECT_THAT(CheckHostId(cfg, Addresses(kHost)).warnings, IsEmpty());

  cfg.targets.push_back(TargetConfig{.name = "pool", .path = "/mnt/p/KVMHA/hb-kvm07", .cloudstack_layout = true});
  auto check = CheckHostId(cfg, Addresses(kHost));
  ASSERT_EQ(check.notes.size(), 1u);
  EXPECT_THAT(check.notes[0], HasSubstr("set [cloudstack] agent_properties to have check-config compare them"));
  ASSERT_EQ(check.warnings.size(), 1u);
  EXPECT_THAT(check.warnings[0], HasSubstr("host.id \"kvm07\" is not an IPv4 address of this host"));

  cfg.host.id = "192.0.2.9";
  EXPECT_THAT(CheckHostId(cfg, Addresses(kHost)).warnings, IsEmpty());
}

}  // namespace
}  // namespace hbfence
