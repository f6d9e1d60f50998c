// SPDX-License-Identifier: Apache-2.0

// Fuzzes the configuration parser: ParseConfig(text, "fuzz.toml") on arbitrary text.
//
// Beyond "no crash, no sanitizer report, no uncaught exception", every accepted
// configuration must satisfy what the rest of hbfence relies on (README
// "Configuration reference", src/config.cc), and describing it (check-config's
// output, which also derives the timings) must work.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "src/config.h"
#include "storage/host_id.h"

using namespace hbfence;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseConfig(text, "fuzz.toml");
  if (!parsed) {
    const ConfigError& e = parsed.error();
    FUZZ_CHECK(e.file == "fuzz.toml", "an error names the file it was given");
    FUZZ_CHECK(!e.message.empty(), "an error says what is wrong");
    FUZZ_CHECK(e.ToString().rfind("fuzz.toml:", 0) == 0, "ToString() is file:line:column: message");
    return 0;
  }
  const Config& c = parsed.value();

  FUZZ_CHECK(!c.host.id.empty(), "host.id is required");
  FUZZ_CHECK(ValidHostId(c.host.id), "host.id is letters, digits, '.', '-', '_' and ':', at most 252 bytes");
  FUZZ_CHECK(std::find(std::begin(kLogLevels), std::end(kLogLevels), c.log.level) != std::end(kLogLevels),
             "log.level is a known level");
  FUZZ_CHECK(c.web.listen_address.rfind(':') != std::string::npos, "listen_address is host:port");
  FUZZ_CHECK(ListenAddressProblem(c.web.listen_address).empty(), "listen_address is one address civetweb reads as meant");

  // Timings: positive (the scheduler divides by the interval and sleeps for it),
  // timeout and interval below the lease.
  const HeartbeatConfig& hb = c.heartbeat;
  FUZZ_CHECK(hb.interval > Duration::zero(), "heartbeat interval > 0 after conversion to a Duration");
  FUZZ_CHECK(hb.timeout > Duration::zero(), "heartbeat timeout > 0 after conversion to a Duration");
  FUZZ_CHECK(hb.lease > Duration::zero(), "heartbeat lease > 0 after conversion to a Duration");
  FUZZ_CHECK(hb.startup_grace >= Duration::zero(), "startup grace >= 0");
  FUZZ_CHECK(hb.timeout < hb.lease, "timeout < lease");
  FUZZ_CHECK(hb.interval < hb.lease, "interval < lease");

  FUZZ_CHECK(!c.targets.empty(), "at least one target");
  FUZZ_CHECK(c.targets.size() <= 1024, "at most 1024 targets");
  std::set<std::string> names;
  // Each heartbeat once: a file path is nobody else's, a block sector is one
  // device and offset, an exec probe one argv.
  std::set<std::string> file_paths, block_paths;
  std::set<std::pair<std::string, uint64_t>> sectors;
  std::set<std::vector<std::string>> commands;
  for (const TargetConfig& t : c.targets) {
    FUZZ_CHECK(!t.name.empty() && t.name.size() <= 128, "target names are 1 to 128 characters");
    FUZZ_CHECK(names.insert(t.name).second, "target names are unique");
    FUZZ_CHECK(t.kind == "file" || t.kind == "block" || t.kind == "exec", "a known target kind");
    if (t.kind == "exec") {
      FUZZ_CHECK(!t.command.empty() && t.path.empty(), "an exec target has a command and no path");
      FUZZ_CHECK(commands.insert(t.command).second, "no two exec targets run the same argv");
      continue;
    }
    FUZZ_CHECK(!t.path.empty(), "every file and block target has a path");
    FUZZ_CHECK(t.path.has_filename(), "a target path names a file, not a directory");
    if (t.kind == "file") {
      FUZZ_CHECK(file_paths.insert(t.path.native()).second && !block_paths.count(t.path.native()),
                 "no other target writes a file target's path");
    } else {
      FUZZ_CHECK(!file_paths.count(t.path.native()), "no file target writes a block target's path");
      FUZZ_CHECK(sectors.insert({t.path.native(), t.offset}).second, "no two block targets write one sector");
      block_paths.insert(t.path.native());
    }
    if (t.mount) {
      const auto rel = t.path.lexically_relative(*t.mount);
      FUZZ_CHECK(!rel.empty() && rel != "." && *rel.begin() != "..", "a target's path is below its mount");
    }
  }

  const auto lines = DescribeConfig(c);
  FUZZ_CHECK(!lines.empty(), "check-config prints something");
  const bool disarmed = lines.back().find("DISARMED") != std::string::npos;
  FUZZ_CHECK(disarmed == (c.fence.action == FenceActionKind::kLogOnly),
             "check-config says DISARMED exactly when the action is log-only");
  return 0;
}
