// SPDX-License-Identifier: Apache-2.0

// --web.config.file: the web configuration file of Prometheus' exporter toolkit
// (YAML), read for what hbfence can honour:
//
//   basic_auth_users:            # user: bcrypt hash, as in [web.basic_auth_users]
//     prometheus: $2y$10$...
//   http_server_config:
//     http2: false               # accepted and moot: HTTP/2 comes only with TLS
//
// tls_server_config is refused (no in-process TLS: put a terminator in front), so
// are http_server_config.headers, rate_limit and unknown keys, each at its
// file:line:column. Users come from the file or from [web.basic_auth_users], never
// both: a configuration naming users in both is an error (which one should win is
// not obvious to the next reader of either file). Read with the configuration: at
// start, by check-config and on every reload (a bad file rejects the reload), but
// the users take effect at start only, as the TOML table's do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "src/config.h"
#include "src/sys/result.h"

namespace hbfence {

struct WebConfigFile {
  std::string file;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
  uint32_t users_line = 0, users_column = 0;            // where basic_auth_users is; 0 when it is not
};

// No I/O: `file` names the text in messages.
Result<WebConfigFile, ConfigError> ParseWebConfigYaml(std::string_view text, std::string_view file);
Result<WebConfigFile, ConfigError> LoadWebConfigFile(const std::filesystem::path& path);

// Puts the file's users into `cfg`; an error when [web.basic_auth_users] names users too.
std::optional<ConfigError> ApplyWebConfigFile(const WebConfigFile& web, Config& cfg);

}  // namespace hbfence
