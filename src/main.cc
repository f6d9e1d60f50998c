// SPDX-License-Identifier: Apache-2.0

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
#include "src/fence_command.h"
#include "src/host_identity.h"
#include "src/log_format.h"
#include "src/replay.h"
#include "src/web_config.h"
#include "src/sys/clock.h"
#include "src/sys/fence_io.h"
#include "src/sys/hypervisor.h"
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
  if (cli.web_config_file) {
    auto web = LoadWebConfigFile(*cli.web_config_file);
    if (!web) return Err{web.error().ToString()};
    if (auto conflict = ApplyWebConfigFile(web.value(), cfg.value())) return Err{conflict->ToString()};
  }
  return std::shared_ptr<const Config>(std::make_shared<Config>(std::move(cfg).value()));
}

// A configuration read is a local read, but local paths hang too (a config on a
// dead NFS home, a FIFO put where the file was): no read may hold the caller past
// this.
constexpr auto kConfigReadTimeout = std::chrono::seconds(5);

std::string ConfigReadTimedOut(const CliOptions& cli) {
  return cli.config_path + ": reading the configuration (or a file it names) did not finish within " +
         std::to_string(kConfigReadTimeout.count()) + " s; its filesystem is not answering";
}

// Load() with a bound, for start-up and check-config.
Result<std::shared_ptr<const Config>, std::string> LoadWithin(const CliOptions& cli) {
  using Loaded = Result<std::shared_ptr<const Config>, std::string>;
  auto loaded = CallWithin<Loaded>("hbfence-config", [cli] { return Load(cli); }, kConfigReadTimeout);
  if (!loaded) return Err{ConfigReadTimedOut(cli)};
  return std::move(*loaded);
}

// SIGHUP reloads and pool rediscovery load the configuration on a thread of their
// own: the signal thread only starts a load and, past its bound, reports it failed,
// so a read that hangs never keeps SIGTERM from stopping the daemon. A load that
// finishes in time is applied on the loader thread. Loads queue behind a stuck one,
// a few at most (then they fail at once).
// Start()/Poll() are for the signal thread; Running() is safe from any thread.
class ConfigLoads {
 public:
  enum class Kind { kReload, kRediscovery };

  ConfigLoads(const CliOptions& cli, std::shared_ptr<const Config> running, Daemon& daemon, Metrics& metrics)
      : cli_(cli), daemon_(daemon), metrics_(metrics), running_(std::move(running)) {}

  std::shared_ptr<const Config> Running() const {
    std::lock_guard lock(mu_);
    return running_;
  }

  void Start(Kind kind, MonoTime now) {
    if (pending_) {
      if (kind == Kind::kReload) {
        spdlog::error("SIGHUP: the previous reload is still reading {}; this one is dropped", cli_.config_path);
        metrics_.CountReload(false);
      }
      return;
    }
    auto load = std::make_shared<Pending>(kind, now + kConfigReadTimeout);
    const bool queued = io_.Post([this, load] {
      auto next = Load(cli_);
      std::lock_guard lock(load->mu);
      if (load->abandoned) return;  // already reported as failed
      load->done = true;
      Apply(load->kind, std::move(next));
    });
    if (!queued) {
      Fail(kind, cli_.config_path + ": earlier configuration reads are still stuck in the kernel");
      return;
    }
    pending_ = std::move(load);
  }

  // Reports a load past its bound. Returns when to call again, if a load is pending.
  std::optional<MonoTime> Poll(MonoTime now) {
    if (!pending_) return std::nullopt;
    std::unique_lock lock(pending_->mu);
    if (!pending_->done && now < pending_->deadline) return pending_->deadline;
    if (!pending_->done) {
      pending_->abandoned = true;
      const Kind kind = pending_->kind;
      lock.unlock();
      Fail(kind, ConfigReadTimedOut(cli_));
    } else {
      lock.unlock();
    }
    pending_.reset();
    return std::nullopt;
  }

 private:
  struct Pending {
    Pending(Kind k, MonoTime d) : kind(k), deadline(d) {}
    Kind kind;
    MonoTime deadline;
    std::mutex mu;  // guards the flags
    bool done = false;
    bool abandoned = false;
  };

  void Fail(Kind kind, const std::string& why) {
    if (kind == Kind::kReload) {
      spdlog::error("SIGHUP: configuration rejected, keeping the running one: {}", why);
      metrics_.CountReload(false);
    } else {
      RediscoveryFailed(why);
    }
  }

  void RediscoveryFailed(const std::string& why) {
    std::lock_guard lock(mu_);
    if (why != last_discovery_error_) {
      spdlog::warn("pool discovery: cannot load the configuration, will keep trying: {}", why);
    }
    last_discovery_error_ = why;
  }

  void Apply(Kind kind, Result<std::shared_ptr<const Config>, std::string> next) {
    if (!next) return Fail(kind, next.error());
    if (kind == Kind::kReload) {
      spdlog::set_level(spdlog::level::from_str(next.value()->log.level));
      SetLogFormat(ParseLogFormat(next.value()->log.format).value_or(LogFormat::kPlain));
      spdlog::info("SIGHUP: configuration {} reloaded", cli_.config_path);
      daemon_.RequestReload(next.value());
      metrics_.CountReload(true);
      std::lock_guard lock(mu_);
      running_ = next.value();
      return;
    }
    // Rediscovery follows the pools CloudStack mounts and unmounts; nothing else
    // changes without a SIGHUP.
    std::lock_guard lock(mu_);
    last_discovery_error_.clear();
    auto updated = std::make_shared<Config>(*running_);
    const auto changes = SyncDiscoveredPools(*next.value(), *updated);
    if (changes.added.empty() && changes.removed.empty()) return;
    for (const auto& t : changes.added) spdlog::info("pool discovery: new pool {} at {}", t.name, t.mount->string());
    for (const auto& t : changes.removed) {
      spdlog::warn("pool discovery: pool {} is no longer mounted at {}; it is no longer a target", t.name,
                   t.mount->string());
    }
    daemon_.RequestReload(updated);
    running_ = std::move(updated);
  }

  const CliOptions cli_;
  Daemon& daemon_;
  Metrics& metrics_;
  mutable std::mutex mu_;  // guards running_ and last_discovery_error_
  std::shared_ptr<const Config> running_;
  std::string last_discovery_error_;
  std::shared_ptr<Pending> pending_;  // the signal thread's
  IoWorker io_{"hbfence-config", 4};
};

// One daemon per runtime directory and per journal: a second one would write the
// same heartbeats and journal one outage twice. The locks die with the process.
// Either directory may sit on a hung disk: a lock that does not come within the
// journal timeout is reported and left, since a daemon that never starts never
// fences (the other lock may still keep a twin out).
struct InstanceLocks {
  std::vector<std::unique_ptr<InstanceLock>> held;
  std::vector<std::string> taken;  // why a lock is another process's ("another hbfence (pid N) holds …")
};

// `doing` completes the log line about a lock that did not come in time ("starting").
InstanceLocks LockState(const Config& cfg, std::string_view doing) {
  InstanceLocks locks;
  std::vector<std::filesystem::path> dirs{cfg.fence.runtime_directory};
  if (cfg.fence.journal_path.parent_path().lexically_normal() != cfg.fence.runtime_directory.lexically_normal()) {
    dirs.push_back(cfg.fence.journal_path.parent_path());
  }
  for (const auto& dir : dirs) {
    using Locked = std::pair<Result<std::unique_ptr<InstanceLock>, std::string>, bool>;
    auto locked = CallWithin<Locked>(
        "hbfence-lock",
        [dir] {
          bool unsupported = false;
          auto acquired = InstanceLock::Acquire(dir, &unsupported);
          return Locked{std::move(acquired), unsupported};
        },
        cfg.fence.journal_timeout);
    if (!locked) {
      spdlog::error("{} did not answer within {:g} s; {} without its instance lock", dir.string(),
                    ToSeconds(cfg.fence.journal_timeout), doing);
    } else if (!locked->first.ok()) {
      locks.taken.push_back(locked->first.error());
    } else if (locked->second) {
      spdlog::warn("{} is on a filesystem that cannot lock directories: a second hbfence on it would not be refused",
                   dir.string());
    } else {
      locks.held.push_back(std::move(locked->first).value());
    }
  }
  return locks;
}

int CheckConfig(const CliOptions& cli) {
  auto cfg = LoadWithin(cli);
  if (!cfg) {
    std::cerr << cfg.error() << "\n";
    return kExitConfigError;
  }
  std::cout << "# " << cli.config_path << ": valid\n";
  // How host.id relates to the name CloudStack gives this host goes right below it.
  const HostIdCheck host = CheckHostId(*cfg.value(), ListIPv4Addresses());
  for (const auto& line : DescribeConfig(*cfg.value())) {
    std::cout << line << "\n";
    if (line.starts_with("id = ")) {
      for (const auto& note : host.notes) std::cout << "# " << note << "\n";
    }
  }
  for (const auto& warning : host.warnings) std::cout << "# warning: " << warning << "\n";
  return 0;
}

// How long reading the history may take: it is local, but local paths hang too.
constexpr auto kHistoryReadTimeout = std::chrono::seconds(30);

// The settings and histories `replay` and `advise` work on; nullopt after printing why not.
struct ReplayWork {
  ReplaySettings settings;
  std::vector<ReplayInput> inputs;
  std::optional<WallTime> since;
};

std::optional<ReplayWork> PrepareReplay(const CliOptions& cli) {
  auto cfg = LoadWithin(cli);
  if (!cfg) {
    std::cerr << cfg.error() << "\n";
    return std::nullopt;
  }
  const Config& c = *cfg.value();
  ReplayWork work;
  work.settings.heartbeat = c.heartbeat;
  if (cli.replay_timeout) work.settings.heartbeat.timeout = *cli.replay_timeout;
  if (cli.replay_lease) work.settings.heartbeat.lease = *cli.replay_lease;
  work.settings.policy = cli.replay_policy.value_or(c.fence.policy);
  work.settings.scope = ScopeOf(c.fence.action);
  if (cli.replay_since) work.since = std::chrono::system_clock::now() - *cli.replay_since;
  std::vector<std::string> names = cli.replay_targets;
  if (names.empty()) {
    for (const auto& t : c.targets) names.push_back(t.name);
  }
  const auto dir = c.history.path;
  const uint64_t max_bytes = c.history.max_bytes;
  using Loaded = std::vector<TargetHistory>;
  auto loaded = CallWithin<Loaded>("hbfence-history", [dir, max_bytes, names] {
    Loaded histories;
    for (const auto& name : names) histories.push_back(LoadTargetHistory(dir, name, max_bytes));
    return histories;
  }, kHistoryReadTimeout);
  if (!loaded) {
    std::cerr << dir.string() << ": reading the write history did not finish within "
              << kHistoryReadTimeout.count() << " s; its filesystem is not answering\n";
    return std::nullopt;
  }
  for (auto& h : *loaded) {
    for (const auto& problem : h.problems) std::cerr << "warning: " << problem << "\n";
    if (h.records.empty()) std::cerr << "warning: target " << h.target << ": no history in " << dir.string() << "\n";
    work.inputs.push_back({h.target, std::move(h.records)});
  }
  if (!c.history.enabled) std::cerr << "warning: [history] enabled = false: this daemon records no new history\n";
  return work;
}

int Replay(const CliOptions& cli) {
  auto work = PrepareReplay(cli);
  if (!work) return kExitConfigError;
  const auto report = Replay(work->settings, work->inputs, work->since);
  if (cli.replay_json) {
    std::cout << FormatReplayJson(work->settings, report);
    return 0;
  }
  std::cout << FormatReplay(work->settings, report);
  const Timings timings = Derive(work->settings.heartbeat);
  if (work->settings.heartbeat.lease < timings.worst_renewal_gap) {
    std::cout << "note: lease " << ExactSeconds(work->settings.heartbeat.lease) << "s is below the lease rule's minimum "
              << ExactSeconds(timings.worst_renewal_gap)
              << "s for this interval and timeout: hbfence refuses it (writes within the timeout could fail it)\n";
  }
  return 0;
}

int Advise(const CliOptions& cli) {
  auto work = PrepareReplay(cli);
  if (!work) return kExitConfigError;
  std::cout << FormatAdvice(work->settings, Advise(work->settings, work->inputs, work->since, cli.advise_margin),
                            cli.advise_margin);
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

// `hbfence fence` (src/fence_command.h): the daemon's verdict when it answers, the
// configured action in this process when it does not.
int Fence(const CliOptions& cli) {
  auto loaded = LoadWithin(cli);
  std::filesystem::path socket = cli.fence_socket.value_or(
      loaded ? loaded.value()->control.socket_path.string() : std::string(kDefaultControlSocket));
  std::string unanswered = "the configuration sets no control socket";
  if (!socket.empty()) {
    auto reply = SendControlRequest(socket, "fence " + cli.fence_reason);
    if (reply && (reply.value().starts_with("accepted ") || reply.value().starts_with("refused "))) {
      std::cout << reply.value() << "\n";
      return ControlExitCode(reply.value()) == 0 ? kFenceDone : kFenceNotRebooting;
    }
    unanswered = reply ? "the daemon replied: " + reply.value() : reply.error();
  }
  if (!loaded) {
    std::cerr << "hbfence: cannot fence: the daemon did not answer (" << unanswered << ") and " << loaded.error()
              << "\n";
    return kFenceUnusable;
  }
  const Config& cfg = *loaded.value();
  spdlog::set_level(spdlog::level::from_str(cfg.log.level));
  SetLogFormat(ParseLogFormat(cfg.log.format).value_or(LogFormat::kPlain));
  spdlog::critical("fencing without the daemon, which did not answer ({}): {}", unanswered, cli.fence_reason);
  const InstanceLocks locks = LockState(cfg, "fencing");
  for (const auto& taken : locks.taken) {
    spdlog::warn("{}, but it did not answer on the control socket (wedged, stopping, or no socket): fencing anyway",
                 taken);
  }
  static SystemClock clock;
  static SystemFenceIo fence_io;
  static PosixProcessRunner runner;
  static FenceJournal journal;
  const LocalFence done =
      FenceWithoutDaemon(cfg, "fenced without the daemon (" + unanswered + "): " + cli.fence_reason,
                         RequestedTargets(cfg, cli.fence_target),
                         ActionDeps{.io = fence_io,
                                    .runner = runner,
                                    .clock = clock,
                                    .connect = [](const std::string& uri) { return ConnectLibvirt(uri); },
                                    .mounts = ReadMountTable},
                         journal);
  const ActionStep last =
      done.steps.empty() ? ActionStep{done.plan.run, "logged", ""} : done.steps.back();
  std::cout << "fenced " << Name(done.plan.run) << " without the daemon: " << last.result << " (" << last.detail
            << ")\n";
  const int code = LocalFenceExitCode(done);
  std::fflush(nullptr);
  // A journal call may still be stuck in the kernel: leave without waiting for it.
  if (!journal.StopWithin(std::chrono::milliseconds(100))) std::_Exit(code);
  return code;
}

int Run(const CliOptions& cli) {
  auto loaded = LoadWithin(cli);
  if (!loaded) {
    std::cerr << loaded.error() << "\n";
    return kExitConfigError;
  }
  std::shared_ptr<const Config> cfg = loaded.value();
  spdlog::set_level(spdlog::level::from_str(cfg->log.level));
  SetLogFormat(ParseLogFormat(cfg->log.format).value_or(LogFormat::kPlain));
  spdlog::info("hbfence {} ({}) starting: host {}, {} target(s), config {}", HBFENCE_VERSION, HBFENCE_GIT_REVISION,
               cfg->host.id, cfg->targets.size(), cli.config_path);
  for (const auto& warning : CheckHostId(*cfg, ListIPv4Addresses()).warnings) spdlog::warn("{}", warning);

  // Signals are taken by one thread with sigwait(); every other thread, writers
  // and civetweb's included, inherits this mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // A second daemon on the same state is refused (LockState).
  static InstanceLocks locks = LockState(*cfg, "starting");
  if (!locks.taken.empty()) {
    spdlog::critical("{}", locks.taken.front());
    return 1;
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
  Daemon daemon(cfg, metrics,
                {clock, fence_io, runner, *watchdog, notifier, [](const std::string& uri) { return ConnectLibvirt(uri); }});

  auto http = HttpServer::Start(cfg->web.listen_address, cfg->web.telemetry_path, cfg->web.basic_auth_users, metrics,
                                {[&daemon] { return daemon.StatusHtml(); }, [&daemon] { return daemon.Healthy(); },
                                 [&daemon] { return daemon.Ready() && daemon.Healthy(); }});
  if (!http) {
    spdlog::critical("{}", http.error());
    daemon.Shutdown(Duration::zero(), /*clean_stop=*/false);
    return 1;
  }
  const std::string url = http.value()->url() + cfg->web.telemetry_path;
  const std::string& scope = http.value()->scope();
  spdlog::info("serving metrics on {} (port {}){}{}", url, http.value()->port(), scope.empty() ? "" : ": ", scope);
  daemon.SetServing(url);
  if (control) {
    control->Serve({[&daemon](std::string_view target) { return daemon.ControlStatus(target); },
                    [&daemon](std::string_view reason) { return daemon.ControlFence(reason); }});
    spdlog::info("control socket listening on {}", cfg->control.socket_path.string());
  }

  // Signals go to one thread. It also times pool rediscovery (a new CloudStack pool
  // should not wait for an operator's SIGHUP) and the bound on configuration loads,
  // which run on a thread of their own: nothing here ever reads a file.
  ConfigLoads loads(cli, cfg, daemon, metrics);
  std::thread signal_thread([&] {
    MonoTime next_discovery = clock.Now() + cfg->cloudstack.rediscover_interval;
    for (;;) {
      const auto running = loads.Running();
      std::optional<MonoTime> wake = loads.Poll(clock.Now());
      if (running->cloudstack.discover_pools) wake = std::min(wake.value_or(MonoTime::max()), next_discovery);
      int sig = 0;
      if (wake) {
        const auto ns = std::max<int64_t>(0, (*wake - clock.Now()).count());
        const timespec wait{ns / 1000000000, ns % 1000000000};
        sig = sigtimedwait(&signals, nullptr, &wait);
      } else if (sigwait(&signals, &sig) != 0) {
        sig = -1;
      }
      const MonoTime now = clock.Now();
      loads.Poll(now);
      if (running->cloudstack.discover_pools && now >= next_discovery) {
        loads.Start(ConfigLoads::Kind::kRediscovery, now);
        next_discovery = now + running->cloudstack.rediscover_interval;
      }
      if (sig <= 0) continue;
      if (sig == SIGHUP) {
        loads.Start(ConfigLoads::Kind::kReload, now);
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
  SetLogFormat(LogFormat::kPlain);
  auto cli = ParseCli(std::vector<std::string>(argv + 1, argv + argc));
  if (!cli) {
    // The error and where to look, not the whole help: it buried the one line that mattered.
    std::cerr << "hbfence: " << cli.error() << "\nsee 'hbfence --help'\n";
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
    case Command::kFence:
      return Fence(cli.value());
    case Command::kReplay:
      return Replay(cli.value());
    case Command::kAdvise:
      return Advise(cli.value());
    case Command::kRun:
      return Run(cli.value());
  }
  return 1;
}
