// SPDX-License-Identifier: Apache-2.0

// PromQL shared by hbfence's dashboards, from the mixin's _config:
//
//   local q = (import 'lib/queries.libsonnet')($._config);
//   q.e('max by (%(by)s) (hbfence_fence_armed{%(host)s})')
//
// Every series is selected by %(host)s (or %(target)s): the configured hbfenceSelector and
// the dashboard's job, cluster and host variables. A host is a (cluster, instance) pair, so
// hosts are grouped and joined by %(by)s; without a cluster label the cluster is empty and
// `cluster=~"$cluster"` with All ('.*') still matches.
function(config) {
  local q = self,
  local c = config,

  // Format keys of e().
  vars:: {
    host: '%s, job=~"$job", %s=~"$cluster", instance=~"$instance"' % [c.hbfenceSelector, c.clusterLabel],
    target: self.host + ', target=~"$target"',
    by: '%s, instance' % c.clusterLabel,
    cluster: c.clusterLabel,
  },
  // An expression with %(host)s, %(target)s, %(by)s and %(cluster)s filled in.
  e(expr, extra={}):: expr % (q.vars + extra),

  // hbfence processes started within the last `seconds` (an expression in seconds), per
  // host: their counters may hold an event increase() cannot see (the counter reads the
  // same before and after a decision taken before the first scrape).
  newProcess(seconds)::
    q.e('(max by (%(by)s) (process_start_time_seconds{%(host)s} and on (%(by)s) hbfence_build_info{%(host)s}) > time() - %(s)s)', { s: seconds }),

  // Counters that count events per host and `labels`:
  //   capped:    increase() is capped at max_over_time() * (resets() + 1), an upper bound of
  //              the true count, because it extrapolates a series that lasted a scrape or two;
  //   vanishes:  the series can end soon after the event (a pool that left the targets), so
  //              the "new series" branch takes last_over_time();
  //   newSeries: a series can appear with a non-zero value on a host scraped before (a
  //              reload to another action, then a decision before the next scrape).
  counter(metric, selector, labels, capped=false, vanishes=false, newSeries=true):: {
    metric: metric,
    selector: selector,
    labels: labels,
    capped: capped,
    vanishes: vanishes,
    newSeries: newSeries,
  },
  decisions(matcher=null)::
    q.counter('hbfence_fence_decisions_total', q.vars.host + (if matcher == null then '' else ', ' + matcher), 'action'),
  vmDestroyed::
    q.counter('hbfence_fence_vm_domains_destroyed_total', q.vars.target, 'target', capped=true, vanishes=true),
  // Exported at 0 from the start: no new series.
  vmEscalations::
    q.counter('hbfence_fence_vm_escalations_total', q.vars.host, 'reason', capped=true, newSeries=false),
  vmStepCount::
    q.counter('hbfence_fence_vm_step_duration_seconds_count', q.vars.host, 'step', capped=true, newSeries=false),

  local fmt(k, window, extra={}) = q.vars { m: k.metric, s: k.selector, l: k.labels, w: window } + extra,
  // increase() per host and labels over `window`, capped if the counter says so.
  increase(k, window)::
    local plain = 'sum by (%(by)s, %(l)s) (increase(%(m)s{%(s)s}[%(w)s]))' % fmt(k, window);
    local bound = 'sum by (%(by)s, %(l)s) (max_over_time(%(m)s{%(s)s}[%(w)s]) * (resets(%(m)s{%(s)s}[%(w)s]) + 1))' % fmt(k, window);
    if k.capped then '(%s <= %s or %s and %s)' % [plain, bound, bound, plain] else plain,
  // The series' value, for the "new series" branch.
  local latest(k, window) =
    if k.vanishes then 'max by (%(by)s, %(l)s) (last_over_time(%(m)s{%(s)s}[%(w)s]))' % fmt(k, window)
    else 'max by (%(by)s, %(l)s) (%(m)s{%(s)s})' % fmt(k, window),
  // ... unless the series existed `window` ago on a host that existed then.
  local unlessOld(k, window) =
    'unless on (%(by)s, %(l)s) %(m)s{%(s)s} offset %(w)s and on (%(by)s) hbfence_build_info{%(host)s} offset %(w)s' % fmt(k, window),

  // Events per bar (window $__rate_interval, one scrape interval longer than a bar, so
  // no event falls between two bars), for time series and annotations: increase() plus
  // the events of processes and series that started within the last two steps.
  events(k)::
    local w = '$__rate_interval';
    std.join(' or ', [
      '(%s > 0)' % q.increase(k, w),
      '(%s > 0 and on (%s) %s)' % ['max by (%(by)s, %(l)s) (%(m)s{%(s)s})' % fmt(k, w), q.vars.by, q.newProcess('2 * $__interval_ms / 1000')],
    ] + if k.newSeries then ['(%s > 0 %s)' % [latest(k, w), unlessOld(k, w)]] else []),

  // Events in `window` (seconds: the same in seconds) per host and labels, the largest of
  // the same three, rounded; the label `from` keeps the three apart until max.
  eventsIn(k, window, seconds)::
    local from(expr, name) = 'label_replace(%s, "from", "%s", "instance", ".*")' % [expr, name];
    'round(max by (%s, %s) (%s))' % [q.vars.by, k.labels, std.join(' or ', [
      from(q.increase(k, window), 'increase'),
      from('%s and on (%s) %s' % ['max by (%(by)s, %(l)s) (%(m)s{%(s)s})' % fmt(k, window), q.vars.by, q.newProcess(seconds)], 'new_process'),
    ] + if k.newSeries then [from('%s %s' % [latest(k, window), unlessOld(k, window)], 'new_series')] else [])],
  eventsInRange(k):: q.eventsIn(k, '$__range', '$__range_s'),
  eventsInLastHour(k):: q.eventsIn(k, '1h', '3600'),

  // The hosts HbfenceFenceSuppressed fires for (alerts/hbfence.rules.yml; change them
  // together): a log-only decision within the last hour, or a decision still pending on a
  // log-only host. One series per host (and action, for the decisions).
  suppressed::
    local k = q.decisions('action="log-only"');
    std.join(' or ', [
      q.e('(max by (%(by)s) (hbfence_fence_pending{%(host)s}) == 1 and on (%(by)s) max by (%(by)s) (hbfence_fence_armed{%(host)s}) == 0)'),
      '(max by (%(by)s, %(l)s) (increase(%(m)s{%(s)s}[%(w)s])) > 0)' % fmt(k, '1h'),
      '(%s > 0 and on (%s) %s)' % ['max by (%(by)s, %(l)s) (%(m)s{%(s)s})' % fmt(k, '1h'), q.vars.by, q.newProcess('3600')],
      '(%s > 0 %s)' % [latest(k, '1h'), unlessOld(k, '1h')],
    ]),

  // Per pool: the share of the hosts that report it and have it down (per cluster).
  targetDownShare::
    q.e('avg by (%(cluster)s, target) (1 - max by (%(by)s, target) (hbfence_target_up{%(target)s}))'),

  // The number of hosts whose `metric` (a per-host gauge) meets `condition` ('== 1'),
  // 0 rather than nothing when none does.
  countHosts(metric, condition)::
    q.e('count(max by (%(by)s) (%(m)s{%(host)s}) %(cond)s) or vector(0)', { m: metric, cond: condition }),
  // The number of hosts HbfenceFenceSuppressed fires for.
  countSuppressed:: 'count(max by (%s) (%s)) or vector(0)' % [q.vars.by, q.suppressed],

  // p`quantile` of heartbeat write latency per host and target.
  writeQuantile(quantile)::
    q.e('histogram_quantile(%(p)s, sum by (%(by)s, target, le) (rate(hbfence_heartbeat_write_duration_seconds_bucket{%(target)s}[$__rate_interval])))', { p: quantile }),

  // ... as a share of the host's timeout.
  writeQuantileOfTimeout(quantile)::
    '%s / on (%s) group_left %s' % [q.writeQuantile(quantile), q.vars.by, q.hostMax('hbfence_heartbeat_timeout_seconds')],

  // Per host and target: the longest gap without a successful heartbeat write of the
  // last 15 minutes (the daemon's window, the open gap included) as a share of the lease.
  gapOfLease::
    q.e('max by (%(by)s, target) (hbfence_heartbeat_gap_max_seconds{%(target)s}) / on (%(by)s) group_left max by (%(by)s) (hbfence_heartbeat_lease_seconds{%(host)s})'),

  // The age from which a CloudStack peer's heartbeat file counts as stale, per watching
  // host: the larger of peerStaleMinSeconds and the host's lease, as in the alert rules.
  stalePeerThreshold::
    q.e('clamp_min(max by (%(by)s) (hbfence_heartbeat_lease_seconds{%(host)s}), %(min)d)', { min: c.peerStaleMinSeconds }),
  // Per watching host and pool: the share of the peers whose heartbeat file is stale.
  stalePeerShare::
    '%s > bool on (%s) group_left () %s)' % [
      q.e('avg by (%(by)s, target) (max by (%(by)s, target, peer) (hbfence_peer_heartbeat_age_seconds{%(target)s})'),
      q.vars.by,
      q.stalePeerThreshold,
    ],

  // The mean duration of each destroy-vms step per host over `window`.
  vmStepMean(window)::
    q.e('sum by (%(by)s, step) (increase(hbfence_fence_vm_step_duration_seconds_sum{%(host)s}[%(w)s])) / sum by (%(by)s, step) (increase(hbfence_fence_vm_step_duration_seconds_count{%(host)s}[%(w)s])) > 0', { w: window }),

  // Per host: the largest value of a per-host gauge (config values, states).
  hostMax(metric):: q.e('max by (%(by)s) (%(m)s{%(host)s})', { m: metric }),
  // A process_* series of the hbfence sidecars (other jobs' processes left out).
  process(metric):: q.e('%(m)s{%(host)s} and on (%(by)s) hbfence_build_info{%(host)s}', { m: metric }),
}
