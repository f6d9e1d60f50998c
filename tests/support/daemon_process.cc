// SPDX-License-Identifier: Apache-2.0

#include "tests/support/daemon_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace hbfence::testing {
namespace {

// How often we look again for something only visible from outside the process
// (a log line, a metric value). Short, and always bounded by a deadline.
constexpr auto kPollStep = std::chrono::milliseconds(10);

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The test's own environment plus the tripwire, which ctest also sets.
std::vector<std::string> ChildEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0) env.emplace_back(*e);
  }
  env.push_back(std::string("LD_PRELOAD=") + HBFENCE_TRIPWIRE);
  return env;
}

}  // namespace

DaemonProcess::DaemonProcess(const std::vector<std::string>& args, std::filesystem::path log,
                             const std::vector<std::string>& extra_env)
    : log_(std::move(log)) {
  std::vector<std::string> argv{HBFENCE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  auto env = ChildEnvironment();
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  auto cargv = CStrings(argv);
  auto cenv = CStrings(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn(&pid_, cargv[0], &actions, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

DaemonProcess::~DaemonProcess() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    WaitExit(std::chrono::seconds(10));
  }
  if (pidfd_ >= 0) ::close(pidfd_);
}

std::string DaemonProcess::Log() const {
  std::ifstream in(log_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool DaemonProcess::WaitForLog(const std::string& needle, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (Log().find(needle) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() > deadline || WaitExit(kPollStep)) return Log().find(needle) != std::string::npos;
  }
}

int DaemonProcess::Port() {
  if (port_ == 0 && WaitForLog("(port ")) {
    std::smatch m;
    const std::string log = Log();
    if (std::regex_search(log, m, std::regex(R"(\(port (\d+)\))"))) port_ = std::stoi(m[1]);
  }
  return port_;
}

void DaemonProcess::Signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

std::optional<int> DaemonProcess::WaitExit(Duration timeout) {
  if (status_) return status_;
  pollfd p{pidfd_, POLLIN, 0};
  const int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
  if (::poll(&p, 1, ms) <= 0) return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) status_ = status;
  return status_;
}

HttpResponse HttpGet(int port, const std::string& path, const std::string& method, Duration timeout,
                     const std::string& extra_headers) {
  return HttpGetAt("127.0.0.1", port, path, method, timeout, extra_headers);
}

HttpResponse HttpGetAt(const std::string& ip, int port, const std::string& path, const std::string& method,
                       Duration timeout, const std::string& extra_headers) {
  HttpResponse out;
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v4;
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof *v6;
  } else {
    return out;
  }
  const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()),
             static_cast<suseconds_t>(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count() % 1000000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    ::close(fd);
    return out;
  }
  const std::string host = storage.ss_family == AF_INET6 ? "[" + ip + "]" : ip;
  const std::string req =
      method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" + extra_headers + "\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string resp;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (resp.rfind("HTTP/1.", 0) != 0 || resp.size() < 12) return out;
  out.status = std::stoi(resp.substr(9, 3));
  const auto body = resp.find("\r\n\r\n");
  out.headers = resp.substr(0, body);
  if (body != std::string::npos) out.body = resp.substr(body + 4);
  return out;
}

std::optional<double> MetricValue(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

std::optional<double> WaitForMetric(int port, const std::string& series, const std::function<bool(double)>& pred,
                                    Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<double> v;
  for (;;) {
    v = MetricValue(HttpGet(port, "/metrics").body, series);
    if ((v && pred(*v)) || std::chrono::steady_clock::now() > deadline) return v;
    std::this_thread::sleep_for(kPollStep);
  }
}

std::pair<int, std::string> RunCapture(const std::vector<std::string>& argv, const std::string& input) {
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) return {-1, "pipe failed"};
  std::vector<std::string> args = argv;
  auto cargv = CStrings(args);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    return {-1, std::string("spawn failed: ") + std::strerror(rc)};
  }
  std::thread writer([&] {
    (void)!::write(in_pipe[1], input.data(), input.size());
    ::close(in_pipe[1]);
  });
  std::string output;
  char buf[4096];
  for (ssize_t n; (n = ::read(out_pipe[0], buf, sizeof buf)) > 0;) output.append(buf, static_cast<size_t>(n));
  ::close(out_pipe[0]);
  writer.join();
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

bool SimulateReboot(const std::filesystem::path& runtime_directory) {
  const auto path = runtime_directory / "leases";
  std::ifstream in(path);
  if (!in) return false;
  std::string text, line;
  bool replaced = false;
  while (std::getline(in, line)) {
    if (line.rfind("boot ", 0) == 0) {
      line = "boot 00000000-0000-4000-8000-another-boot";
      replaced = true;
    }
    text += line + "\n";
  }
  std::ofstream(path, std::ios::trunc) << text;
  return replaced;
}

}  // namespace hbfence::testing
