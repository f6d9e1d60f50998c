// hbfence: storage heartbeat writer, fence decision engine and Prometheus exporter.
// main() wires the modules in order and tears them down in reverse.
#include <malloc.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <thread>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "metrics/http_server.h"
#include "src/cli.h"
#include "src/control_socket.h"
#include "src/daemon.h"
#include "src/sys/clock.h"
#include "src/sys/fence_io.h"
#include "src/sys/instance_lock.h"
#include "src/sys/io_worker.h"
#include "src/sys/process_runner.h"
#include "src/sys/service_notifier.h"
#include "src/sys/watchdog.h"
#include "storage/peer_check.h"

namespace hbfence {
namespace {

constexpr int kExitConfigError = 2;
// SIGTERM must end us within a second even with a write stuck in the kernel.
constexpr auto kShutdownWait = std::chrono::milliseconds(500);

Result<std::shared_ptr<const Config>, std::string> Load(const CliOptions& cli) {
  auto cfg = LoadConfigFile(cli.config_path);
  if (!cfg) return Err{cfg.error().ToString()};
  ApplyOverrides(cli, cfg.value());
  return std::shared_ptr<const Config>(std::make_shared<Config>(std::move(cfg).value()));
}

// Follows the pools CloudStack mounts and unmounts; nothing else changes without a
// SIGHUP. Returns what now runs.
std::shared_ptr<const Config> Rediscover(const CliOptions& cli, std::shared_ptr<const Config> running, Daemon& daemon,
                                         std::string& last_error) {
  auto fresh = Load(cli);
  if (!fresh) {
    if (fresh.error() != last_error) {
      spdlog::warn("pool discovery: cannot load the configuration, will keep trying: {}", fresh.error());
    }
    last_error = fresh.error();
    return running;
  }
  last_error.clear();
  auto next = std::make_shared<Config>(*running);
  const auto changes = SyncDiscoveredPools(*fresh.value(), *next);
  if (changes.added.empty() && changes.removed.empty()) return running;
  for (const auto& t : changes.added) spdlog::info("pool discovery: new pool {} at {}", t.name, t.mount->string());
  for (const auto& t : changes.removed) {
    spdlog::warn("pool discovery: pool {} is no longer mounted at {}; it is no longer a target", t.name,
                 t.mount->string());
  }
  daemon.RequestReload(next);
  return next;
}

int CheckConfig(const CliOptions& cli) {
  auto cfg = Load(cli);
  if (!cfg) {
    std::cerr << cfg.error() << "\n";
    return kExitConfigError;
  }
  std::cout << "# " << cli.config_path << ": valid\n";
  for (const auto& line : DescribeConfig(*cfg.value())) std::cout << line << "\n";
  return 0;
}

// Exit 0 whether ALIVE or DEAD: CloudStack's agent reads the first line, and treats
// a failed command as "cannot tell", i.e. alive.
int PeerCheck(const CliOptions& cli) {
  const SystemClock clock;
  const bool block = cli.peer_source == PeerSource::kBlock;
  const auto read = WithReadTimeout(
      block ? BlockHeartbeatReader(cli.peer_path, cli.peer_offset) : FileHeartbeatReader(cli.peer_path),
      kPeerReadTimeout);
  const std::string source = block ? BlockHeartbeatName(cli.peer_path, cli.peer_offset) : cli.peer_path;
  const PeerVerdict verdict = CheckPeer(read, clock, cli.peer_window);
  std::cout << FormatVerdictLine(verdict, source, cli.peer_window, clock.WallNow()) << "\n";
  for (const auto& reason : verdict.reasons) std::cout << reason << "\n";
  std::cout.flush();
  // A read that timed out is still stuck on its own thread; returning ends it with
  // the process (exit_group), as a fatal signal ends a hung NFS request.
  return 0;
}

int Control(const CliOptions& cli) {
  auto reply = SendControlRequest(cli.control_socket, cli.control_request);
  if (!reply) {
    std::cerr << "hbfence: " << reply.error() << "\n";
    return kExitConfigError;
  }
  std::cout << reply.value() << "\n";
  return ControlExitCode(reply.value());
}

int Run(const CliOptions& cli) {
  auto loaded = Load(cli);
  if (!loaded) {
    std::cerr << loaded.error() << "\n";
    return kExitConfigError;
  }
  std::shared_ptr<const Config> cfg = loaded.value();
  spdlog::set_level(spdlog::level::from_str(cfg->log.level));
  spdlog::info("hbfence {} ({}) starting: host {}, {} target(s), config {}", HBFENCE_VERSION, HBFENCE_GIT_REVISION,
               cfg->host.id, cfg->targets.size(), cli.config_path);

  // Signals are taken by one thread with sigwait(); every other thread, writers
  // and civetweb's included, inherits this mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // One daemon per runtime directory and per journal: a second one would write the
  // same heartbeats and journal one outage twice. The locks die with the process.
  // Either directory may sit on a hung disk: a lock that does not come within the
  // journal timeout is reported and the start goes on (the other lock may still keep
  // a twin out), since a daemon that never starts never fences.
  static std::unique_ptr<InstanceLock> runtime_lock, journal_lock;
  for (auto [dir, lock] : {std::pair{cfg->fence.runtime_directory, &runtime_lock},
                           std::pair{cfg->fence.journal_path.parent_path(), &journal_lock}}) {
    if (lock == &journal_lock && dir.lexically_normal() == cfg->fence.runtime_directory.lexically_normal()) break;
    using Locked = Result<std::unique_ptr<InstanceLock>, std::string>;
    auto locked = CallWithin<Locked>("hbfence-lock", [dir] { return InstanceLock::Acquire(dir); },
                                     cfg->fence.journal_timeout);
    if (!locked) {
      spdlog::error("{} did not answer within {:g} s; starting without its instance lock", dir.string(),
                    ToSeconds(cfg->fence.journal_timeout));
    } else if (!locked->ok()) {
      spdlog::critical("{}", locked->error());
      return 1;
    } else {
      *lock = std::move(*locked).value();
    }
  }

  // Bound before any other thread exists: Listen() sets the process umask briefly.
  std::unique_ptr<ControlServer> control;
  if (!cfg->control.socket_path.empty()) {
    auto listening = ControlServer::Listen(cfg->control.socket_path);
    if (!listening) {
      spdlog::critical("control socket: {}", listening.error());
      return 1;
    }
    control = std::move(listening).value();
  }

  static SystemClock clock;
  static SystemFenceIo fence_io;
  static PosixProcessRunner runner;
  static SystemdNotifier notifier;
  std::unique_ptr<Watchdog> watchdog = std::make_unique<NullWatchdog>();
  if (!cfg->watchdog.device.empty()) {
    auto opened = DeviceWatchdog::Open(cfg->watchdog.device, cfg->watchdog.timeout);
    if (!opened) {
      spdlog::critical("{}", opened.error());
      return 1;
    }
    watchdog = std::move(opened).value();
    spdlog::info("hardware watchdog {} armed ({}s)", cfg->watchdog.device.string(), ToSeconds(cfg->watchdog.timeout));
  }
  Metrics metrics({HBFENCE_VERSION, HBFENCE_GIT_REVISION});
  Daemon daemon(cfg, metrics, {clock, fence_io, runner, *watchdog, notifier});

  auto http = HttpServer::Start(cfg->web.listen_address, cfg->web.basic_auth_users, metrics,
                                {[&daemon] { return daemon.StatusHtml(); }, [&daemon] { return daemon.Healthy(); }});
  if (!http) {
    spdlog::critical("{}", http.error());
    daemon.Shutdown(Duration::zero(), /*clean_stop=*/false);
    return 1;
  }
  spdlog::info("serving metrics on http://{}/metrics (port {})", cfg->web.listen_address, http.value()->port());
  if (control) {
    control->Serve({[&daemon](std::string_view target) { return daemon.ControlStatus(target); },
                    [&daemon](std::string_view reason) { return daemon.ControlFence(reason); }});
    spdlog::info("control socket listening on {}", cfg->control.socket_path.string());
  }

  // The signal thread also looks for new CloudStack pools: reading mountinfo never
  // blocks on storage, and a new pool should not wait for an operator's SIGHUP.
  std::thread signal_thread([&] {
    std::shared_ptr<const Config> running = cfg;
    std::string last_discovery_error;
    for (;;) {
      int sig = 0;
      if (running->cloudstack.discover_pools) {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(running->cloudstack.rediscover_interval).count();
        const timespec every{ns / 1000000000, ns % 1000000000};
        sig = sigtimedwait(&signals, nullptr, &every);
        if (sig < 0) {
          if (errno == EAGAIN) running = Rediscover(cli, running, daemon, last_discovery_error);
          continue;
        }
      } else if (sigwait(&signals, &sig) != 0) {
        continue;
      }
      if (sig == SIGHUP) {
        auto next = Load(cli);
        if (next) {
          spdlog::set_level(spdlog::level::from_str(next.value()->log.level));
          spdlog::info("SIGHUP: configuration {} reloaded", cli.config_path);
          daemon.RequestReload(next.value());
          running = next.value();
        } else {
          spdlog::error("SIGHUP: configuration rejected, keeping the running one: {}", next.error());
        }
        metrics.CountReload(next.ok());
        continue;
      }
      spdlog::info("signal {}: stopping", sig);
      daemon.RequestStop();
      return;
    }
  });

  daemon.Run();
  signal_thread.join();
  if (control) control->Stop();
  const bool clean = daemon.Shutdown(kShutdownWait, /*clean_stop=*/true);
  spdlog::info("hbfence stopped{}", clean ? "" : " (abandoned threads still blocked in the kernel)");
  spdlog::shutdown();
  std::fflush(nullptr);
  // Leave without destructors: a writer blocked in the kernel on dead storage may
  // never return, and civetweb's orderly stop waits up to a second for its master
  // thread's poll. exit_group() ends both at once; everything durable is on disk.
  std::_Exit(0);
}

}  // namespace
}  // namespace hbfence

int main(int argc, char** argv) {
  using namespace hbfence;
  // One malloc arena: every writer and civetweb worker would otherwise keep its own
  // (about 2 MiB of RSS at 64 targets), and nothing here allocates on a hot path.
  mallopt(M_ARENA_MAX, 1);
  spdlog::set_default_logger(spdlog::stderr_logger_mt("hbfence"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  auto cli = ParseCli(std::vector<std::string>(argv + 1, argv + argc));
  if (!cli) {
    std::cerr << "hbfence: " << cli.error() << "\n\n" << Usage();
    return kExitConfigError;
  }
  switch (cli.value().command) {
    case Command::kVersion:
      std::cout << "hbfence " << HBFENCE_VERSION << " (revision " << HBFENCE_GIT_REVISION << ")\n";
      return 0;
    case Command::kHelp:
      std::cout << Usage();
      return 0;
    case Command::kCheckConfig:
      return CheckConfig(cli.value());
    case Command::kPeerCheck:
      return PeerCheck(cli.value());
    case Command::kControl:
      return Control(cli.value());
    case Command::kRun:
      return Run(cli.value());
  }
  return 1;
}
