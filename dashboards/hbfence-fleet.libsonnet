// SPDX-License-Identifier: Apache-2.0

// hbfence / Fleet overview: every host at once.
local common = import 'lib/common.libsonnet';
local g = import 'lib/grafana.libsonnet';
local queries = import 'lib/queries.libsonnet';

local dashboard(c) =
  local q = queries(c);
  local h = common(c);
  g.dashboard(
    uid='hbfence-fleet',
    title='hbfence / Fleet overview',
    description='hbfence across all hosts: fencing mode, pending and suppressed fences, storage-wide target outages, worst heartbeat latency, sidecars down, VM fences (destroy-vms).',
    tags=c.dashboardTags,
    refresh=c.refresh,
    time=c.timeFrom,
    variables=h.variables(),
    annotations=h.annotations,
    panels=[
      g.row('Overview') + g.pos(24, 0, 0, 24, 1),
      g.stat(
        'Hosts armed vs log-only',
        'Hosts by hbfence_fence_armed: armed hosts act on a fence decision; log-only hosts (fencing disarmed) only log, journal and count it.',
        [
          g.qi(q.countHosts('hbfence_fence_armed', '== 1'), 'armed'),
          g.qi(q.countHosts('hbfence_fence_armed', '== 0'), 'log-only'),
        ]
      )
      + g.decimals(0)
      + g.textMode('value_and_name')
      + g.colorMode('value')
      + g.overrides([
        g.byName('armed', { thresholds: g.thresholds([]) }),
        g.byName('log-only', { thresholds: g.thresholds([['orange', 1]]) }),
      ])
      + h.runbook(['HbfenceFencingDisarmed'])
      + g.pos(1, 0, 1, 6, 4),
      g.stat(
        'Hosts with a pending fence',
        'hbfence_fence_pending = 1: a fence decision stands and the host is still up (armed: the action is running or failed; log-only: nothing was done).',
        [
          g.qi(q.countHosts('hbfence_fence_pending', '== 1'), 'pending'),
        ]
      )
      + g.steps([['red', 1]])
      + g.decimals(0)
      + h.runbook(['HbfenceFencePendingArmed'])
      + g.pos(2, 6, 1, 4, 4),
      g.stat(
        'Suppressed fences',
        'Hosts for which HbfenceFenceSuppressed pages, by the same condition: a log-only fence decision within the last hour (hbfence_fence_decisions_total{action="log-only"}, also one that stood only milliseconds and was never scraped as pending), or a decision still pending on a log-only host. They should have been fenced and kept their VMs running: split-brain risk, see the runbook (HbfenceFenceSuppressed).',
        [
          g.qi(q.countSuppressed, 'suppressed'),
        ]
      )
      + g.steps([['red', 1]])
      + g.decimals(0)
      + h.runbook(['HbfenceFenceSuppressed'])
      + g.pos(3, 10, 1, 4, 4),
      g.stat(
        'Sidecars down',
        'Scrape targets of hbfence (%s, the selected jobs) that Prometheus cannot scrape (up == 0). A down sidecar writes no heartbeats and cannot fence its host.' % c.hbfenceSelector,
        [
          g.qi(q.e('count(up{%(host)s} == 0) or vector(0)'), 'down'),
        ]
      )
      + g.steps([['red', 1]])
      + g.decimals(0)
      + h.runbook(['HbfenceSidecarDown'])
      + g.pos(4, 14, 1, 4, 4),
      g.stat(
        'Host/target pairs down',
        'Heartbeat targets without a successful write within the lease (hbfence_target_up = 0), counted per host and target.',
        [
          g.qi(q.e('count(max by (%(by)s, target) (hbfence_target_up{%(target)s}) == 0) or vector(0)'), 'down'),
        ]
      )
      + g.steps([['orange', 1]])
      + g.decimals(0)
      + h.runbook(['HbfenceTargetDown'])
      + g.pos(5, 18, 1, 3, 4),
      g.stat(
        'Config reload failing',
        'Hosts whose last SIGHUP reload was rejected (hbfence_config_last_reload_successful = 0): they still run the previous configuration.',
        [
          g.qi(q.countHosts('hbfence_config_last_reload_successful', '== 0'), 'failing'),
        ]
      )
      + g.steps([['orange', 1]])
      + g.decimals(0)
      + h.runbook(['HbfenceConfigReloadFailed'])
      + g.pos(6, 21, 1, 3, 4),
      g.table(
        'Hosts',
        'One row per host: fencing mode and configured action, pending fence, targets down, last fence that acted (log-only decisions do not set it), decisions in the selected time range (across restarts, as in the per-host panel), sidecar scrape state and version. Click a host for its detail dashboard.',
        [
          g.qt(q.hostMax('up')),
          g.qt(q.hostMax('hbfence_fence_armed')),
          g.qt(q.hostMax('hbfence_fence_pending')),
          g.qt(q.e('max by (%(by)s, fence_action, policy) (hbfence_config_info{%(host)s})')),
          g.qt(q.e('sum by (%(by)s) (1 - max by (%(by)s, target) (hbfence_target_up{%(target)s}))')),
          g.qt(q.hostMax('hbfence_last_fence_timestamp_seconds') + ' * 1000'),
          g.qt('sum by (%s) (%s)' % [q.vars.by, q.eventsInRange(q.decisions())]),
          g.qt(q.e('max by (%(by)s, version) (hbfence_build_info{%(host)s})')),
        ],
        exclude=['Time', 'Value #D', 'Value #H'],
        order=[c.clusterLabel, 'instance', 'Value #A', 'Value #B', 'fence_action', 'policy', 'Value #C', 'Value #E', 'Value #F', 'Value #G', 'version'],
        sortBy=['Pending']
      )
      + g.overrides([
        h.clusterColumn,
        h.hostColumn,
        g.byName('Value #A', { displayName: 'Sidecar', mappings: g.valueMap([['1', 'up', 'green'], ['0', 'DOWN', 'red']]), 'custom.cellOptions': { type: 'color-text' } }),
        g.byName('Value #B', { displayName: 'Fencing', mappings: g.valueMap([['1', 'armed', 'green'], ['0', 'log-only', 'orange']]), 'custom.cellOptions': { type: 'color-text' } }),
        g.byName('Value #C', { displayName: 'Pending', mappings: g.valueMap([['0', 'no', 'green'], ['1', 'PENDING', 'red']]), 'custom.cellOptions': { type: 'color-background' } }),
        g.byName('fence_action', { displayName: 'Action' }),
        g.byName('policy', { displayName: 'Policy' }),
        g.byName('Value #E', { displayName: 'Targets down', decimals: 0, thresholds: g.thresholds([['red', 1]]), 'custom.cellOptions': { type: 'color-text' } }),
        g.byName('Value #F', { displayName: 'Last fence', unit: 'dateTimeAsIso', mappings: g.valueMap([['0', 'never', 'text']]) }),
        g.byName('Value #G', { displayName: 'Decisions (range)', decimals: 0, thresholds: g.thresholds([['orange', 1]]), 'custom.cellOptions': { type: 'color-text' } }),
        g.byName('version', { displayName: 'Version' }),
      ])
      + g.pos(13, 0, 5, 24, 10),
      g.table(
        'Sidecars down',
        'hbfence scrape targets (%s, the selected jobs) that Prometheus cannot scrape: up == 0. Empty is good.' % c.hbfenceSelector,
        [
          g.qt(q.e('up{%(host)s} == 0')),
        ],
        exclude=['Time', '__name__'],
        order=[c.clusterLabel]
      )
      + g.noValue('all sidecars up')
      + g.overrides([
        h.clusterColumn,
        h.hostColumn,
        g.byName('Value', { displayName: 'up', 'custom.cellOptions': { type: 'color-background' }, mappings: g.valueMap([['0', 'DOWN', 'red']]) }),
      ])
      + h.runbook(['HbfenceSidecarDown'])
      + g.pos(14, 0, 15, 10, 7),
      g.table(
        'Targets down now',
        'Host/target pairs with hbfence_target_up = 0, with the time since their last successful heartbeat write and their consecutive failed attempts.',
        [
          g.qt(q.e('(max by (%(by)s, target) (hbfence_target_up{%(target)s}) == 0)')),
          g.qt(q.e('time() - max by (%(by)s, target) (hbfence_heartbeat_last_success_timestamp_seconds{%(target)s} > 0) and on (%(by)s, target) (max by (%(by)s, target) (hbfence_target_up{%(target)s}) == 0)')),
          g.qt(q.e('max by (%(by)s, target) (hbfence_heartbeat_consecutive_failures{%(target)s}) and on (%(by)s, target) (max by (%(by)s, target) (hbfence_target_up{%(target)s}) == 0)')),
        ],
        exclude=['Time', 'Value #A'],
        order=[c.clusterLabel, 'instance', 'target', 'Value #B', 'Value #C'],
        sortBy=['Since last success']
      )
      + g.noValue('no target down')
      + g.overrides([
        h.clusterColumn,
        h.hostColumn,
        g.byName('target', { displayName: 'Target' }),
        g.byName('Value #B', { displayName: 'Since last success', unit: 's' }),
        g.byName('Value #C', { displayName: 'Consecutive failures', decimals: 0 }),
      ])
      + h.runbook(['HbfenceTargetDown'])
      + g.pos(15, 10, 15, 14, 7),
      g.row('Fencing') + g.pos(25, 0, 22, 24, 1),
      g.timeseries(
        'Fence decisions by action',
        'Fence decisions across the selected hosts, by configured action: increase of hbfence_fence_decisions_total over $__rate_interval, one scrape interval longer than a bar so that no decision falls between two bars; one decision can show in two neighbouring bars. Red: log-only (the host was not fenced). Exact counts: the decisions-in-range panel; each decision is also marked on the time axis.',
        [
          g.q(q.e('sum by (action) (increase(hbfence_fence_decisions_total{%(host)s}[$__rate_interval]))'), '{{action}}'),
        ]
      )
      + g.bars
      + g.stacked
      + g.decimals(0)
      + g.legend(['max'])
      + g.overrides([
        g.byName('log-only', g.color('red')),
      ])
      + g.interval('1m')
      + h.runbook(['HbfenceHostFenced', 'HbfenceFenceSuppressed'])
      + g.pos(7, 0, 23, 8, 8),
      g.bargauge(
        'Fence decisions in the time range, per host',
        "Fence decisions per host and configured action in the selected time range, hosts with none left out. Counted across hbfence restarts (counter resets), including a decision before a new process's first scrape or right after a reload (the counter of a process or series that started within the range). Red: log-only, the host was not fenced.",
        [
          g.qi(q.eventsInRange(q.decisions()) + ' > 0', '{{instance}} ({{action}})'),
        ]
      )
      + g.steps([['orange', 1]])
      + g.decimals(0)
      + g.min(0)
      + g.noValue('no decisions')
      + g.overrides([
        g.byRegexp('.*log-only.*', g.color('red')),
      ])
      + h.runbook(['HbfenceHostFenced', 'HbfenceFenceSuppressed'])
      + g.pos(18, 8, 23, 8, 8),
      g.timeseries(
        'Pending and suppressed fences',
        'Hosts with hbfence_fence_pending = 1 over time (a short outage may never show here), and suppressed fences: hosts for which HbfenceFenceSuppressed pages (a log-only decision within the hour, or pending on a log-only host).',
        [
          g.q(q.countHosts('hbfence_fence_pending', '== 1'), 'pending'),
          g.q(q.countSuppressed, 'suppressed (log-only, paging)'),
        ]
      )
      + g.stepAfter
      + g.decimals(0)
      + g.overrides([
        g.byName('pending', g.color('orange')),
        g.byName('suppressed (log-only, paging)', g.color('red')),
      ])
      + h.runbook(['HbfenceFencePendingArmed', 'HbfenceFenceSuppressed'])
      + g.pos(8, 16, 23, 8, 8),
      g.row('Storage and heartbeat latency') + g.pos(26, 0, 31, 24, 1),
      g.timeseries(
        'Storage-wide signal: share of hosts with the target down',
        'Per heartbeat target (storage pool): the fraction of the hosts that report it and have it down. Many hosts losing the same pool at once points at the storage, not at one host (HbfenceStorageWideOutage: more than %s, and at least %d).' % [h.percent(c.storageWideOutageRatio), c.storageWideOutageMinHosts],
        [
          g.q(q.targetDownShare, '{{target}}'),
        ]
      )
      + g.unit('percentunit')
      + g.stepAfter
      + g.dashedThresholds
      + g.steps([['orange', 0.01], ['red', c.storageWideOutageRatio]])
      + g.max(1)
      + h.runbook(['HbfenceStorageWideOutage'])
      + g.pos(9, 0, 32, 16, 8),
      g.bargauge(
        'Share of hosts with the target down (now)',
        'Fraction of the hosts reporting each target that have it down right now.',
        [
          g.qi(q.targetDownShare, '{{target}}'),
        ],
        displayMode='gradient'
      )
      + g.unit('percentunit')
      + g.min(0)
      + g.steps([['orange', 0.01], ['red', c.storageWideOutageRatio]])
      + g.max(1)
      + h.runbook(['HbfenceStorageWideOutage'])
      + g.pos(10, 16, 32, 8, 8),
      g.timeseries(
        'Worst pools: p99 heartbeat write latency (top 10 host/target)',
        'p99 of completed heartbeat writes per host and target (5 m of buckets at the rate interval), the 10 worst at each point in time. The largest finite bucket is the configured timeout: a p99 at the timeout means writes are timing out.',
        [
          g.q('topk(10, %s)' % q.writeQuantile('0.99'), '{{instance}} {{target}}'),
        ]
      )
      + g.unit('s')
      + g.legend(['max', 'mean', 'lastNotNull'])
      + h.runbook(['HbfenceHeartbeatLatencyHigh'])
      + g.pos(11, 0, 40, 16, 9),
      g.bargauge(
        'p99 write latency as a share of the timeout (worst 10, now)',
        "p99 heartbeat write latency divided by the host's hbfence_heartbeat_timeout_seconds. Orange from %s, red at 100 %% (writes time out)." % h.percent(c.latencyHighRatio),
        [
          g.qi('topk(10, %s)' % q.writeQuantileOfTimeout('0.99'), '{{instance}} {{target}}'),
        ],
        displayMode='gradient'
      )
      + g.unit('percentunit')
      + g.min(0)
      + g.steps([['yellow', 0.5], ['orange', c.latencyHighRatio], ['red', 1]])
      + g.max(1)
      + h.runbook(['HbfenceHeartbeatLatencyHigh'])
      + g.pos(12, 16, 40, 8, 9),
      g.timeseries(
        'Worst heartbeat gap / lease (top 10 host/target)',
        "The longest time without a successful heartbeat write in the last 15 minutes (hbfence_heartbeat_gap_max_seconds, the daemon's sliding window, the open gap included) as a share of each host's lease, the 10 worst at each point in time. Many hosts on one pool at once is the storage. Orange from %s (HbfenceHeartbeatGapNearLease, on a target that is up), red at 100 %% (the target failed)." % h.percent(c.gapLeaseWarningRatio),
        [
          g.q('topk(10, %s)' % q.gapOfLease, '{{instance}} {{target}}'),
        ]
      )
      + g.unit('percentunit')
      + g.min(0)
      + g.custom({ axisSoftMax: 1 })
      + g.dashedThresholds
      + g.steps([['orange', c.gapLeaseWarningRatio], ['red', 1]])
      + g.legend(['max', 'lastNotNull'])
      + h.runbook(['HbfenceHeartbeatGapNearLease'])
      + g.pos(29, 0, 49, 16, 8),
      g.bargauge(
        'Heartbeat gap / lease (worst 10, now)',
        "The longest gap without a successful heartbeat write of the last 15 minutes divided by the host's hbfence_heartbeat_lease_seconds, per host and target. Orange from %s, red at 100 %% (the target failed)." % h.percent(c.gapLeaseWarningRatio),
        [
          g.qi('topk(10, %s)' % q.gapOfLease, '{{instance}} {{target}}'),
        ],
        displayMode='gradient'
      )
      + g.unit('percentunit')
      + g.min(0)
      + g.steps([['orange', c.gapLeaseWarningRatio], ['red', 1]])
      + g.max(1)
      + h.runbook(['HbfenceHeartbeatGapNearLease'])
      + g.pos(30, 16, 49, 8, 8),
      g.row('VM fencing (destroy-vms)') + g.pos(27, 0, 57, 24, 1),
      g.timeseries(
        'VM fences: VMs destroyed per pool, escalations by reason',
        "VM fences across the selected hosts: VMs (libvirt domains) destroyed by fence action destroy-vms per pool (summed over hosts: many hosts on one pool at once is the storage), and escalations by reason in red (destroy-vms could not fence safely and ran [fence] destroy_escalation, hard-reboot by default). increase() over $__rate_interval, one scrape interval longer than a bar, so one fence can show in two neighbouring bars; plus the counter of a process that started within the last two bars and of a series new in the window (a pool found by discover_pools leaves the targets once unmounted, so its series can end seconds after the destroy). increase() is capped at the series' largest value in the window (times its resets + 1), so a series that ends right after the destroy is not extrapolated upward. Exact counts: the in-range panels; each destroy and escalation is also marked on the time axis.",
        [
          g.q('sum by (%s, target) (%s)' % [q.vars.cluster, q.events(q.vmDestroyed)], '{{target}}'),
          g.q('sum by (reason) (%s)' % q.events(q.vmEscalations), 'escalated: {{reason}}'),
        ]
      )
      + g.bars
      + g.stacked
      + g.decimals(0)
      + g.legend(['sum'])
      + g.overrides([
        g.byRegexp('^escalated: .*', g.color('red')),
      ])
      + g.interval('1m')
      + h.runbook(['HbfenceVmsFenced', 'HbfenceVmFenceEscalated'])
      + g.pos(19, 0, 58, 8, 8),
      g.bargauge(
        'VMs destroyed in the time range, per host and pool',
        "VMs destroyed by destroy-vms per host and pool in the selected time range, pairs with none left out. Counted across hbfence restarts, including a destroy before a new process's first scrape and a pool whose series appeared within the range and may be gone since (a discovered pool leaves the targets once unmounted). increase() is capped at the series' largest value in the range (times its resets + 1), so a series that lasted only a scrape or two is not counted high.",
        [
          g.qi(q.eventsInRange(q.vmDestroyed) + ' > 0', '{{instance}} {{target}}'),
        ]
      )
      + g.steps([['orange', 1]])
      + g.decimals(0)
      + g.min(0)
      + g.noValue('no VMs destroyed')
      + h.runbook(['HbfenceVmsFenced'])
      + g.pos(20, 8, 58, 8, 8),
      g.bargauge(
        'VM fence escalations in the time range, per host',
        "destroy-vms escalations per host and reason in the selected time range, hosts with none left out. Counted across hbfence restarts, including an escalation before a new process's first scrape. Red: the pool's VMs were not fenced on their own.",
        [
          g.qi(q.eventsInRange(q.vmEscalations) + ' > 0', '{{instance}} ({{reason}})'),
        ]
      )
      + g.steps([['red', 1]])
      + g.decimals(0)
      + g.min(0)
      + g.noValue('no escalations')
      + h.runbook(['HbfenceVmFenceEscalated'])
      + g.pos(21, 16, 58, 8, 8),
      g.table(
        'VMs destroyed in the last hour',
        'Host/pool pairs with VMs destroyed by destroy-vms within the last hour, whatever the time range: the pairs HbfenceVmsFenced fires for, by the same condition (alerts/hbfence.rules.yml), with the number of VMs. The pool stays unmounted on that host until someone mounts it again.',
        [
          g.qt(q.eventsInLastHour(q.vmDestroyed) + ' > 0'),
        ],
        exclude=['Time'],
        order=[c.clusterLabel, 'instance', 'target', 'Value'],
        sortBy=['VMs destroyed']
      )
      + g.noValue('no VMs destroyed in the last hour')
      + g.overrides([
        h.clusterColumn,
        h.hostColumn,
        g.byName('target', { displayName: 'Pool' }),
        g.byName('Value', { displayName: 'VMs destroyed', decimals: 0 }),
      ])
      + h.runbook(['HbfenceVmsFenced'])
      + g.pos(22, 0, 66, 12, 7),
      g.table(
        'VM fence escalations in the last hour',
        'Hosts with a destroy-vms escalation within the last hour, whatever the time range, by reason: the alerts HbfenceVmFenceEscalated fires, by the same condition (alerts/hbfence.rules.yml), with the number of escalations.',
        [
          g.qt(q.eventsInLastHour(q.vmEscalations) + ' > 0'),
        ],
        exclude=['Time'],
        order=[c.clusterLabel, 'instance', 'reason', 'Value'],
        sortBy=['Escalations']
      )
      + g.noValue('no escalation in the last hour')
      + g.overrides([
        h.clusterColumn,
        h.hostColumn,
        g.byName('reason', { displayName: 'Reason' }),
        g.byName('Value', { displayName: 'Escalations', decimals: 0 }),
      ])
      + h.runbook(['HbfenceVmFenceEscalated'])
      + g.pos(23, 12, 66, 12, 7),
      g.row('CloudStack peers') + g.pos(28, 0, 73, 24, 1),
      g.timeseries(
        'CloudStack peers: share of stale peer heartbeats per pool',
        "Per pool and watching host (targets with peer_watch = true): the fraction of the other hosts' heartbeat files that are stale. A peer is stale when its file has not advanced for longer than %s. One host's view climbing a little: one sick peer (HbfencePeerHeartbeatStale); most peers stale: the pool is split or the hosts are down (HbfencePoolPeersStale)." % h.staleRule,
        [
          g.q(q.stalePeerShare, '{{target}} seen from {{instance}}'),
        ]
      )
      + g.unit('percentunit')
      + g.stepAfter
      + g.dashedThresholds
      + g.steps([['orange', 0.01], ['red', c.poolPeersStaleRatio + 0.01]])  // red above the ratio
      + g.max(1)
      + h.runbook(['HbfencePoolPeersStale', 'HbfencePeerHeartbeatStale'])
      + g.pos(16, 0, 74, 16, 8),
      g.stat(
        'Unknown agent.properties fence action',
        'Hosts where kvm.heartbeat.fence.action in agent.properties is not an action hbfence knows (hbfence_config_unknown_fence_action = 1): they fell back to hard-reboot.',
        [
          g.qi(q.countHosts('hbfence_config_unknown_fence_action', '== 1'), 'unknown'),
        ]
      )
      + g.steps([['orange', 1]])
      + g.decimals(0)
      + h.runbook(['HbfenceUnknownFenceAction'])
      + g.pos(17, 16, 74, 8, 8),
    ],
  );

{
  grafanaDashboards+:: {
    'hbfence-fleet.json': dashboard($._config),
  },
}
