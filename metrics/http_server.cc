#include "metrics/http_server.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <prometheus/exposer.h>

#include <crypt.h>

#include <atomic>
#include <cstring>

namespace hbfence {
namespace {

std::atomic<const HttpHandlers*> g_handlers{nullptr};

void Reply(mg_connection* conn, int status, const char* reason, const char* type, const std::string& body,
           const char* extra_headers = "") {
  const bool head = std::strcmp(mg_get_request_info(conn)->request_method, "HEAD") == 0;
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n",
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
  if (h && uri == "/") {
    Reply(conn, 200, "OK", "text/html; charset=utf-8", h->landing_page_html());
    return 200;
  }
  if (h && uri == "/healthz") {
    if (h->healthy()) {
      Reply(conn, 200, "OK", "text/plain", "ok\n");
      return 200;
    }
    Reply(conn, 503, "Service Unavailable", "text/plain", "main loop stalled\n");
    return 503;
  }
  return 0;  // civetweb continues: /metrics, or 404
}

// crypt_r(3) with the stored hash as the setting: bcrypt ($2y$, $2b$) via libxcrypt.
bool PasswordMatches(const std::string& password, const std::string& hash) {
  crypt_data data{};
  const char* out = crypt_r(password.c_str(), hash.c_str(), &data);
  if (out == nullptr || out[0] == '*') return false;
  const std::string computed(out);
  if (computed.size() != hash.size()) return false;
  unsigned char diff = 0;  // no early exit: the time taken does not leak the match length
  for (size_t i = 0; i < hash.size(); ++i) diff |= static_cast<unsigned char>(computed[i] ^ hash[i]);
  return diff == 0;
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& listen_address,
                                                      const std::map<std::string, std::string>& basic_auth_users,
                                                      const Metrics& metrics, HttpHandlers handlers) {
  static HttpHandlers stored;
  stored = std::move(handlers);
  g_handlers.store(&stored);
  static CivetCallbacks callbacks;
  callbacks.begin_request = &BeginRequest;
  std::unique_ptr<HttpServer> server(new HttpServer());
  try {
    server->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", listen_address,
                                 // At most 4 requests at once; more wait in a short backlog.
                                 "num_threads", "4", "listen_backlog", "16",
                                 "max_request_size", "8192", "request_timeout_ms", "10000",
                                 "enable_keep_alive", "yes", "enable_directory_listing", "no"},
        &callbacks);
  } catch (const std::exception& e) {
    return Err{"cannot listen on " + listen_address + ": " + e.what()};
  }
  for (const auto& c : metrics.Collectables()) server->exposer_->RegisterCollectable(c);
  if (!basic_auth_users.empty()) {
    server->exposer_->RegisterAuth(
        [users = basic_auth_users](const std::string& user, const std::string& password) {
          const auto it = users.find(user);
          return it != users.end() && PasswordMatches(password, it->second);
        },
        "hbfence");
  }
  return server;
}

HttpServer::~HttpServer() = default;

int HttpServer::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace hbfence
