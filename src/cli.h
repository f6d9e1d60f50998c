// SPDX-License-Identifier: Apache-2.0

// Command-line parsing: plain argv in, a struct out, errors as messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/config.h"
#include "src/sys/result.h"
#include "storage/peer_check.h"

namespace hbfence {

enum class Command { kRun, kCheckConfig, kPeerCheck, kControl, kFence, kReplay, kAdvise, kVersion, kHelp };
enum class PeerSource { kFile, kBlock };

struct CliOptions {
  Command command = Command::kRun;
  std::string config_path = "/etc/hbfence/hbfence.toml";
  std::optional<std::string> listen_address;  // --web.listen-address
  std::optional<std::string> telemetry_path;  // --web.telemetry-path
  std::optional<std::string> web_config_file;  // --web.config.file (src/web_config.h)
  std::optional<std::string> log_level;       // --log.level
  std::optional<std::string> log_format;      // --log.format
  PeerSource peer_source = PeerSource::kFile;  // peer-check --path (kFile) or --block (kBlock)
  std::string peer_path;                       // peer-check: the heartbeat file or the device to judge
  uint64_t peer_offset = 0;                    // peer-check --offset: bytes into the device, a multiple of 4096
  Duration peer_window = kDefaultPeerWindow;   // peer-check --window, whole seconds
  // hbfence control [--socket PATH] status TARGET | fence REASON...
  std::string control_socket = "/run/hbfence/control.sock";
  std::string control_request;  // the request line to send, e.g. "status /mnt/pool"
  // hbfence fence [--config FILE] [--socket PATH] [--target TARGET] REASON...
  std::optional<std::string> fence_socket;  // default: the configuration's [control] socket_path
  std::string fence_target;                 // the pool the request is about; may be empty
  std::string fence_reason;                 // one line
  // hbfence replay / advise [--config FILE] [--since DURATION] … (src/replay.h); unset: the configuration's
  std::optional<Duration> replay_since;
  std::optional<Duration> replay_timeout, replay_lease;
  std::optional<Policy> replay_policy;
  std::vector<std::string> replay_targets;  // empty: every configured target
  bool replay_json = false;
  double advise_margin = 2.0;
};

// "90s", "30m", "24h", "7d", "2w" or plain seconds ("3600"): a positive span of time.
Result<Duration> ParseSpan(std::string_view text);

Result<CliOptions> ParseCli(const std::vector<std::string>& args);  // args without argv[0]
std::string Usage();

// Command-line flags win over the file, on start and on every reload.
void ApplyOverrides(const CliOptions& cli, Config& cfg);

}  // namespace hbfence
