#include "metrics/http_server.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <prometheus/exposer.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace hbfence {
namespace {

std::atomic<const HttpHandlers*> g_handlers{nullptr};
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
  if (uri == "/metrics" && std::strcmp(method, "HEAD") == 0) {
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
              "Connection: close\r\n\r\n");
    return 200;
  }
  return 0;  // civetweb continues: GET /metrics, or 404
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& listen_address,
                                                      const std::map<std::string, std::string>& basic_auth_users,
                                                      const Metrics& metrics, HttpHandlers handlers) {
  static HttpHandlers stored;
  static SystemClock clock;
  stored = std::move(handlers);
  g_handlers.store(&stored);
  static CivetCallbacks callbacks;
  callbacks.begin_request = &BeginRequest;
  std::unique_ptr<HttpServer> server(new HttpServer());
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
        std::vector<std::string>{"listening_ports", listen_address,
                                 "num_threads", std::to_string(kWorkers),
                                 "request_timeout_ms", std::to_string(kRequestTimeout.count()),
                                 "enable_keep_alive", "no",
                                 "listen_backlog", std::to_string(kListenBacklog),
                                 "connection_queue", "20",
                                 "max_request_size", "8192", "enable_directory_listing", "no"},
        &callbacks);
  } catch (const std::exception& e) {
    g_auth.store(nullptr);
    return Err{"cannot listen on " + listen_address + ": " + e.what()};
  }
  for (const auto& c : metrics.Collectables()) server->exposer_->RegisterCollectable(c);
  return server;
}

HttpServer::~HttpServer() {
  exposer_.reset();  // stops civetweb's threads before the auth they use goes
  g_auth.store(nullptr);
}

int HttpServer::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace hbfence
