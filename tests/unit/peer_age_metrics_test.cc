// SPDX-License-Identifier: Apache-2.0

// metrics/metrics.h: TargetMetrics::SetPeerAges keeps exactly the given peers'
// hbfence_peer_heartbeat_age_seconds series, and RemoveTarget takes them along.
#include <prometheus/collectable.h>
#include <prometheus/text_serializer.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/metrics.h"

namespace hbfence {
namespace {

std::string Exposition(const Metrics& m) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& weak : m.Collectables()) {
    if (auto c = weak.lock()) {
      auto collected = c->Collect();
      families.insert(families.end(), collected.begin(), collected.end());
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

bool Has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

std::string Series(const std::string& target, const std::string& peer) {
  return "hbfence_peer_heartbeat_age_seconds{peer=\"" + peer + "\",target=\"" + target + "\"}";
}

TEST(PeerAgeMetricsTest, SeriesFollowThePeersGiven) {
  Metrics m({"v", "r"});
  TargetMetrics& t = m.AddTarget("nfs", {0.1}, {"io_error"});
  EXPECT_FALSE(Has(Exposition(m), Series("nfs", "hb-a") + " 0"));

  t.SetPeerAges({{"hb-a", 3.5}, {"hb-b", 12}});
  std::string text = Exposition(m);
  EXPECT_TRUE(Has(text, "# TYPE hbfence_peer_heartbeat_age_seconds gauge")) << text;
  EXPECT_TRUE(Has(text, Series("nfs", "hb-a") + " 3.5")) << text;
  EXPECT_TRUE(Has(text, Series("nfs", "hb-b") + " 12")) << text;

  t.SetPeerAges({{"hb-b", 13}, {"hb-c", 0}});
  text = Exposition(m);
  EXPECT_EQ(text.find(Series("nfs", "hb-a")), std::string::npos) << "a vanished peer's series is removed";
  EXPECT_TRUE(Has(text, Series("nfs", "hb-b") + " 13")) << text;
  EXPECT_TRUE(Has(text, Series("nfs", "hb-c") + " 0")) << text;
}

TEST(PeerAgeMetricsTest, TargetsKeepTheirOwnPeersAndRemovalTakesThemAlong) {
  Metrics m({"v", "r"});
  m.AddTarget("one", {0.1}, {}).SetPeerAges({{"hb-a", 1}});
  m.AddTarget("two", {0.1}, {}).SetPeerAges({{"hb-a", 2}});
  std::string text = Exposition(m);
  EXPECT_TRUE(Has(text, Series("one", "hb-a") + " 1")) << text;
  EXPECT_TRUE(Has(text, Series("two", "hb-a") + " 2")) << text;

  m.RemoveTarget("one");
  text = Exposition(m);
  EXPECT_EQ(text.find(Series("one", "hb-a")), std::string::npos) << text;
  EXPECT_TRUE(Has(text, Series("two", "hb-a") + " 2")) << text;

  // Re-adding a target (a reload) starts without peers.
  m.AddTarget("two", {0.1}, {});
  EXPECT_EQ(Exposition(m).find(Series("two", "hb-a")), std::string::npos);
}

}  // namespace
}  // namespace hbfence
