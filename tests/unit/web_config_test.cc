// SPDX-License-Identifier: Apache-2.0

// src/web_config.h: the exporter toolkit's web configuration (YAML), what hbfence
// honours of it, what it refuses (at file:line:column), and how its users meet
// [web.basic_auth_users].
#include "src/web_config.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace hbfence {
namespace {

using ::testing::HasSubstr;

constexpr char kFile[] = "web.yml";
constexpr char kHash[] = "$2y$04$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0";

WebConfigFile MustParse(const std::string& text) {
  auto r = ParseWebConfigYaml(text, kFile);
  if (!r.ok()) {
    ADD_FAILURE() << "unexpected error: " << r.error().ToString();
    return {};
  }
  return std::move(r).value();
}

std::string MustFail(const std::string& text) {
  auto r = ParseWebConfigYaml(text, kFile);
  if (r.ok()) {
    ADD_FAILURE() << "parsed, but an error was expected for:\n" << text;
    return "";
  }
  return r.error().ToString();
}

TEST(WebConfigTest, BasicAuthUsers) {
  const auto web = MustParse(std::string("# exporter toolkit\nbasic_auth_users:\n  prometheus: ") + kHash +
                             "\n  'grafana': \"" + kHash + "\"\nhttp_server_config:\n  http2: false\n");
  EXPECT_EQ(web.basic_auth_users, (std::map<std::string, std::string>{{"grafana", kHash}, {"prometheus", kHash}}));
  EXPECT_EQ(web.users_line, 2u);
  EXPECT_EQ(web.users_column, 1u);
  EXPECT_EQ(web.file, kFile);
}

TEST(WebConfigTest, NothingConfiguredIsNoUsers) {
  for (const std::string text : {"", "# nothing\n", "basic_auth_users:\n", "basic_auth_users: {}\n", "---\n",
                                 "http_server_config:\n  http2: true\n", "http_server_config:\n"}) {
    EXPECT_TRUE(MustParse(text).basic_auth_users.empty()) << text;
  }
}

TEST(WebConfigTest, WhatCannotBeHonouredIsRefusedWhereItIs) {
  EXPECT_EQ(MustFail("tls_server_config:\n  cert_file: /etc/hbfence/cert.pem\n  key_file: /etc/hbfence/key.pem\n"),
            "web.yml:1:1: tls_server_config: hbfence does not serve TLS (Debian 12's civetweb 1.15 crashes on HTTPS "
            "with OpenSSL 3); terminate TLS in front of it, see packaging/tls-proxy.conf");
  EXPECT_EQ(MustFail("http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\n"),
            "web.yml:3:3: http_server_config.headers: hbfence cannot add headers to its answers; set them in a proxy "
            "in front");
  EXPECT_EQ(MustFail("http_server_config:\n  http2: maybe\n"),
            "web.yml:2:10: http_server_config.http2 must be true or false");
  EXPECT_EQ(MustFail("http_server_config:\n  keepalive: true\n"),
            "web.yml:2:3: unknown key http_server_config.keepalive (hbfence reads http2 only)");
  EXPECT_THAT(MustFail("rate_limit:\n  interval: 1s\n"), HasSubstr("web.yml:1:1: rate_limit: not supported"));
  EXPECT_EQ(MustFail("\nbasic_auth_user:\n  a: b\n"),
            "web.yml:2:1: unknown key basic_auth_user (hbfence reads basic_auth_users and http_server_config.http2)");
}

TEST(WebConfigTest, BadUsersAreRefusedWhereTheyAre) {
  EXPECT_EQ(MustFail("basic_auth_users:\n  prometheus: s3cret\n"),
            "web.yml:2:15: basic_auth_users.prometheus must be a bcrypt hash ($2y$…, e.g. from htpasswd -nB)");
  EXPECT_EQ(MustFail("basic_auth_users:\n  prometheus: [1, 2]\n"),
            "web.yml:2:15: basic_auth_users.prometheus must be a bcrypt hash ($2y$…, e.g. from htpasswd -nB)");
  EXPECT_EQ(MustFail(std::string("basic_auth_users:\n  'a:b': ") + kHash + "\n"),
            "web.yml:2:3: basic_auth_users.a:b: a user name cannot contain ':' (basic auth separates the user from "
            "the password with it)");
  EXPECT_EQ(MustFail("basic_auth_users:\n  - prometheus\n"),
            "web.yml:2:3: basic_auth_users must be a mapping of user names to bcrypt hashes");
  EXPECT_EQ(MustFail(std::string("basic_auth_users:\n  a: ") + kHash + "\n  a: " + kHash + "\n"),
            "web.yml:3:3: basic_auth_users.a appears twice");
  EXPECT_EQ(MustFail("basic_auth_users: {}\nhttp_server_config: {}\nbasic_auth_users: {}\n"),
            "web.yml:3:1: basic_auth_users appears twice");
  EXPECT_EQ(MustFail("- basic_auth_users\n"),
            "web.yml:1:1: the web configuration must be a mapping (basic_auth_users: {user: bcrypt hash})");
}

TEST(WebConfigTest, YamlErrorsAndSecondDocumentsCarryPositions) {
  EXPECT_EQ(MustFail("basic_auth_users:\n  a: [1\n"), "web.yml:3:1: YAML: end of sequence flow not found");
  EXPECT_THAT(MustFail("basic_auth_users: {}\n---\nbasic_auth_users: {}\n"),
              HasSubstr("web.yml:3:1: one YAML document only"));
}

TEST(WebConfigTest, UsersComeFromOneFileOnly) {
  const auto web = MustParse(std::string("\nbasic_auth_users:\n  prometheus: ") + kHash + "\n");
  Config cfg;
  cfg.file = "/etc/hbfence/hbfence.toml";
  ASSERT_FALSE(ApplyWebConfigFile(web, cfg));
  EXPECT_EQ(cfg.web.basic_auth_users.at("prometheus"), kHash);
  EXPECT_EQ(cfg.sources.at("web.basic_auth_users"), "web.yml:2:1");

  Config both;
  both.file = "/etc/hbfence/hbfence.toml";
  both.web.basic_auth_users["ops"] = kHash;
  both.sources["web.basic_auth_users"] = "/etc/hbfence/hbfence.toml:30:1";
  const auto conflict = ApplyWebConfigFile(web, both);
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->ToString(),
            "web.yml:2:1: basic_auth_users: [web.basic_auth_users] at /etc/hbfence/hbfence.toml:30:1 names users too; "
            "keep them in one of the two files");
  EXPECT_EQ(both.web.basic_auth_users.size(), 1u) << "nothing changed";

  // A file without users leaves the TOML's alone.
  EXPECT_FALSE(ApplyWebConfigFile(MustParse("http_server_config:\n  http2: true\n"), both));
  EXPECT_EQ(both.web.basic_auth_users.count("ops"), 1u);
}

TEST(WebConfigTest, AFileThatCannotBeReadSaysWhy) {
  testing::TempDir dir;
  const auto r = LoadWebConfigFile(dir / "absent.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().ToString(), "--web.config.file: cannot open " + (dir / "absent.yml").string() +
                                      ": No such file or directory");
  const auto d = LoadWebConfigFile(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.error().ToString(), HasSubstr("is a directory, not a regular file"));
}

}  // namespace
}  // namespace hbfence
