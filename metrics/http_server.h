// The HTTP endpoint: prometheus-cpp's Exposer serves /metrics; a civetweb
// begin_request hook serves `/` (landing page) and `/healthz`, and answers 405 to
// anything but GET and HEAD. Requests are bounded in size, connections in number
// (one worker thread each), and nothing served here can trigger an action.
// Handlers run on civetweb's worker threads and must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "metrics/metrics.h"
#include "src/sys/result.h"

namespace prometheus {
class Exposer;
}

namespace hbfence {

struct HttpHandlers {
  std::function<std::string()> landing_page_html;
  std::function<bool()> healthy;  // /healthz: 200 when true, 503 otherwise
};

class HttpServer {
 public:
  // Binds `listen_address` ("host:port"; port 0 picks a free port). With
  // `basic_auth_users` (user -> bcrypt hash) non-empty, /metrics needs one of them.
  // One instance per process: civetweb's request hook has no user pointer.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& listen_address,
                                                   const std::map<std::string, std::string>& basic_auth_users,
                                                   const Metrics& metrics, HttpHandlers handlers);
  ~HttpServer();
  int port() const;

 private:
  HttpServer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace hbfence
