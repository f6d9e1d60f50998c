// SPDX-License-Identifier: Apache-2.0

// End to end against the real peers: Debian's prometheus scrapes a live hbfence
// every second with the shipped rules loaded, and Debian's Alertmanager, with the
// shipped routing, delivers to a webhook listener in this test. Loopback only.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace hbfence {
namespace {

using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::HttpGet;
using testing::ReadAll;
using testing::TempDir;
using testing::WaitForMetric;
using testing::WriteFile;

const std::filesystem::path kSource = HBFENCE_SOURCE_DIR;

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A peer process (prometheus, alertmanager), killed at scope exit.
class Peer {
 public:
  Peer(std::vector<std::string> argv, const std::filesystem::path& log) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Peer() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_ = -1;
};

// Accepts Alertmanager's webhook POSTs and keeps their bodies.
class WebhookListener {
 public:
  WebhookListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~WebhookListener() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

  // Waits until a received body (request line + headers + body) contains `needle`.
  std::optional<std::string> WaitFor(const std::string& needle, Duration timeout) {
    std::unique_lock lock(mu_);
    std::optional<std::string> hit;
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& r : requests_) {
        if (r.find(needle) != std::string::npos) hit = r;
      }
      return hit.has_value();
    });
    return hit;
  }

 private:
  void Serve() {
    for (;;) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string req;
      char buf[8192];
      size_t need = std::string::npos;
      while (need == std::string::npos || req.size() < need) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        const auto end = req.find("\r\n\r\n");
        if (need == std::string::npos && end != std::string::npos) {
          std::smatch m;
          const std::string head = req.substr(0, end);
          const bool sized = std::regex_search(head, m, std::regex("[Cc]ontent-[Ll]ength: *(\\d+)"));
          need = end + 4 + (sized ? std::stoul(m[1]) : 0);
        }
      }
      const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!::write(c, ok.data(), ok.size());
      ::close(c);
      std::lock_guard lock(mu_);
      requests_.push_back(std::move(req));
      cv_.notify_all();
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> requests_;
};

// Polls an HTTP API until the body contains `needle` (bounded).
bool WaitForBody(int port, const std::string& path, const std::string& needle, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (HttpGet(port, path).body.find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

TEST(PrometheusEndToEnd, SuppressedFenceAlertReachesTheWebhook) {
  for (const char* bin : {"/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager"}) {
    ASSERT_TRUE(std::filesystem::exists(bin)) << bin << " missing: scripts/test installs it";
  }
  TempDir dir;
  WebhookListener webhook;

  // hbfence, log-only, on a local directory we can break.
  WriteFile(dir / "hbfence.toml",
            "[host]\nid = \"e2e-host\"\n[web]\nlisten_address = \"127.0.0.1:0\"\n"
            "[heartbeat]\ninterval_seconds = 0.2\ntimeout_seconds = 0.5\nlease_seconds = 2\n"
            "[fence]\naction = \"log-only\"\njournal_path = \"" + (dir / "journal.jsonl").string() + "\"\n"
            "runtime_directory = \"" + (dir / "run").string() + "\"\n"
            "[[target]]\nname = \"nfs1\"\npath = \"" + (dir / "pool" / "KVMHA" / "hb-e2e-host").string() + "\"\n");
  DaemonProcess hbfence({"--config", (dir / "hbfence.toml").string()}, dir / "hbfence.log");
  ASSERT_GT(hbfence.Port(), 0) << hbfence.Log();

  // Alertmanager with the shipped routing; receivers point at our webhook.
  const int am_port = FreePort();
  std::string am = ReadAll(kSource / "alerts" / "alertmanager.yml");
  ASSERT_FALSE(am.empty());
  am = std::regex_replace(am, std::regex(R"(url: *['"]?http://[^'"\s]+/(page|ticket)['"]?)"),
                          "url: 'http://127.0.0.1:" + std::to_string(webhook.port()) + "/$1'");
  am = std::regex_replace(am, std::regex(R"(group_wait: *\w+)"), "group_wait: 1s");
  WriteFile(dir / "alertmanager.yml", am);
  Peer alertmanager({"/usr/bin/prometheus-alertmanager", "--config.file=" + (dir / "alertmanager.yml").string(),
                     "--storage.path=" + (dir / "am").string(),
                     "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
                    dir / "alertmanager.log");

  // Prometheus with the shipped rules; only `for:` durations are shortened.
  const int prom_port = FreePort();
  const std::string rules = std::regex_replace(ReadAll(kSource / "alerts" / "hbfence.rules.yml"),
                                               std::regex(R"(\bfor: *\w+)"), "for: 0s");
  WriteFile(dir / "rules.yml", rules);
  WriteFile(dir / "prometheus.yml",
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "rule_files: ['" + (dir / "rules.yml").string() + "']\n"
            "alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['127.0.0.1:" + std::to_string(am_port) + "']\n"
            "scrape_configs:\n- job_name: hbfence\n  static_configs:\n  - targets: ['127.0.0.1:" +
                std::to_string(hbfence.Port()) + "']\n");
  Peer prometheus({"/usr/bin/prometheus", "--config.file=" + (dir / "prometheus.yml").string(),
                   "--storage.tsdb.path=" + (dir / "tsdb").string(),
                   "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                  dir / "prometheus.log");

  // Prometheus scrapes hbfence and the series are queryable.
  ASSERT_TRUE(WaitForBody(prom_port, "/api/v1/targets", "\"health\":\"up\"", 60s)) << ReadAll(dir / "prometheus.log");
  ASSERT_TRUE(WaitForBody(prom_port, "/api/v1/query?query=hbfence_target_up", "\"target\":\"nfs1\"", 30s));
  EXPECT_TRUE(WaitForBody(prom_port, "/api/v1/query?query=hbfence_heartbeat_write_duration_seconds_count",
                          "\"instance\":\"127.0.0.1:" + std::to_string(hbfence.Port()) + "\"", 30s));
  // The shipped recording rules evaluate.
  EXPECT_TRUE(WaitForBody(prom_port, "/api/v1/rules", "\"health\":\"ok\"", 30s));

  // Break the storage: log-only means nothing fences, so the alert must page.
  std::filesystem::remove_all(dir / "pool" / "KVMHA");
  WriteFile(dir / "pool" / "KVMHA", "not a directory\n");
  ASSERT_EQ(WaitForMetric(hbfence.Port(), "hbfence_fence_pending", [](double v) { return v == 1; }), 1);
  EXPECT_TRUE(WaitForBody(prom_port, "/api/v1/alerts", "HbfenceFenceSuppressed", 60s));
  EXPECT_TRUE(WaitForBody(am_port, "/api/v2/alerts", "HbfenceFenceSuppressed", 60s)) << ReadAll(dir / "alertmanager.log");
  const auto delivered = webhook.WaitFor("\"alertname\":\"HbfenceFenceSuppressed\"", 60s);
  ASSERT_TRUE(delivered) << ReadAll(dir / "alertmanager.log");
  EXPECT_NE(delivered->find("POST /page"), std::string::npos) << "a suppressed fence pages";
  EXPECT_NE(delivered->find("\"severity\":\"critical\""), std::string::npos);

  // The storage comes back: the decision no longer stands (pending 0), but it was taken,
  // so the alert stays (for an hour) and now says the storage came back. Its text reads
  // pending, so seeing it proves Prometheus scraped pending 0 and kept the alert active.
  // A decision that no scrape saw as pending fires the same way (alerts/tests/decisions.yml).
  std::filesystem::remove(dir / "pool" / "KVMHA");
  std::filesystem::create_directories(dir / "pool" / "KVMHA");
  ASSERT_EQ(WaitForMetric(hbfence.Port(), "hbfence_fence_pending", [](double v) { return v == 0; }), 0)
      << hbfence.Log();
  EXPECT_TRUE(WaitForBody(prom_port, "/api/v1/alerts", "The storage has come back since", 60s))
      << HttpGet(prom_port, "/api/v1/alerts").body;
}

}  // namespace
}  // namespace hbfence
