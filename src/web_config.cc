// SPDX-License-Identifier: Apache-2.0

#include "src/web_config.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "src/sys/fs_util.h"

namespace hbfence {
namespace {

constexpr size_t kMaxWebConfigBytes = 64 << 10;

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Result<WebConfigFile, ConfigError> Run(std::string_view text) {
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
      return Err{At(e.mark, "YAML: " + e.msg)};
    }
    WebConfigFile out;
    out.file = file_;
    if (documents.size() > 1) return Err{At(documents[1].Mark(), "one YAML document only")};
    if (documents.empty() || documents[0].IsNull()) return out;  // empty: nothing configured
    const YAML::Node& root = documents[0];
    if (!root.IsMap()) {
      return Err{At(root.Mark(), "the web configuration must be a mapping (basic_auth_users: {user: bcrypt hash})")};
    }
    std::set<std::string> seen;
    for (const auto& entry : root) {
      const std::string key = entry.first.Scalar();
      if (!seen.insert(key).second) return Err{At(entry.first.Mark(), key + " appears twice")};
      if (key == "basic_auth_users") {
        if (auto e = Users(entry.first, entry.second, out)) return Err{*e};
      } else if (key == "http_server_config") {
        if (auto e = HttpServerConfig(entry.second)) return Err{*e};
      } else if (key == "tls_server_config") {
        return Err{At(entry.first.Mark(),
                      "tls_server_config: hbfence does not serve TLS (Debian 12's civetweb 1.15 crashes on HTTPS with "
                      "OpenSSL 3); terminate TLS in front of it, see packaging/tls-proxy.conf")};
      } else if (key == "rate_limit") {
        return Err{At(entry.first.Mark(),
                      "rate_limit: not supported; hbfence limits failed logins itself (5 % of a core per client, "
                      "10 % in total, each failure answered after 250 ms)")};
      } else {
        return Err{At(entry.first.Mark(), "unknown key " + key +
                                               " (hbfence reads basic_auth_users and http_server_config.http2)")};
      }
    }
    return out;
  }

 private:
  ConfigError At(const YAML::Mark& mark, std::string message) const {
    // yaml-cpp counts from 0 and has no mark (-1) for nodes it made up.
    const auto one_based = [](int v) { return static_cast<uint32_t>(v < 0 ? 1 : v + 1); };
    return ConfigError{file_, one_based(mark.line), one_based(mark.column), std::move(message)};
  }

  std::optional<ConfigError> Users(const YAML::Node& key, const YAML::Node& users, WebConfigFile& out) const {
    const ConfigError where = At(key.Mark(), "");
    out.users_line = where.line;
    out.users_column = where.column;
    if (users.IsNull()) return std::nullopt;  // "basic_auth_users:" alone: nobody
    if (!users.IsMap()) return At(users.Mark(), "basic_auth_users must be a mapping of user names to bcrypt hashes");
    for (const auto& entry : users) {
      if (!entry.first.IsScalar() || entry.first.Scalar().empty()) {
        return At(entry.first.Mark(), "basic_auth_users: a user name must be a non-empty string");
      }
      const std::string user = entry.first.Scalar();
      if (user.find(':') != std::string::npos) {
        return At(entry.first.Mark(), "basic_auth_users." + user + ": a user name cannot contain ':' (basic auth "
                                      "separates the user from the password with it)");
      }
      if (out.basic_auth_users.count(user)) return At(entry.first.Mark(), "basic_auth_users." + user + " appears twice");
      if (!entry.second.IsScalar() || !IsBcryptHash(entry.second.Scalar())) {
        return At(entry.second.Mark(),
                  "basic_auth_users." + user + " must be a bcrypt hash ($2y$…, e.g. from htpasswd -nB)");
      }
      out.basic_auth_users[user] = entry.second.Scalar();
    }
    return std::nullopt;
  }

  std::optional<ConfigError> HttpServerConfig(const YAML::Node& node) const {
    if (node.IsNull()) return std::nullopt;
    if (!node.IsMap()) return At(node.Mark(), "http_server_config must be a mapping");
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      if (key == "http2") {
        bool ignored = false;
        if (!entry.second.IsScalar() || !YAML::convert<bool>::decode(entry.second, ignored)) {
          return At(entry.second.Mark(), "http_server_config.http2 must be true or false");
        }
        // HTTP/2 is negotiated in TLS, which hbfence does not serve: HTTP/1.1 either way.
      } else if (key == "headers") {
        return At(entry.first.Mark(),
                  "http_server_config.headers: hbfence cannot add headers to its answers; set them in a proxy in "
                  "front");
      } else {
        return At(entry.first.Mark(), "unknown key http_server_config." + key + " (hbfence reads http2 only)");
      }
    }
    return std::nullopt;
  }

  const std::string file_;
};

}  // namespace

Result<WebConfigFile, ConfigError> ParseWebConfigYaml(std::string_view text, std::string_view file) {
  return Reader(std::string(file)).Run(text);
}

Result<WebConfigFile, ConfigError> LoadWebConfigFile(const std::filesystem::path& path) {
  auto text = ReadRegularFile(path, kMaxWebConfigBytes);
  if (!text) return Err{ConfigError{path.string(), 0, 0, "--web.config.file: " + text.error()}};
  return ParseWebConfigYaml(text.value(), std::filesystem::absolute(path).lexically_normal().string());
}

std::optional<ConfigError> ApplyWebConfigFile(const WebConfigFile& web, Config& cfg) {
  if (web.basic_auth_users.empty()) return std::nullopt;
  if (!cfg.web.basic_auth_users.empty()) {
    const auto toml = cfg.sources.find("web.basic_auth_users");
    const std::string where = toml == cfg.sources.end() ? cfg.file : toml->second;
    return ConfigError{web.file, web.users_line, web.users_column,
                       "basic_auth_users: [web.basic_auth_users] at " + where +
                           " names users too; keep them in one of the two files"};
  }
  cfg.web.basic_auth_users = web.basic_auth_users;
  cfg.sources["web.basic_auth_users"] =
      web.file + ":" + std::to_string(web.users_line) + ":" + std::to_string(web.users_column);
  return std::nullopt;
}

}  // namespace hbfence
