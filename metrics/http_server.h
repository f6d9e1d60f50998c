// SPDX-License-Identifier: Apache-2.0

// The HTTP endpoint: prometheus-cpp's Exposer serves GET on the telemetry path
// (/metrics by default); a civetweb begin_request hook answers everything else
// first: 405 to anything but GET and HEAD, the probes /healthz, /-/healthy and
// /-/ready (no credentials: a bare status), basic auth for every other page when
// users are configured, `/` (landing page) and HEAD on the telemetry path.
//
// Limits (slow and hostile clients): kWorkers requests at once, one worker thread
// each; a request's headers must arrive within kRequestTimeout (which also bounds
// each stall while writing an answer); no keep-alive, so a client cannot keep a
// worker between requests; 8 KiB per request. Nothing served here can trigger an
// action. Handlers run on civetweb's worker threads and must be thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "metrics/basic_auth.h"
#include "metrics/http_features.h"
#include "metrics/metrics.h"
#include "src/sys/result.h"

namespace prometheus {
class Exposer;
}

namespace hbfence {

struct HttpHandlers {
  std::function<std::string()> landing_page_html;
  std::function<bool()> healthy;  // /healthz: 200 when true, 503 otherwise
  // /-/ready: 200 when true and the exposition is registered, 503 otherwise.
  // /-/healthy answers 200 whenever the server answers at all: the process lives.
  std::function<bool()> ready;
};

class HttpServer {
 public:
  // A slow client holds a worker for up to about two request timeouts (civetweb
  // checks the deadline after each read); N of them delay a scrape by roughly
  // (N - kWorkers) / kWorkers × 1.5 s. Measured with 60: 2-4.5 s.
  static constexpr int kWorkers = 16;
  static constexpr auto kRequestTimeout = std::chrono::milliseconds(1000);
  static constexpr int kListenBacklog = 64;  // with civetweb's queue of 20: 60 slow clients drop no SYN
  // A failed login (wrong, throttled or malformed credentials) is answered after
  // this long, holding its worker: 16 connections get ~64 answers per second.
  static constexpr auto kFailedLoginAnswer = std::chrono::milliseconds(250);

  // Binds `listen_address` (checked by ListenAddressProblem: "host:port", "[IPv6]:port"
  // or ":port"; port 0 picks a free port). ":port" is every address: IPv4 and IPv6
  // when the library has IPv6 and the host can open an IPv6 socket, else every IPv4
  // address. A failure to bind names the error bind(2) gives for that address
  // ("Address already in use (EADDRINUSE)"). With `basic_auth_users` (user -> bcrypt
  // hash) non-empty, every page but /healthz needs one of them (see basic_auth.h).
  // One instance per process: civetweb's request hook has no user pointer.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& listen_address, const std::string& telemetry_path,
                                                   const std::map<std::string, std::string>& basic_auth_users,
                                                   const Metrics& metrics, HttpHandlers handlers);
  ~HttpServer();
  int port() const;
  // "http://HOST:PORT" as bound: ":port" shows as 0.0.0.0 or [::], port 0 as the
  // port it got.
  std::string url() const;
  // "" for one address; ":port" says what "every address" came to.
  const std::string& scope() const { return scope_; }

 private:
  HttpServer() = default;
  std::string host_;   // for url()
  std::string scope_;
  std::unique_ptr<BasicAuth> auth_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace hbfence
