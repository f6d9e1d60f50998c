// SPDX-License-Identifier: Apache-2.0

// Fuzzes CloudStack's agent.properties reader: ParseJavaProperties on arbitrary
// bytes, then MapAgentProperties on whatever it accepted. The file belongs to
// another package and may hold anything; hbfence must never crash on it, and what
// it takes from it must keep the timing invariants the configuration relies on.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "src/agent_properties.h"

using namespace hbfence;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseJavaProperties(text);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().rfind("line ", 0) == 0, "an error starts with its line number");
    return 0;
  }
  size_t lines = 1;
  for (char c : text) lines += c == '\n' || c == '\r';
  for (const auto& [key, value] : parsed.value()) {
    FUZZ_CHECK(value.line >= 1 && value.line <= lines, "a key's line is within the file");
  }
  const AgentDefaults d = MapAgentProperties(parsed.value(), "agent.properties");
  if (d.interval) FUZZ_CHECK(*d.interval > Duration::zero(), "an interval from agent.properties is positive");
  if (d.timeout) FUZZ_CHECK(*d.timeout > Duration::zero(), "a timeout from agent.properties is positive");
  if (d.lease) {
    FUZZ_CHECK(!d.interval || *d.interval < *d.lease, "the derived lease exceeds the interval");
    FUZZ_CHECK(!d.timeout || *d.timeout < *d.lease, "the derived lease exceeds the timeout");
  }
  for (const auto& [key, source] : d.sources) {
    FUZZ_CHECK(source.rfind("agent.properties:", 0) == 0, "every source names the file and line");
  }
  if (d.unknown_fence_action) FUZZ_CHECK(!d.warnings.empty(), "an unknown fence action comes with a warning");
  return 0;
}
