// SPDX-License-Identifier: Apache-2.0

#include "metrics/http_server.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <prometheus/exposer.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

namespace hbfence {
namespace {

std::atomic<const HttpHandlers*> g_handlers{nullptr};
std::atomic<const std::string*> g_telemetry_path{nullptr};  // set before the server starts
std::atomic<bool> g_exposition_registered{false};
std::atomic<BasicAuth*> g_auth{nullptr};  // null: no users configured

// Every answer closes the connection (keep-alive is off), and says so.
void Reply(mg_connection* conn, int status, const char* reason, const char* type, const std::string& body,
           const char* extra_headers = "") {
  const bool head = std::strcmp(mg_get_request_info(conn)->request_method, "HEAD") == 0;
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n%s\r\n",
            status, reason, type, body.size(), extra_headers);
  if (!head) mg_write(conn, body.data(), body.size());
}

// civetweb's error messages while it starts (why it could not listen); its log
// callback has no user pointer either.
std::mutex g_start_log_mu;
std::string* g_start_log = nullptr;  // guarded by g_start_log_mu; set only during Start()

int LogMessage(const mg_connection*, const char* message) {
  std::lock_guard lock(g_start_log_mu);
  if (g_start_log && message) *g_start_log += (g_start_log->empty() ? "" : "; ") + std::string(message);
  return 1;  // nothing else logs it
}

// Every IPv4 and IPv6 address needs the library's IPv6 and an IPv6 stack on the host
// (a kernel booted with ipv6.disable=1 has none).
bool DualStack() {
  if (!HttpServerHasIpv6()) return false;
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// civetweb's listening_ports spelling: "PORT" listens on every IPv4 address, "+PORT"
// on every IPv4 and IPv6 address (IPV6_V6ONLY off); the other forms are its own.
std::string CivetPorts(const std::string& address, bool dual_stack) {
  if (!address.empty() && address.front() == ':') return (dual_stack ? "+" : "") + address.substr(1);
  return address;
}

// The error bind(2) gives for the address civetweb could not listen on, found by
// binding it ourselves the way civetweb does (SO_REUSEADDR); "" when that works
// (the address came free since) or cannot be tried. civetweb only says "null
// context … Possible problem binding to port".
std::string BindError(const std::string& address, bool dual_stack) {
  const auto colon = address.rfind(':');
  const std::string host = address.substr(0, colon);
  const int port = std::stoi(address.substr(colon + 1));
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if ((host.empty() && dual_stack) || (!host.empty() && host.front() == '[')) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    if (!host.empty() && inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6->sin6_addr) != 1) return "";
    length = sizeof *v6;
  } else if (host.empty() || inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v4;
  } else {
    addrinfo hints{};
    hints.ai_family = AF_INET;  // civetweb resolves host names to IPv4
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
      return "cannot resolve " + host + " to an IPv4 address: " + gai_strerror(rc);
    }
    std::memcpy(v4, found->ai_addr, sizeof *v4);
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v4;
    ::freeaddrinfo(found);
  }
  const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  const int on = 1, off = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (storage.ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, host.empty() ? &off : &on, sizeof on);
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&storage), length);
  const int err = errno;
  ::close(fd);
  if (rc == 0) return "";
  const char* name = strerrorname_np(err);
  return std::string(std::strerror(err)) + " (" + (name ? name : "errno " + std::to_string(err)) + ")";
}

int BeginRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const char* method = info->request_method;
  if (std::strcmp(method, "GET") != 0 && std::strcmp(method, "HEAD") != 0) {
    Reply(conn, 405, "Method Not Allowed", "text/plain", "method not allowed\n", "Allow: GET, HEAD\r\n");
    return 405;
  }
  const HttpHandlers* h = g_handlers.load();
  const std::string uri = info->local_uri ? info->local_uri : "";
  // Public, so that load balancers and systemd-style probes need no password; it
  // tells only whether the main loop runs.
  if (h && uri == "/healthz") {
    if (h->healthy()) {
      Reply(conn, 200, "OK", "text/plain", "ok\n");
      return 200;
    }
    Reply(conn, 503, "Service Unavailable", "text/plain", "main loop stalled\n");
    return 503;
  }
  // Prometheus' own probe paths, as public as /healthz: healthy while the process
  // answers; ready once every target's first write is decided and the main loop runs.
  if (h && uri == "/-/healthy") {
    Reply(conn, 200, "OK", "text/plain", "ok\n");
    return 200;
  }
  if (h && uri == "/-/ready") {
    if (g_exposition_registered.load() && h->ready()) {
      Reply(conn, 200, "OK", "text/plain", "ready\n");
      return 200;
    }
    Reply(conn, 503, "Service Unavailable", "text/plain", "not ready\n");
    return 503;
  }
  if (BasicAuth* auth = g_auth.load()) {
    const auto started = std::chrono::steady_clock::now();
    const char* authorization = mg_get_header(conn, "Authorization");
    const auto verdict = auth->Check(authorization, info->remote_addr);
    // A failed login is answered no sooner than kFailedLoginAnswer: refusals that
    // cost no bcrypt (throttled, malformed) would otherwise come back in
    // microseconds, and a flood of them took a core. A request without credentials
    // (a browser's first try) is answered at once.
    if (verdict != BasicAuth::Verdict::kAllowed && authorization != nullptr) {
      std::this_thread::sleep_until(started + HttpServer::kFailedLoginAnswer);
    }
    switch (verdict) {
      case BasicAuth::Verdict::kAllowed:
        break;
      case BasicAuth::Verdict::kDenied:
        Reply(conn, 401, "Unauthorized", "text/plain", "unauthorized\n",
              "WWW-Authenticate: Basic realm=\"hbfence\", charset=\"UTF-8\"\r\n");
        return 401;
      case BasicAuth::Verdict::kThrottled:
        Reply(conn, 429, "Too Many Requests", "text/plain", "too many failed logins, try again later\n");
        return 429;
    }
  }
  if (h && uri == "/") {
    Reply(conn, 200, "OK", "text/html; charset=utf-8", h->landing_page_html());
    return 200;
  }
  // prometheus-cpp's handler only does GET. A HEAD answer needs no body, so the
  // metrics are not collected for it, and its length is not known: no Content-Length.
  const std::string* telemetry = g_telemetry_path.load();
  if (telemetry && uri == *telemetry && std::strcmp(method, "HEAD") == 0) {
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
              "Connection: close\r\n\r\n");
    return 200;
  }
  return 0;  // civetweb continues: GET on the telemetry path, or 404
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& listen_address,
                                                      const std::string& telemetry_path,
                                                      const std::map<std::string, std::string>& basic_auth_users,
                                                      const Metrics& metrics, HttpHandlers handlers) {
  static HttpHandlers stored;
  static SystemClock clock;
  static std::string stored_path;
  stored = std::move(handlers);
  stored_path = telemetry_path;
  g_handlers.store(&stored);
  g_telemetry_path.store(&stored_path);
  g_exposition_registered = false;
  static CivetCallbacks callbacks;
  callbacks.begin_request = &BeginRequest;
  callbacks.log_message = &LogMessage;
  std::unique_ptr<HttpServer> server(new HttpServer());
  const bool every_address = !listen_address.empty() && listen_address.front() == ':';
  const bool dual_stack = every_address && DualStack();
  server->host_ = every_address ? (dual_stack ? "[::]" : "0.0.0.0") : listen_address.substr(0, listen_address.rfind(':'));
  if (every_address) {
    server->scope_ = dual_stack ? "every IPv4 and IPv6 address"
                     : HttpServerHasIpv6() ? "every IPv4 address; this host has no IPv6"
                                           : "every IPv4 address; the HTTP library has no IPv6";
  }
  std::string start_log;
  {
    std::lock_guard lock(g_start_log_mu);
    g_start_log = &start_log;
  }
  struct StopCapturing {
    ~StopCapturing() {
      std::lock_guard lock(g_start_log_mu);
      g_start_log = nullptr;
    }
  } stop_capturing;
  if (!basic_auth_users.empty()) {
    server->auth_ = std::make_unique<BasicAuth>(basic_auth_users, clock);
    g_auth.store(server->auth_.get());
  }
  try {
    // Sized for slow clients (see the header): a scrape sends its whole request at
    // once, so a second is plenty for its headers, and 16 workers get one through
    // 60 slow connections. Keep-alive is off: a client sending a request every few
    // hundred milliseconds would otherwise keep a worker for good (4 such clients
    // blinded /metrics); Prometheus gains nothing from it, civetweb closes idle
    // connections after 500 ms anyway. No linger: close() never waits for a client.
    server->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", CivetPorts(listen_address, dual_stack),
                                 "num_threads", std::to_string(kWorkers),
                                 "request_timeout_ms", std::to_string(kRequestTimeout.count()),
                                 "enable_keep_alive", "no",
                                 "listen_backlog", std::to_string(kListenBacklog),
                                 "connection_queue", "20",
                                 "max_request_size", "8192", "enable_directory_listing", "no"},
        &callbacks);
  } catch (const std::exception& e) {
    g_auth.store(nullptr);
    std::string why = BindError(listen_address, dual_stack);
    if (why.empty()) {
      std::lock_guard lock(g_start_log_mu);
      why = start_log.empty() ? e.what() : start_log;
    }
    return Err{"cannot listen on " + listen_address + ": " + why};
  }
  for (const auto& c : metrics.Collectables()) server->exposer_->RegisterCollectable(c, telemetry_path);
  g_exposition_registered = true;
  return server;
}

HttpServer::~HttpServer() {
  exposer_.reset();  // stops civetweb's threads before the auth they use goes
  g_auth.store(nullptr);
}

std::string HttpServer::url() const { return "http://" + host_ + ":" + std::to_string(port()); }

int HttpServer::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace hbfence
