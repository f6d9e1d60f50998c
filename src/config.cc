// SPDX-License-Identifier: Apache-2.0

#include "src/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include <toml++/toml.h>

#include "metrics/http_features.h"
#include "src/agent_properties.h"
#include "src/sys/fs_util.h"
#include "storage/fs_types.h"
#include "storage/history.h"
#include "storage/host_id.h"
#include "storage/mountinfo.h"

namespace hbfence {
namespace {

constexpr size_t kMaxTargets = 1024;
// What packaging/hbfence.toml puts where each host must set its own value.
constexpr std::string_view kPlaceholder = "REPLACE-ME";

bool ValidUnitName(std::string_view s) {
  if (s.empty() || s.front() == '-') return false;  // never an option to systemctl
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view(":_.@-\\").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Whether `t` writes on the pool mounted at `mount_point` (at or below it).
bool OnPool(const TargetConfig& t, const std::filesystem::path& mount_point) {
  const auto rel = t.path.lexically_relative(mount_point);
  return !rel.empty() && *rel.begin() != "..";
}

// Four decimal numbers from 0 to 255, no leading zeros (inet_aton would read 010
// as octal; civetweb's sscanf wraps 999 and 257 into other addresses).
bool DottedQuad(std::string_view s) {
  int parts = 0;
  for (size_t begin = 0;; ++parts) {
    const size_t end = std::min(s.find('.', begin), s.size());
    const std::string_view part = s.substr(begin, end - begin);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part.front() == '0') ||
        part.find_first_not_of("0123456789") != std::string_view::npos || std::stoi(std::string(part)) > 255) {
      return false;
    }
    if (end == s.size()) return parts == 3;
    begin = end + 1;
  }
}

// RFC 1123 labels, the first character a letter: civetweb reads a leading digit
// as a port number.
bool HostName(std::string_view s) {
  if (s.empty() || s.size() > 253 || !std::isalpha(static_cast<unsigned char>(s.front()))) return false;
  for (size_t begin = 0;;) {
    const size_t end = std::min(s.find('.', begin), s.size());
    const std::string_view label = s.substr(begin, end - begin);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    if (end == s.size()) return true;
    begin = end + 1;
  }
}

// A TOML basic string, so check-config output can be pasted back into a config.
std::string QuoteToml(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Why `id` is not a valid host.id (storage/host_id.h).
std::string HostIdProblem(const std::string& id) {
  if (id.size() > kMaxHostId) {
    return "host.id is " + std::to_string(id.size()) + " bytes; at most " + std::to_string(kMaxHostId) +
           " fit the heartbeat file name hb-<id> (255 bytes)";
  }
  const char* bad = std::find_if_not(id.data(), id.data() + id.size(), HostIdChar);
  const auto u = static_cast<unsigned char>(*bad);
  char code[16];
  std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(u));
  const std::string what = *bad == ' ' ? "a space"
                           : u < 0x20 || u == 0x7f ? std::string("a control character (") + code + ")"
                           : u >= 0x80 ? "a non-ASCII character"
                                       : std::string("'") + *bad + "'";
  return "host.id " + QuoteToml(id) + ": " + what +
         " cannot appear in it: use letters, digits, '.', '-', '_' and ':' only (the id names the heartbeat file "
         "hb-<id> other hosts read, and appears in log lines)";
}

std::string FormatSeconds(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

// Walks the TOML document, filling a Config and stopping at the first error.
class Parser {
 public:
  Parser(std::string file, const FileReader& read) : file_(std::move(file)), read_(read) {}

  Result<Config, ConfigError> Run(const toml::table& root) {
    cfg_.file = file_;
    RefusePlaceholders(root);
    Known(root, "", {"host", "web", "log", "heartbeat", "fence", "watchdog", "control", "history", "cloudstack", "libvirt", "target"});
    if (auto* t = Table(root, "host")) {
      Known(*t, "host", {"id"});
      String(*t, "host", "id", cfg_.host.id);
    }
    if (!err_ && cfg_.host.id.empty()) {
      Fail(root.get("host") ? root.get("host")->source() : root.source(), "host.id is required (the host's identifier)");
    }
    if (!err_ && !ValidHostId(cfg_.host.id)) Fail(Source(root, "host", "id"), HostIdProblem(cfg_.host.id));
    ParseCloudStack(root);  // first: agent.properties supplies defaults that the sections below override
    if (auto* t = Table(root, "web")) {
      Known(*t, "web", {"listen_address", "telemetry_path", "basic_auth_users", "tls_cert_file", "tls_key_file"});
      String(*t, "web", "listen_address", cfg_.web.listen_address);
      if (const std::string problem = err_ ? "" : ListenAddressProblem(cfg_.web.listen_address); !problem.empty()) {
        Fail(Source(*t, "listen_address"), "web.listen_address " + QuoteToml(cfg_.web.listen_address) + ": " + problem);
      }
      String(*t, "web", "telemetry_path", cfg_.web.telemetry_path);
      if (const std::string problem = err_ ? "" : TelemetryPathProblem(cfg_.web.telemetry_path); !problem.empty()) {
        Fail(Source(*t, "telemetry_path"), "web.telemetry_path " + QuoteToml(cfg_.web.telemetry_path) + ": " + problem);
      }
      for (const char* key : {"tls_cert_file", "tls_key_file"}) {
        if (t->get(key)) {
          Fail(Source(*t, key), std::string("web.") + key +
                                    ": in-process TLS is not supported (Debian 12's civetweb 1.15 crashes on HTTPS "
                                    "with OpenSSL 3); terminate TLS in front of hbfence, see packaging/tls-proxy.conf");
        }
      }
      if (const auto* users = Table(*t, "basic_auth_users")) {
        if (!users->empty()) Record("web", "basic_auth_users", *users);
        for (const auto& [user, hash] : *users) {
          const auto h = hash.value<std::string>();
          if (!h || !IsBcryptHash(*h)) {
            Fail(hash.source(), "web.basic_auth_users." + std::string(user.str()) +
                                    " must be a bcrypt hash ($2y$…, e.g. from htpasswd -nB)");
          } else {
            cfg_.web.basic_auth_users[std::string(user.str())] = *h;
          }
        }
      }
    }
    if (auto* t = Table(root, "watchdog")) {
      Known(*t, "watchdog", {"device", "timeout_seconds"});
      Path(*t, "watchdog", "device", cfg_.watchdog.device);
      Seconds(*t, "watchdog", "timeout_seconds", cfg_.watchdog.timeout, false);
      if (!err_ && cfg_.watchdog.timeout < std::chrono::seconds(2)) {
        Fail(Source(*t, "timeout_seconds"), "watchdog.timeout_seconds must be at least 2");
      }
    }
    if (auto* t = Table(root, "history")) {
      Known(*t, "history", {"enabled", "path", "max_bytes"});
      Bool(*t, "history", "enabled", cfg_.history.enabled);
      Path(*t, "history", "path", cfg_.history.path);
      if (const toml::node* n = t->get("max_bytes"); n && !err_) {
        const auto v = n->value_exact<int64_t>();
        if (!n->is_integer() || !v || *v < static_cast<int64_t>(kHistoryMinMaxBytes) || *v > static_cast<int64_t>(kHistoryMaxMaxBytes)) {
          Fail(n->source(), "history.max_bytes must be a whole number of bytes from " +
                                std::to_string(kHistoryMinMaxBytes) + " to " + std::to_string(kHistoryMaxMaxBytes) +
                                " (1 GiB: replay reads a history whole)");
        } else {
          cfg_.history.max_bytes = static_cast<uint64_t>(*v);
          Record("history", "max_bytes", *n);
        }
      }
    }
    if (auto* t = Table(root, "control")) {
      Known(*t, "control", {"socket_path"});
      Path(*t, "control", "socket_path", cfg_.control.socket_path);
      // sockaddr_un.sun_path holds 108 bytes, the terminating NUL included.
      if (!err_ && cfg_.control.socket_path.native().size() > 107) {
        Fail(Source(*t, "socket_path"), "control.socket_path must be at most 107 bytes (a Unix socket address)");
      }
    }
    if (auto* t = Table(root, "log")) {
      Known(*t, "log", {"level", "format"});
      String(*t, "log", "level", cfg_.log.level);
      if (!err_ && std::find(std::begin(kLogLevels), std::end(kLogLevels), cfg_.log.level) == std::end(kLogLevels)) {
        Fail(Source(*t, "level"), "log.level must be one of trace, debug, info, warn, error, critical, off");
      }
      String(*t, "log", "format", cfg_.log.format);
      if (!err_ && std::find(std::begin(kLogFormatNames), std::end(kLogFormatNames), cfg_.log.format) ==
                       std::end(kLogFormatNames)) {
        Fail(Source(*t, "format"), "log.format must be one of plain, logfmt, json");
      }
    }
    ParseHeartbeat(root);
    ParseFence(root);
    // The history is state like the journal: beside it unless set (tests and demos
    // that move the journal into a scratch directory move the history with it).
    if (!cfg_.sources.contains("history.path")) cfg_.history.path = cfg_.fence.journal_path.parent_path() / "history";
    if (auto* t = Table(root, "libvirt")) {
      Known(*t, "libvirt", {"uri"});
      String(*t, "libvirt", "uri", cfg_.fence.libvirt_uri);
      if (!err_ && cfg_.fence.libvirt_uri.empty()) Fail(Source(*t, "uri"), "libvirt.uri must not be empty");
    }
    ParseTargets(root);
    DiscoverPools();
    WarnAboutDestroyVms();
    if (err_) return Err{*err_};
    return std::move(cfg_);
  }

 private:
  void Fail(const toml::source_region& where, std::string message) {
    if (err_) return;
    err_ = ConfigError{file_, std::max<uint32_t>(1, where.begin.line), std::max<uint32_t>(1, where.begin.column),
                       std::move(message)};
  }

  // The shipped configuration marks what each host must fill in with kPlaceholder
  // (host.id, the pool's mount): a file still holding one was never set up, and
  // would write hb-REPLACE-ME on a pool nobody reads. The first one in the file is
  // the error.
  void RefusePlaceholders(const toml::table& root) {
    struct Found {
      std::string key, value;
      toml::source_region where;
    };
    std::optional<Found> first;
    std::function<void(const toml::node&, const std::string&)> visit = [&](const toml::node& n, const std::string& key) {
      if (const auto* t = n.as_table()) {
        for (const auto& [k, v] : *t) visit(v, key.empty() ? std::string(k.str()) : key + "." + std::string(k.str()));
      } else if (const auto* a = n.as_array()) {
        for (const auto& v : *a) visit(v, key);
      } else if (const auto* str = n.as_string(); str && str->get().find(kPlaceholder) != std::string::npos) {
        const auto& b = n.source().begin;
        if (!first || std::tie(b.line, b.column) < std::tie(first->where.begin.line, first->where.begin.column)) {
          first = Found{key, str->get(), n.source()};
        }
      }
    };
    visit(root, "");
    if (!first) return;
    std::string hint = "set the value this host needs";
    if (first->key == "host.id") {
      hint = "set this host's identifier (CloudStack: its private IP address, which names its heartbeat file)";
    } else if (first->key == "target.mount") {
      hint = "set the mount point of a shared primary storage pool (CloudStack: /mnt/<pool uuid>)";
    } else if (first->key == "target.path") {
      hint = "set the heartbeat file on a shared primary storage pool";
    }
    Fail(first->where, first->key + " " + QuoteToml(first->value) + " is a placeholder of the shipped configuration (" +
                           std::string(kPlaceholder) + "): " + hint);
  }

  static toml::source_region Source(const toml::table& t, std::string_view key) {
    const toml::node* n = t.get(key);
    return n ? n->source() : t.source();
  }
  static toml::source_region Source(const toml::table& root, std::string_view table, std::string_view key) {
    const toml::table* t = root.get_as<toml::table>(table);
    return t ? Source(*t, key) : root.source();
  }

  void Known(const toml::table& t, std::string_view table, std::initializer_list<std::string_view> known) {
    for (const auto& [key, node] : t) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        const std::string full = table.empty() ? std::string(key.str()) : std::string(table) + "." + std::string(key.str());
        Fail(key.source(), "unknown key " + full);
      }
    }
  }

  const toml::table* Table(const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    if (!n || err_) return nullptr;
    if (!n->is_table()) {
      Fail(n->source(), std::string(name) + " must be a table ([" + std::string(name) + "])");
      return nullptr;
    }
    return n->as_table();
  }

  void Record(std::string_view table, std::string_view key, const toml::node& n) {
    std::ostringstream where;
    where << file_ << ":" << n.source().begin.line << ":" << n.source().begin.column;
    cfg_.sources[std::string(table) + "." + std::string(key)] = where.str();
  }

  bool String(const toml::table& t, std::string_view table, std::string_view key, std::string& out) {
    const toml::node* n = t.get(key);
    if (!n || err_) return false;
    if (!n->is_string()) {
      Fail(n->source(), std::string(table) + "." + std::string(key) + " must be a string");
      return false;
    }
    out = *n->value<std::string>();
    Record(table, key, *n);
    return true;
  }

  void Path(const toml::table& t, std::string_view table, std::string_view key, std::filesystem::path& out) {
    std::string s;
    if (!String(t, table, key, s)) return;
    if (s.empty()) {
      Fail(Source(t, key), std::string(table) + "." + std::string(key) + " must not be empty");
      return;
    }
    // Relative paths are relative to the configuration file, never to the cwd.
    const std::filesystem::path p(s);
    out = (p.is_absolute() ? p : std::filesystem::path(file_).parent_path() / p).lexically_normal();
  }

  // A duration in seconds (integer or float). zero_ok: 0 is allowed (grace).
  void Seconds(const toml::table& t, std::string_view table, std::string_view key, Duration& out, bool zero_ok) {
    const toml::node* n = t.get(key);
    if (!n || err_) return;
    const std::string full = std::string(table) + "." + std::string(key);
    if (!n->is_number()) {
      Fail(n->source(), full + " must be a number of seconds");
      return;
    }
    const auto exact = n->value<double>();  // empty for integers beyond 2^53
    if (!exact) {
      Fail(n->source(), full + " (" + std::to_string(n->value<int64_t>().value_or(0)) + ") must be at most a year");
      return;
    }
    const double v = *exact;
    if (!std::isfinite(v) || v < 0 || (!zero_ok && v == 0) || v > 86400.0 * 365) {
      Fail(n->source(), full + " (" + FormatSeconds(v) + ") must be " + (zero_ok ? "≥ 0" : "> 0") +
                            " and at most a year");
      return;
    }
    if (!zero_ok && v < 0.001) {
      Fail(n->source(), full + " (" + FormatSeconds(v) + ") must be at least 0.001 (1 ms)");
      return;
    }
    out = FromSeconds(v);
    Record(table, key, *n);
  }

  void ParseHeartbeat(const toml::table& root) {
    auto& hb = cfg_.heartbeat;
    if (const toml::table* t = Table(root, "heartbeat")) {
      Known(*t, "heartbeat", {"interval_seconds", "timeout_seconds", "lease_seconds", "startup_grace_seconds"});
      Seconds(*t, "heartbeat", "interval_seconds", hb.interval, false);
      Seconds(*t, "heartbeat", "timeout_seconds", hb.timeout, false);
      Seconds(*t, "heartbeat", "lease_seconds", hb.lease, false);
      Seconds(*t, "heartbeat", "startup_grace_seconds", hb.startup_grace, true);
    }
    if (err_) return;
    // Checked even without a [heartbeat] table: agent.properties may have set them.
    // The rule implies timeout < lease and interval < lease, which it replaces.
    const LeaseRule rule = CheckLease(hb);
    if (rule.satisfied) return;
    std::string message = "heartbeat.lease_seconds (" + ExactSeconds(hb.lease) + ") must be at least " +
                          ExactSeconds(rule.minimum) + ", the longest healthy storage can go between lease renewals " +
                          "with interval_seconds " + ExactSeconds(hb.interval) + " and timeout_seconds " +
                          ExactSeconds(hb.timeout) + ": the next write may start " +
                          ExactSeconds(rule.next_write_within) + " s after one began, then take up to the timeout, " +
                          "plus 2 × " + ExactSeconds(kSchedulingAllowance) + " s scheduling allowance " +
                          "(fence/timings.h)";
    if (AgentLine("heartbeat.lease_seconds")) {
      message += "; this lease is agent.properties' frequency + max.tries × (timeout + retry.sleep): raise "
                 "kvm.heartbeat.update.max.tries or kvm.heartbeat.update.retry.sleep, or set [heartbeat] "
                 "lease_seconds in hbfence.toml";
    }
    FailAtHeartbeatKey(root, {"lease_seconds", "interval_seconds", "timeout_seconds"}, std::move(message));
  }

  // Points an error about heartbeat values at the first of `keys` set in the TOML,
  // else at the line of the first one agent.properties supplied (for the lease, the
  // first key its source lists: max.tries when set, see MapAgentProperties).
  void FailAtHeartbeatKey(const toml::table& root, std::initializer_list<std::string_view> keys, std::string message) {
    const toml::table* t = root.get_as<toml::table>("heartbeat");
    for (auto key : keys) {
      if (t && t->get(key)) return Fail(t->get(key)->source(), std::move(message));
    }
    for (auto key : keys) {
      if (auto line = AgentLine("heartbeat." + std::string(key))) {
        if (!err_) err_ = ConfigError{cfg_.cloudstack.agent_properties.string(), *line, 1, std::move(message)};
        return;
      }
    }
    Fail(t ? t->source() : root.source(), std::move(message));
  }

  // The agent.properties line a value came from ("FILE:LINE (property)").
  std::optional<uint32_t> AgentLine(const std::string& key) const {
    const auto it = cfg_.sources.find(key);
    const std::string prefix = cfg_.cloudstack.agent_properties.string() + ":";
    if (cfg_.cloudstack.agent_properties.empty() || it == cfg_.sources.end() || !it->second.starts_with(prefix)) {
      return std::nullopt;
    }
    uint32_t line = 0;
    const char* begin = it->second.data() + prefix.size();
    if (std::from_chars(begin, it->second.data() + it->second.size(), line).ec != std::errc()) return std::nullopt;
    return line;
  }

  void ParseCloudStack(const toml::table& root) {
    const toml::table* t = Table(root, "cloudstack");
    if (!t) return;
    Known(*t, "cloudstack",
          {"agent_properties", "discover_pools", "rediscover_interval_seconds", "mount_prefix", "mountinfo_path",
           "peer_watch", "allow_local_filesystem"});
    auto& cs = cfg_.cloudstack;
    Path(*t, "cloudstack", "agent_properties", cs.agent_properties);
    Bool(*t, "cloudstack", "discover_pools", cs.discover_pools);
    Seconds(*t, "cloudstack", "rediscover_interval_seconds", cs.rediscover_interval, false);
    Path(*t, "cloudstack", "mount_prefix", cs.mount_prefix);
    Path(*t, "cloudstack", "mountinfo_path", cs.mountinfo_path);
    Bool(*t, "cloudstack", "peer_watch", cs.peer_watch);
    Bool(*t, "cloudstack", "allow_local_filesystem", cs.allow_local_filesystem);
    cloudstack_ = t;
    if (!err_ && !cs.agent_properties.empty()) ApplyAgentProperties(Source(*t, "agent_properties"));
  }

  void ApplyAgentProperties(const toml::source_region& where) {
    const auto& path = cfg_.cloudstack.agent_properties;
    auto text = ReadFile(path);
    if (!text) return Fail(where, "cloudstack.agent_properties: " + text.error());
    auto props = ParseJavaProperties(text.value());
    if (!props) {
      // "line N: message", as Java would report it.
      uint32_t line = 0;
      const std::string& e = props.error();
      std::from_chars(e.data() + std::min<size_t>(5, e.size()), e.data() + e.size(), line);
      const auto colon = e.find(": ");
      err_ = ConfigError{path.string(), std::max<uint32_t>(1, line), 1, colon == std::string::npos ? e : e.substr(colon + 2)};
      return;
    }
    const AgentDefaults d = MapAgentProperties(props.value(), path.string());
    auto& hb = cfg_.heartbeat;
    if (d.interval) hb.interval = *d.interval;
    if (d.timeout) hb.timeout = *d.timeout;
    if (d.lease) hb.lease = *d.lease;
    if (d.action) cfg_.fence.action = *d.action;
    if (d.custom_script) cfg_.fence.custom_script = *d.custom_script;
    for (const auto& [key, source] : d.sources) cfg_.sources[key] = source;
    cfg_.warnings.insert(cfg_.warnings.end(), d.warnings.begin(), d.warnings.end());
    cfg_.unknown_fence_action = d.unknown_fence_action;
    auto& cs = cfg_.cloudstack;
    cs.private_network_device = d.private_network_device.value_or(std::string(kCloudStackPrivateNetworkDevice));
    cs.private_network_device_source =
        d.private_network_device
            ? "private.network.device at " + path.string() + ":" + std::to_string(d.private_network_device_line)
            : "CloudStack's default private.network.device, " + path.string() + " does not set one";
  }

  Result<std::string, std::string> ReadFile(const std::filesystem::path& path) const {
    if (!read_) return Err{"cannot read " + path.string() + ": no file access here"};
    return read_(path);
  }

  // CloudStack mounts each primary storage pool at <mount_prefix>/<pool uuid>.
  void DiscoverPools() {
    const auto& cs = cfg_.cloudstack;
    if (err_ || !cs.discover_pools) return;
    auto text = ReadFile(cs.mountinfo_path);
    if (!text) return Fail(Source(*cloudstack_, "discover_pools"), "cloudstack.discover_pools: " + text.error());
    for (const auto& pool : PoolMounts(ParseMountInfo(text.value()), cs.mount_prefix)) {
      const std::string name = pool.mount_point.filename().string();
      auto skip = [&](const std::string& why) {
        cfg_.warnings.push_back("pool discovery: skipped " + pool.mount_point.string() + ": " + why);
      };
      const bool configured = std::any_of(cfg_.targets.begin(), cfg_.targets.end(),
                                          [&](const TargetConfig& t) { return OnPool(t, pool.mount_point); });
      if (configured) continue;
      if (IsLocalFilesystemType(pool.fs_type) && !cs.allow_local_filesystem) {
        skip("a local " + pool.fs_type + " filesystem, not shared storage");
      } else if (name.size() > 128 || std::any_of(cfg_.targets.begin(), cfg_.targets.end(),
                                                    [&](const TargetConfig& t) { return t.name == name; })) {
        skip("its name is too long or already used by a configured target");
      } else if (cfg_.targets.size() >= kMaxTargets) {
        skip("at most " + std::to_string(kMaxTargets) + " targets are supported");
      } else {
        cfg_.targets.push_back(TargetConfig{.name = name,
                                            .path = pool.mount_point / "KVMHA" / ("hb-" + cfg_.host.id),
                                            .mount = pool.mount_point,
                                            .cloudstack_layout = true,
                                            .allow_local_filesystem = cs.allow_local_filesystem,
                                            .peer_watch = cs.peer_watch,
                                            .discovered = true});
      }
    }
    if (cfg_.targets.empty()) {
      cfg_.warnings.push_back("pool discovery: no shared filesystem is mounted below " + cs.mount_prefix.string() +
                              " yet; nothing is heartbeating and nothing can be fenced until one is");
    }
  }

  void ParseFence(const toml::table& root) {
    const toml::table* t = Table(root, "fence");
    if (!t) return;
    Known(*t, "fence",
          {"action", "policy", "journal_path", "journal_timeout_seconds", "journal_rotate_bytes", "runtime_directory",
           "sysrq_trigger_path", "systemctl_path", "agent_unit", "custom_script", "custom_timeout_seconds",
           "graceful_escalation_seconds", "sync_grace_seconds", "systemctl_timeout_seconds",
           "restart_agent_max_per_hour", "restart_agent_escalation", "max_fences_per_hour", "destroy_timeout_seconds",
           "force_unmount", "destroy_escalation"});
    auto& f = cfg_.fence;
    std::string text;
    if (String(*t, "fence", "action", text)) {
      cfg_.unknown_fence_action = false;  // hbfence.toml wins over agent.properties
      if (auto a = ParseFenceAction(text)) {
        f.action = *a;
      } else {
        Fail(Source(*t, "action"), "fence.action \"" + text +
                                       "\" is not one of hard-reboot, reboot, graceful-reboot, restart-agent, "
                                       "log-only, custom, destroy-vms");
      }
    }
    if (String(*t, "fence", "policy", text)) {
      if (auto p = ParsePolicy(text)) {
        f.policy = *p;
      } else {
        Fail(Source(*t, "policy"), "fence.policy \"" + text + "\" is not one of any, all, quorum");
      }
    }
    Path(*t, "fence", "journal_path", f.journal_path);
    Seconds(*t, "fence", "journal_timeout_seconds", f.journal_timeout, false);
    // The bound exists so that a hung journal cannot hold back the fence: a long one
    // would defeat it.
    if (!err_ && f.journal_timeout > std::chrono::seconds(30)) {
      Fail(Source(*t, "journal_timeout_seconds"),
           "fence.journal_timeout_seconds (" + FormatSeconds(ToSeconds(f.journal_timeout)) +
               ") must be at most 30: it is how long a hung journal disk may delay the fence");
    }
    if (const toml::node* n = t->get("journal_rotate_bytes"); n && !err_) {
      const auto v = n->value_exact<int64_t>();
      if (!n->is_integer() || !v || *v < 4096 || *v > (int64_t{1} << 30)) {
        Fail(n->source(), "fence.journal_rotate_bytes must be a whole number of bytes from 4096 to 1073741824");
      } else {
        f.journal_rotate_bytes = static_cast<uint64_t>(*v);
        Record("fence", "journal_rotate_bytes", *n);
      }
    }
    Path(*t, "fence", "runtime_directory", f.runtime_directory);
    Path(*t, "fence", "sysrq_trigger_path", f.sysrq_trigger_path);
    Path(*t, "fence", "systemctl_path", f.systemctl_path);
    Path(*t, "fence", "custom_script", f.custom_script);
    if (String(*t, "fence", "agent_unit", f.agent_unit) && !ValidUnitName(f.agent_unit)) {
      Fail(Source(*t, "agent_unit"), "fence.agent_unit \"" + f.agent_unit + "\" is not a systemd unit name");
    }
    Seconds(*t, "fence", "custom_timeout_seconds", f.custom_timeout, false);
    Seconds(*t, "fence", "graceful_escalation_seconds", f.graceful_escalation, false);
    Seconds(*t, "fence", "sync_grace_seconds", f.sync_grace, true);
    Seconds(*t, "fence", "systemctl_timeout_seconds", f.systemctl_timeout, false);
    Count(*t, "fence", "restart_agent_max_per_hour", f.restart_agent_max_per_hour);
    Count(*t, "fence", "max_fences_per_hour", f.max_fences_per_hour);
    Seconds(*t, "fence", "destroy_timeout_seconds", f.destroy_timeout, false);
    Bool(*t, "fence", "force_unmount", f.force_unmount);
    EscalationAction(*t, "destroy_escalation",
                     {FenceActionKind::kHardReboot, FenceActionKind::kGracefulReboot, FenceActionKind::kCustom,
                      FenceActionKind::kLogOnly},
                     f.destroy_escalation);
    EscalationAction(*t, "restart_agent_escalation",
                     {FenceActionKind::kHardReboot, FenceActionKind::kGracefulReboot, FenceActionKind::kLogOnly},
                     f.restart_agent_escalation);
  }

  // [fence] KEY: what an action turns into when it cannot or may not run; one of
  // `allowed`, or an error naming them.
  void EscalationAction(const toml::table& t, std::string_view key, std::initializer_list<FenceActionKind> allowed,
                        FenceActionKind& out) {
    std::string text;
    if (!String(t, "fence", key, text)) return;
    const auto action = ParseFenceAction(text);
    if (action && std::find(allowed.begin(), allowed.end(), *action) != allowed.end()) {
      out = *action;
      return;
    }
    std::string names;
    for (const FenceActionKind a : allowed) names += (names.empty() ? "" : ", ") + std::string(Name(a));
    Fail(Source(t, key), "fence." + std::string(key) + " \"" + text + "\" is not one of " + names);
  }

  // destroy-vms scopes a fence by a target's mount: a target it cannot scope
  // escalates to destroy_escalation when it fails. Worth knowing before it does.
  void WarnAboutDestroyVms() {
    if (err_ || cfg_.fence.action != FenceActionKind::kDestroyVms) return;
    if (cfg_.fence.destroy_escalation == FenceActionKind::kLogOnly) {
      cfg_.warnings.push_back(
          "destroy-vms: destroy_escalation = \"log-only\": a pool whose VMs cannot be fenced safely (host page cache, "
          "libvirt unreachable, a QEMU that does not die, a failed unmount) is only logged, and its VMs may run here "
          "while CloudStack restarts them elsewhere");
    }
    for (const auto& t : cfg_.targets) {
      if (t.kind != "file" || !t.mount) {
        cfg_.warnings.push_back("destroy-vms: target " + t.name + " is " +
                                (t.kind == "file" ? std::string("a file target without a mount")
                                                  : "a " + t.kind + " target") +
                                ": its VMs cannot be told apart, so its failure runs destroy_escalation (" +
                                std::string(Name(cfg_.fence.destroy_escalation)) + ")");
      }
    }
  }

  // A whole number ≥ 0 (0 means no limit).
  void Count(const toml::table& t, std::string_view table, std::string_view key, int& out) {
    const toml::node* n = t.get(key);
    if (!n || err_) return;
    const auto v = n->value_exact<int64_t>();
    if (!n->is_integer() || !v || *v < 0 || *v > 1000000) {
      Fail(n->source(), std::string(table) + "." + std::string(key) + " must be a whole number ≥ 0");
      return;
    }
    out = static_cast<int>(*v);
    Record(table, key, *n);
  }

  void ParseTargets(const toml::table& root) {
    if (err_) return;
    const toml::node* n = root.get("target");
    if (!n) {
      if (!cfg_.cloudstack.discover_pools) Fail(root.source(), "at least one [[target]] is required (or [cloudstack] discover_pools = true)");
      return;
    }
    const toml::array* arr = n->as_array();
    if (!arr || !arr->is_array_of_tables()) {
      Fail(n->source(), "target must be an array of tables ([[target]])");
      return;
    }
    if (arr->size() > kMaxTargets) {
      Fail(n->source(), "at most " + std::to_string(kMaxTargets) + " targets are supported");
      return;
    }
    std::set<std::string> names;
    for (const auto& node : *arr) {
      const toml::table& t = *node.as_table();
      Known(t, "target", {"name", "kind", "path", "mount", "layout", "allow_local_filesystem", "peer_watch", "offset",
                          "command"});
      TargetConfig target;
      String(t, "target", "name", target.name);
      String(t, "target", "kind", target.kind);
      if (err_) return;
      if (target.name.empty() || target.name.size() > 128) {
        Fail(Source(t, "name"), "target.name is required (1 to 128 characters)");
      } else if (!names.insert(target.name).second) {
        Fail(Source(t, "name"), "target.name \"" + target.name + "\" is used twice");
      } else if (target.kind == "file") {
        FileTargetKeys(t, target);
      } else if (target.kind == "block") {
        BlockTargetKeys(t, target);
      } else if (target.kind == "exec") {
        ExecTargetKeys(t, target);
      } else {
        Fail(Source(t, "kind"), "target.kind \"" + target.kind + "\" is not one of file, block, exec");
      }
      if (err_) return;
      RefuseSecondHeartbeat(t, target);
      if (err_) return;
      std::erase_if(cfg_.sources, [](const auto& kv) { return kv.first.starts_with("target."); });
      cfg_.targets.push_back(std::move(target));
    }
  }

  // Two targets on one heartbeat count one file (sector, probe) twice toward the
  // policy, and write it from two threads. Paths are compared once normalized
  // (Path() did that); the same device under two names is not caught.
  static bool SameHeartbeat(const TargetConfig& a, const TargetConfig& b) {
    if (a.kind == "exec" || b.kind == "exec") return a.kind == b.kind && a.command == b.command;
    if (a.path != b.path) return false;
    return a.kind != "block" || b.kind != "block" || a.offset == b.offset;  // a file clobbers any sector
  }

  void RefuseSecondHeartbeat(const toml::table& t, const TargetConfig& target) {
    const toml::node* key = t.get(target.kind == "exec" ? "command" : target.cloudstack_layout ? "mount" : "path");
    std::string id = target.path.native();
    if (target.kind == "exec") {
      for (const auto& arg : target.command) id += '\0' + arg;  // no path starts with NUL
    }
    auto& same_key = heartbeats_[id];
    for (const size_t i : same_key) {
      const TargetConfig& first = cfg_.targets[i];
      if (!SameHeartbeat(first, target)) continue;
      std::string what = "runs the same command as";
      if (target.kind != "exec") {
        what = "writes " + target.path.string();
        if (target.kind == "block" && first.kind == "block") what += " at offset " + std::to_string(target.offset);
        what += ", already the heartbeat of";
      }
      return Fail(key ? key->source() : t.source(), "target \"" + target.name + "\" " + what + " target \"" +
                                                        first.name + "\" (" + heartbeat_sources_[i] +
                                                        "): one heartbeat would count twice toward the fence policy");
    }
    same_key.push_back(cfg_.targets.size());
    const auto& where = (key ? key->source() : t.source()).begin;
    heartbeat_sources_.push_back(file_ + ":" + std::to_string(where.line) + ":" + std::to_string(where.column));
  }

  // Keys that make sense only for other kinds are errors, not silently ignored.
  void Refuse(const toml::table& t, const TargetConfig& target, std::initializer_list<std::string_view> keys) {
    for (auto key : keys) {
      if (t.get(key)) {
        Fail(Source(t, key), "target." + std::string(key) + " does not apply to kind = \"" + target.kind + "\"");
      }
    }
  }

  void FileTargetKeys(const toml::table& t, TargetConfig& target) {
    Refuse(t, target, {"offset", "command"});
    std::string layout = "plain";
    String(t, "target", "layout", layout);
    Path(t, "target", "path", target.path);
    std::filesystem::path mount;
    Path(t, "target", "mount", mount);
    if (err_) return;
    if (layout == "cloudstack") {
      // The file CloudStack's neighbours read: KVMHAMonitor's <pool mount>/KVMHA/hb-<host>.
      if (!t.get("mount")) return Fail(t.source(), "target \"" + target.name + "\": layout = \"cloudstack\" needs mount");
      if (t.get("path")) return Fail(Source(t, "path"), "target.path is derived from mount with layout = \"cloudstack\"");
      target.cloudstack_layout = true;
      target.allow_local_filesystem = false;
      target.path = mount / "KVMHA" / ("hb-" + cfg_.host.id);
    } else if (layout != "plain") {
      return Fail(Source(t, "layout"), "target.layout \"" + layout + "\" is not one of plain, cloudstack");
    } else if (target.path.empty()) {
      return Fail(t.source(), "target \"" + target.name + "\" needs a path");
    } else if (!target.path.has_filename()) {
      return NotAFile(t, target.path, "a file: every write would fail; give the heartbeat file, e.g. " +
                                          QuoteToml((target.path / "hb").string()));
    }
    if (t.get("mount")) {
      auto rel = target.path.lexically_relative(mount);
      if (rel.empty() || rel == "." || *rel.begin() == "..") {
        return Fail(Source(t, "path"), "target.path " + target.path.string() + " is not below mount " + mount.string());
      }
      target.mount = mount;
    }
    Bool(t, "target", "allow_local_filesystem", target.allow_local_filesystem);
    Bool(t, "target", "peer_watch", target.peer_watch);
    if (!err_ && target.peer_watch && !target.cloudstack_layout) {
      Fail(Source(t, "peer_watch"), "target.peer_watch needs layout = \"cloudstack\" (it reads the other hosts' hb-* files)");
    }
  }

  void BlockTargetKeys(const toml::table& t, TargetConfig& target) {
    Refuse(t, target, {"mount", "layout", "allow_local_filesystem", "peer_watch", "command"});
    Path(t, "target", "path", target.path);
    if (const toml::node* n = t.get("offset"); n && !err_) {
      const auto v = n->value_exact<int64_t>();
      if (!n->is_integer() || !v || *v < 0 || *v % 4096 != 0) {
        return Fail(n->source(), "target.offset must be a whole number of bytes ≥ 0, a multiple of 4096");
      }
      target.offset = static_cast<uint64_t>(*v);
    }
    if (!err_ && target.path.empty()) Fail(t.source(), "target \"" + target.name + "\" needs a path (the device)");
    if (!err_ && !target.path.has_filename()) NotAFile(t, target.path, "a device: give the device, e.g. \"/dev/sdb\"");
  }

  // A path with nothing after its last '/', as written or once normalized ("/",
  // "x/.."), names a directory.
  void NotAFile(const toml::table& t, const std::filesystem::path& path, const std::string& instead) {
    const std::string written = t.get("path")->value<std::string>().value_or("");
    const std::string normalized = written == path.string() ? "" : " (" + path.string() + ")";
    Fail(Source(t, "path"), "target.path " + QuoteToml(written) + normalized + " names a directory, not " + instead);
  }

  void ExecTargetKeys(const toml::table& t, TargetConfig& target) {
    Refuse(t, target, {"path", "mount", "layout", "allow_local_filesystem", "peer_watch", "offset"});
    const toml::node* n = t.get("command");
    if (err_) return;
    if (!n) return Fail(t.source(), "target \"" + target.name + "\" needs a command (an array: program and arguments)");
    const toml::array* argv = n->as_array();
    if (!argv || argv->empty() || argv->size() > 256) {
      return Fail(n->source(), "target.command must be a non-empty array of strings, e.g. [\"/usr/sbin/drbdsetup\", \"status\"]");
    }
    for (const auto& arg : *argv) {
      const auto s = arg.value<std::string>();
      if (!s) return Fail(arg.source(), "target.command must contain only strings");
      if (s->find('\0') != std::string::npos) return Fail(arg.source(), "target.command arguments must not contain NUL");
      target.command.push_back(*s);
    }
    if (!std::filesystem::path(target.command.front()).is_absolute()) {
      Fail(argv->front().source(), "target.command[0] must be an absolute path (no shell, no PATH lookup)");
    }
  }

  void Bool(const toml::table& t, std::string_view table, std::string_view key, bool& out) {
    const toml::node* n = t.get(key);
    if (!n || err_) return;
    if (!n->is_boolean()) return Fail(n->source(), std::string(table) + "." + std::string(key) + " must be true or false");
    out = *n->value<bool>();
    Record(table, key, *n);
  }

  std::string file_;
  const FileReader& read_;
  // Configured targets by path (exec: NUL and the argv), as indices into
  // cfg_.targets, and where each one's heartbeat is named ("file:line:column").
  std::map<std::string, std::vector<size_t>> heartbeats_;
  std::vector<std::string> heartbeat_sources_;
  const toml::table* cloudstack_ = nullptr;
  Config cfg_;
  std::optional<ConfigError> err_;
};

// TOML allows non-ASCII only in strings and comments; anything else is an error
// we report ourselves, because toml++ 3.3 reaches an unreachable branch on some of
// it (marzer/tomlplusplus#190, fixed after the version Debian 12 ships).
// The code point whose UTF-8 lead byte is at text[i]; 0 for ASCII, continuation
// bytes and malformed sequences (toml++ rejects those cleanly).
char32_t DecodeUtf8At(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
  const unsigned b0 = byte(i);
  if (b0 < 0xC0) return 0;
  const int extra = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : 1;
  char32_t c = b0 & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  return c;
}

// Code points on which toml++ 3.3's is_non_ascii_horizontal_whitespace() reaches
// TOML_UNREACHABLE (its lookup table leaves these blocks unhandled): undefined
// behaviour wherever the lexer asks "is this whitespace?", which includes string
// escapes. Derived from unicode_autogenerated.h in libtomlplusplus-dev 3.3.0.
bool TomlppMisreads(char32_t c) {
  return (c > 0xA0 && c < 0x49A) || (c >= 0x2D7E && c < 0x3178 && c != 0x3000) || (c >= 0xFAF6 && c < 0xFEFF);
}

std::optional<ConfigError> NonAsciiOutsideStrings(std::string_view text, std::string_view file) {
  enum { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral } state = kCode;
  const auto starts = [&](size_t i, std::string_view s) { return text.substr(i, s.size()) == s; };
  // A quote opens a string only where TOML expects a key or a value; elsewhere
  // (say `4'x`) it is code, and so is what follows it.
  char last = '\n';  // the last character in code that was not a space or tab
  uint32_t line = 1, column = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    size_t skip = 0;  // bytes consumed beyond c
    switch (state) {
      case kCode: {
        const bool string_may_start = std::string_view("\n=[,{.").find(last) != std::string_view::npos;
        if (c == '#') {
          state = kComment;
        } else if (string_may_start && starts(i, "\"\"\"")) {
          state = kMultiBasic, skip = 2;
        } else if (string_may_start && starts(i, "'''")) {
          state = kMultiLiteral, skip = 2;
        } else if (string_may_start && c == '"') {
          state = kBasic;
        } else if (string_may_start && c == '\'') {
          state = kLiteral;
        } else if (static_cast<unsigned char>(c) >= 0x80) {
          return ConfigError{std::string(file), line, column, "non-ASCII character outside a string or comment"};
        }
        if (c != ' ' && c != '\t') last = c;
        break;
      }
      case kComment:
        if (c == '\n') state = kCode, last = '\n';
        break;
      case kBasic:
        if (c == '\\') skip = 1;
        else if (c == '"' || c == '\n') state = kCode, last = c;
        break;
      case kLiteral:
        if (c == '\'' || c == '\n') state = kCode, last = c;
        break;
      case kMultiBasic:
        if (c == '\\') skip = 1;
        else if (starts(i, "\"\"\"")) state = kCode, skip = 2, last = '"';
        break;
      case kMultiLiteral:
        if (starts(i, "'''")) state = kCode, skip = 2, last = '\'';
        break;
    }
    const bool in_string = state != kCode && state != kComment;
    for (size_t j = i; in_string && j <= i + skip && j < text.size(); ++j) {
      if (TomlppMisreads(DecodeUtf8At(text, j))) {
        return ConfigError{std::string(file), line, column + static_cast<uint32_t>(j - i),
                           "this character is not supported in strings (toml++ 3.3 mishandles it); "
                           "use an ASCII spelling"};
      }
    }
    for (size_t j = i; j <= i + skip && j < text.size(); ++j) {
      if (text[j] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(text[j]) & 0xC0) != 0x80) {
        ++column;  // columns count characters, not UTF-8 continuation bytes
      }
    }
    i += skip;
  }
  return std::nullopt;
}

}  // namespace

std::string ListenAddressProblem(std::string_view address) { return ListenAddressProblem(address, HttpServerHasIpv6()); }

std::string ListenAddressProblem(std::string_view s, bool ipv6) {
  if (s.find(',') != std::string_view::npos) {
    return "one host:port only: with a ',' civetweb would listen on every entry of a list";
  }
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || std::string_view(".:-[]").find(c) != std::string_view::npos) continue;
    if (c == ' ') return "a space cannot appear in host:port";
    if (u < 0x21 || u > 0x7e) return "a control or non-ASCII character cannot appear in host:port";
    return std::string("'") + c + "' cannot appear in host:port";
  }
  const auto colon = s.rfind(':');
  const std::string_view port = colon == std::string_view::npos ? "" : s.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoi(std::string(port)) > 65535) {
    return "must be host:port, the port a number from 0 to 65535";
  }
  const std::string host(s.substr(0, colon));
  if (host.empty()) return "";  // ":port": every address (Prometheus' convention)
  if (host.front() == '[') {
    in6_addr address{};
    if (host.size() < 3 || host.back() != ']' ||
        inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &address) != 1) {
      return host + " is not an IPv6 address in brackets";
    }
    if (!ipv6) {
      return "hbfence's HTTP library (civetweb, as Debian 12 builds it) cannot listen on IPv6; use an IPv4 "
             "address, \":" + std::string(port) + "\" for every IPv4 address, or an IPv6 proxy in front";
    }
    return "";
  }
  if (host.find_first_of(":[]") != std::string::npos) return "an IPv6 address goes in brackets, e.g. [::1]:19746";
  if (std::isdigit(static_cast<unsigned char>(host.front()))) {
    return DottedQuad(host) ? ""
                            : host + " is not an IPv4 address (four numbers from 0 to 255, without leading zeros)";
  }
  return HostName(host) ? ""
                        : host + " is not a host name (labels of letters, digits and '-' separated by dots, "
                                 "starting with a letter)";
}

bool IsBcryptHash(std::string_view h) { return h.starts_with("$2y$") || h.starts_with("$2b$") || h.starts_with("$2a$"); }

std::string TelemetryPathProblem(std::string_view path) {
  if (path.empty() || path.front() != '/') return "must be an absolute URL path, e.g. /metrics";
  if (path.size() > 256) return "must be at most 256 bytes";
  for (char c : path) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("/-._~").find(c) == std::string_view::npos) {
      return "only letters, digits, '/', '-', '.', '_' and '~' can appear in it (nothing to escape or decode)";
    }
  }
  if (path == "/") return "\"/\" is the status page";
  if (path.back() == '/') return "must not end with '/'";
  for (size_t begin = 1; begin <= path.size();) {
    const size_t end = std::min(path.find('/', begin), path.size());
    const std::string_view segment = path.substr(begin, end - begin);
    if (segment.empty()) return "must not contain an empty segment (\"//\")";
    if (segment == "." || segment == "..") return "must not contain a \".\" or \"..\" segment";
    begin = end + 1;
  }
  if (path == "/healthz" || path.starts_with("/-/")) {
    return "/healthz and the paths under /-/ are hbfence's own (/-/healthy, /-/ready)";
  }
  return "";
}

std::string ConfigError::ToString() const {
  if (line == 0) return message;  // the file itself could not be read; the message names it
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

Result<Config, ConfigError> ParseConfig(std::string_view text, std::string_view file, const FileReader& read) {
  if (auto bad = NonAsciiOutsideStrings(text, file)) return Err{*bad};
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    // Line 0 would read as "no position" (ConfigError::ToString).
    return Err{ConfigError{std::string(file), std::max<uint32_t>(1, e.source().begin.line),
                           std::max<uint32_t>(1, e.source().begin.column), std::string(e.description())}};
  }
  return Parser(std::string(file), read).Run(root);
}

Result<Config, ConfigError> LoadConfigFile(const std::filesystem::path& path) {
  // Regular files only, of a sane size: a FIFO or device put where the config was
  // must be an error, not a read that blocks the reload (or the signal thread).
  constexpr size_t kMaxConfigBytes = 4 << 20;
  constexpr size_t kMaxOtherFileBytes = 16 << 20;  // mountinfo on a host with many mounts
  auto text = ReadRegularFile(path, kMaxConfigBytes);
  if (!text) {
    std::string message = text.error();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      message += ": --config takes the configuration file itself (by default /etc/hbfence/hbfence.toml)";
    }
    return Err{ConfigError{path.string(), 0, 0, std::move(message)}};
  }
  const FileReader read = [](const std::filesystem::path& p) { return ReadRegularFile(p, kMaxOtherFileBytes); };
  return ParseConfig(text.value(), std::filesystem::absolute(path).lexically_normal().string(), read);
}

PoolChanges SyncDiscoveredPools(const Config& fresh, Config& running) {
  PoolChanges changes;
  auto in = [](const std::vector<TargetConfig>& targets, const TargetConfig& t) {
    return std::find(targets.begin(), targets.end(), t) != targets.end();
  };
  std::vector<TargetConfig> kept;
  for (const auto& t : running.targets) {
    if (t.discovered && !in(fresh.targets, t)) {
      changes.removed.push_back(t);
    } else {
      kept.push_back(t);
    }
  }
  for (const auto& t : fresh.targets) {
    // A running target on the pool may be one the file no longer configures (edited,
    // not yet reloaded): it still writes there, and a second one must not join it.
    const bool clashes = std::any_of(kept.begin(), kept.end(), [&](const TargetConfig& k) {
      return k.name == t.name || k.path == t.path || (t.mount && OnPool(k, *t.mount));
    });
    if (t.discovered && !clashes && kept.size() < kMaxTargets) {
      kept.push_back(t);
      changes.added.push_back(t);
    }
  }
  running.targets = std::move(kept);
  return changes;
}

std::filesystem::path WithoutTrailingSlash(std::string_view s) {
  while (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
  return std::filesystem::path(s).lexically_normal();
}

std::vector<TargetPlace> PlacesOf(const std::vector<TargetConfig>& targets, const std::vector<std::string>& names) {
  std::vector<TargetPlace> out;
  for (const auto& name : names) {
    auto t = std::find_if(targets.begin(), targets.end(), [&](const TargetConfig& c) { return c.name == name; });
    if (t != targets.end()) out.push_back({name, t->kind, t->mount});
  }
  return out;
}

std::vector<std::string> DescribeConfig(const Config& c) {
  auto src = [&](const std::string& key) {
    auto it = c.sources.find(key);
    return "  # " + (it == c.sources.end() ? std::string("default") : it->second);
  };
  auto secs = [](Duration d) { return FormatSeconds(ToSeconds(d)); };
  const auto& f = c.fence;
  const auto& hb = c.heartbeat;
  std::vector<std::string> out{
      "[host]",
      "id = \"" + c.host.id + "\"" + src("host.id"),
      "[web]",
      "listen_address = \"" + c.web.listen_address + "\"",
      "telemetry_path = " + QuoteToml(c.web.telemetry_path),
      "[log]",
      "level = \"" + c.log.level + "\"",
      "format = \"" + c.log.format + "\"",
      "[heartbeat]",
      "interval_seconds = " + secs(hb.interval) + src("heartbeat.interval_seconds"),
      "timeout_seconds = " + secs(hb.timeout) + src("heartbeat.timeout_seconds"),
      "lease_seconds = " + secs(hb.lease) + src("heartbeat.lease_seconds"),
      "startup_grace_seconds = " + secs(hb.startup_grace) + src("heartbeat.startup_grace_seconds"),
      "[fence]",
      "action = \"" + std::string(Name(f.action)) + "\"" + src("fence.action"),
      "policy = \"" + std::string(Name(f.policy)) + "\"" + src("fence.policy"),
      "journal_path = \"" + f.journal_path.string() + "\"" + src("fence.journal_path"),
      "journal_timeout_seconds = " + secs(f.journal_timeout) + src("fence.journal_timeout_seconds"),
      "journal_rotate_bytes = " + std::to_string(f.journal_rotate_bytes) + src("fence.journal_rotate_bytes"),
      "runtime_directory = " + QuoteToml(f.runtime_directory.string()) + src("fence.runtime_directory"),
      "sysrq_trigger_path = \"" + f.sysrq_trigger_path.string() + "\"" + src("fence.sysrq_trigger_path"),
      "systemctl_path = \"" + f.systemctl_path.string() + "\"" + src("fence.systemctl_path"),
      "agent_unit = \"" + f.agent_unit + "\"" + src("fence.agent_unit"),
      "custom_script = \"" + f.custom_script.string() + "\"" + src("fence.custom_script"),
      "custom_timeout_seconds = " + secs(f.custom_timeout) + src("fence.custom_timeout_seconds"),
      "graceful_escalation_seconds = " + secs(f.graceful_escalation) + src("fence.graceful_escalation_seconds"),
      "sync_grace_seconds = " + secs(f.sync_grace) + src("fence.sync_grace_seconds"),
      "systemctl_timeout_seconds = " + secs(f.systemctl_timeout) + src("fence.systemctl_timeout_seconds"),
      "restart_agent_max_per_hour = " + std::to_string(f.restart_agent_max_per_hour) +
          src("fence.restart_agent_max_per_hour"),
      "restart_agent_escalation = \"" + std::string(Name(f.restart_agent_escalation)) + "\"" +
          src("fence.restart_agent_escalation"),
      "max_fences_per_hour = " + std::to_string(f.max_fences_per_hour) + src("fence.max_fences_per_hour"),
      "destroy_timeout_seconds = " + secs(f.destroy_timeout) + src("fence.destroy_timeout_seconds"),
      std::string("force_unmount = ") + (f.force_unmount ? "true" : "false") + src("fence.force_unmount"),
      "destroy_escalation = \"" + std::string(Name(f.destroy_escalation)) + "\"" + src("fence.destroy_escalation"),
      "[watchdog]",
      "device = \"" + c.watchdog.device.string() + "\"" + (c.watchdog.device.empty() ? "  # none" : ""),
      "timeout_seconds = " + secs(c.watchdog.timeout) + src("watchdog.timeout_seconds"),
      "[history]",
      std::string("enabled = ") + (c.history.enabled ? "true" : "false") + src("history.enabled"),
      "path = " + QuoteToml(c.history.path.string()) +
          (c.sources.contains("history.path") ? src("history.path") : "  # default: beside fence.journal_path"),
      "max_bytes = " + std::to_string(c.history.max_bytes) + src("history.max_bytes"),
      "[cloudstack]",
      "agent_properties = " + QuoteToml(c.cloudstack.agent_properties.string()) +
          (c.cloudstack.agent_properties.empty() ? "  # none: agent.properties not read" : ""),
      std::string("discover_pools = ") + (c.cloudstack.discover_pools ? "true" : "false"),
      "rediscover_interval_seconds = " + secs(c.cloudstack.rediscover_interval),
      "mount_prefix = " + QuoteToml(c.cloudstack.mount_prefix.string()),
      "mountinfo_path = " + QuoteToml(c.cloudstack.mountinfo_path.string()),
      std::string("peer_watch = ") + (c.cloudstack.peer_watch ? "true" : "false"),
      std::string("allow_local_filesystem = ") + (c.cloudstack.allow_local_filesystem ? "true" : "false"),
      "[libvirt]",
      "uri = " + QuoteToml(f.libvirt_uri) + src("libvirt.uri"),
      "[control]",
      "socket_path = " + QuoteToml(c.control.socket_path.string()) +
          (c.control.socket_path.empty() ? "  # none: no control socket" : ""),
  };
  for (const auto& [user, hash] : c.web.basic_auth_users) {
    out.insert(out.begin() + 5, "basic_auth_users." + user + " = <bcrypt hash>" + src("web.basic_auth_users"));
  }
  for (const auto& t : c.targets) {
    out.push_back(t.discovered ? "[[target]]  # discovered: a pool mounted at " + t.mount->string() : "[[target]]");
    out.push_back("name = \"" + t.name + "\"");
    out.push_back("kind = \"" + t.kind + "\"");
    if (t.kind == "exec") {
      std::string argv;
      for (const auto& a : t.command) argv += (argv.empty() ? "" : ", ") + QuoteToml(a);
      out.push_back("command = [" + argv + "]");
      continue;
    }
    out.push_back("path = " + QuoteToml(t.path.string()));
    if (t.kind == "block") {
      out.push_back("offset = " + std::to_string(t.offset));
      continue;
    }
    if (t.mount) out.push_back("mount = " + QuoteToml(t.mount->string()));
    if (t.cloudstack_layout) out.push_back("layout = \"cloudstack\"");
    out.push_back(std::string("allow_local_filesystem = ") + (t.allow_local_filesystem ? "true" : "false"));
    if (t.peer_watch) out.push_back("peer_watch = true");
  }
  out.push_back("# derived timings (fence/timings.h)");
  for (const auto& line : Describe(Derive(hb))) out.push_back("# " + line);
  out.push_back(std::string("# fencing is ") + (f.action == FenceActionKind::kLogOnly ? "DISARMED (log-only)" : "ARMED"));
  for (const auto& w : c.warnings) out.push_back("# warning: " + w);
  return out;
}

}  // namespace hbfence
