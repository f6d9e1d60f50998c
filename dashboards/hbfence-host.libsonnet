// SPDX-License-Identifier: Apache-2.0

// hbfence / Host detail: one host in depth (or several, with _config.hostDashboardMultiHost).
local common = import 'lib/common.libsonnet';
local g = import 'lib/grafana.libsonnet';
local queries = import 'lib/queries.libsonnet';

local dashboard(c) =
  local q = queries(c);
  local h = common(c);
  g.dashboard(
    uid='hbfence-host',
    title='hbfence / Host detail',
    description=(if c.hostDashboardMultiHost then 'One or more hbfence hosts' else 'One hbfence host') + ' in detail: heartbeat write latency per target, failures by reason, lease, stuck writes, fence decisions and actions, VM fences (destroy-vms), configuration, build and process.',
    tags=c.dashboardTags,
    refresh=c.refresh,
    time=c.timeFrom,
    variables=h.variables(hostMulti=c.hostDashboardMultiHost),
    annotations=h.annotations,
    panels=[
      g.row('Status') + g.pos(1, 0, 0, 24, 1),
      g.stat(
        'Fence state',
        'none: no fence decision stands. PENDING: a decision stands and the host is still up (armed: the action runs or failed). SUPPRESSED: HbfenceFenceSuppressed pages for the host: a log-only decision within the last hour, even one that stood for milliseconds, or a decision still pending on a log-only host; nothing was done and the VMs kept running.',
        [
          g.qi('(0 * max by (%s) (%s) + 2) or %s' % [q.vars.by, q.suppressed, q.e('(max by (%(by)s) (hbfence_fence_pending{%(host)s}) * (2 - max by (%(by)s) (hbfence_fence_armed{%(host)s})))')], '{{instance}}'),
        ]
      )
      + g.mappings([['0', 'none', 'green'], ['1', 'PENDING', 'red'], ['2', 'SUPPRESSED', 'dark-red']])
      + h.runbook(['HbfenceFenceSuppressed', 'HbfenceFencePendingArmed'])
      + g.pos(2, 0, 1, 4, 4),
      g.stat(
        'Fencing mode',
        'hbfence_fence_armed: armed hosts act on a fence decision; log-only hosts only log, journal and count it.',
        [
          g.qi(q.hostMax('hbfence_fence_armed'), '{{instance}}'),
        ]
      )
      + g.mappings([['1', 'armed', 'green'], ['0', 'log-only', 'orange']])
      + h.runbook(['HbfenceFencingDisarmed'])
      + g.pos(3, 4, 1, 4, 4),
      g.stat(
        'Targets down',
        'Heartbeat targets without a successful write within the lease (hbfence_target_up = 0).',
        [
          g.qi(q.e('sum by (%(by)s) (1 - max by (%(by)s, target) (hbfence_target_up{%(target)s}))'), '{{instance}}'),
        ]
      )
      + g.steps([['red', 1]])
      + g.decimals(0)
      + h.runbook(['HbfenceTargetDown'])
      + g.pos(4, 8, 1, 3, 4),
      g.stat(
        'Stuck writes',
        'Heartbeat writes still outstanding past the timeout (hung storage, D-state).',
        [
          g.qi(q.e('sum by (%(by)s) (hbfence_heartbeat_stuck_writes{%(target)s})'), '{{instance}}'),
        ]
      )
      + g.steps([['red', 1]])
      + g.decimals(0)
      + h.runbook(['HbfenceHeartbeatStuckWrites'])
      + g.pos(5, 11, 1, 3, 4),
      g.stat(
        'Sidecar',
        'Prometheus scrape state of the hbfence sidecar (up{%s}).' % c.hbfenceSelector,
        [
          g.qi(q.hostMax('up'), '{{instance}}'),
        ]
      )
      + g.mappings([['1', 'up', 'green'], ['0', 'DOWN', 'red']])
      + h.runbook(['HbfenceSidecarDown'])
      + g.pos(6, 14, 1, 3, 4),
      g.stat(
        'Last reload',
        'hbfence_config_last_reload_successful: 1 if the last SIGHUP reload succeeded (or none was attempted).',
        [
          g.qi(q.hostMax('hbfence_config_last_reload_successful'), '{{instance}}'),
        ]
      )
      + g.mappings([['1', 'ok', 'green'], ['0', 'FAILED', 'orange']])
      + h.runbook(['HbfenceConfigReloadFailed'])
      + g.pos(7, 17, 1, 3, 4),
      g.stat(
        'Last fence',
        'Time of the newest fence on record that acted (hbfence_last_fence_timestamp_seconds: the newest fence journal entry whose action is not log-only; log-only decisions do not set it).',
        [
          g.qi(q.hostMax('hbfence_last_fence_timestamp_seconds') + ' * 1000', '{{instance}}'),
        ]
      )
      + g.unit('dateTimeFromNow')
      + g.mappings([['0', 'never', 'text']])
      + g.colorMode('none')
      + h.runbook(['HbfenceHostFenced'])
      + g.pos(8, 20, 1, 4, 4),
      g.row('Heartbeat write latency') + g.pos(9, 0, 5, 24, 1),
      g.heatmap(
        'Write latency heatmap: $target',
        'Completed heartbeat writes per latency bucket (rate of hbfence_heartbeat_write_duration_seconds_bucket), summed over the selected hosts. The top finite bucket is the configured timeout; writes that completed later land in +Inf.',
        [
          g.q(q.e('sum by (le) (rate(hbfence_heartbeat_write_duration_seconds_bucket{%(target)s}[$__rate_interval]))'), '{{le}}'),
        ]
      )
      + { repeat: 'target', repeatDirection: 'h', maxPerRow: 3 }
      + g.pos(10, 0, 6, 8, 8),
      g.timeseries(
        'Write latency p50 / p90 / p99 vs timeout',
        'Quantiles of completed heartbeat writes per host and target, the mean (_sum / _count), the configured timeout (red, dashed) and %s of it (orange, dashed; HbfenceHeartbeatLatencyHigh). A write slower than the timeout counts as a failed attempt.' % h.percent(c.latencyHighRatio),
        [
          g.q(q.writeQuantile('0.5'), 'p50 {{instance}} {{target}}'),
          g.q(q.writeQuantile('0.9'), 'p90 {{instance}} {{target}}'),
          g.q(q.writeQuantile('0.99'), 'p99 {{instance}} {{target}}'),
          g.q(q.e('sum by (%(by)s, target) (rate(hbfence_heartbeat_write_duration_seconds_sum{%(target)s}[$__rate_interval])) / sum by (%(by)s, target) (rate(hbfence_heartbeat_write_duration_seconds_count{%(target)s}[$__rate_interval]))'), 'mean {{instance}} {{target}}'),
          g.q(q.hostMax('hbfence_heartbeat_timeout_seconds'), 'timeout {{instance}}'),
          g.q('%g * %s' % [c.latencyHighRatio, q.hostMax('hbfence_heartbeat_timeout_seconds')], '%s of timeout {{instance}}' % h.percent(c.latencyHighRatio, '')),
        ]
      )
      + g.unit('s')
      + g.legend(['max', 'mean', 'lastNotNull'])
      + g.overrides([
        g.byRegexp('^timeout .*', g.referenceLine('red')),
        g.byRegexp('^%s of timeout .*' % h.percent(c.latencyHighRatio, ''), g.referenceLine('orange')),
      ])
      + h.runbook(['HbfenceHeartbeatLatencyHigh'])
      + g.pos(11, 0, 14, 12, 9),
      g.timeseries(
        'p99 write latency as a share of the timeout',
        "p99 divided by the host's configured hbfence_heartbeat_timeout_seconds. Thresholds: yellow 50 %%, orange %s, red 100 %% (writes are timing out)." % h.percent(c.latencyHighRatio),
        [
          g.q(q.writeQuantileOfTimeout('0.99'), '{{instance}} {{target}}'),
        ]
      )
      + g.unit('percentunit')
      + g.dashedThresholds
      + g.custom({ axisSoftMax: 1 })
      + g.steps([['yellow', 0.5], ['orange', c.latencyHighRatio], ['red', 1]])
      + h.runbook(['HbfenceHeartbeatLatencyHigh'])
      + g.pos(12, 12, 14, 12, 9),
      g.timeseries(
        'Heartbeat attempts and completed writes',
        'Attempts per second (hbfence_heartbeat_writes_total, including intervals skipped because a write was stuck), completed writes (histogram _count) and the expected rate 1 / interval.',
        [
          g.q(q.e('sum by (%(by)s, target) (rate(hbfence_heartbeat_writes_total{%(target)s}[$__rate_interval]))'), 'attempts {{instance}} {{target}}'),
          g.q(q.e('sum by (%(by)s, target) (rate(hbfence_heartbeat_write_duration_seconds_count{%(target)s}[$__rate_interval]))'), 'completed {{instance}} {{target}}'),
          g.q('1 / ' + q.hostMax('hbfence_heartbeat_interval_seconds'), 'expected {{instance}}'),
        ]
      )
      + g.unit('ops')
      + g.overrides([
        g.byRegexp('^expected .*', g.referenceLine('text')),
      ])
      + g.pos(13, 0, 23, 12, 8),
      g.timeseries(
        'Failed attempts ratio',
        '(timeouts + errors) / attempts per host and target.',
        [
          g.q(q.e('(sum by (%(by)s, target) (rate(hbfence_heartbeat_write_timeouts_total{%(target)s}[$__rate_interval])) + sum by (%(by)s, target) (rate(hbfence_heartbeat_write_errors_total{%(target)s}[$__rate_interval]))) / (sum by (%(by)s, target) (rate(hbfence_heartbeat_writes_total{%(target)s}[$__rate_interval])) > 0)'), '{{instance}} {{target}}'),
        ]
      )
      + g.unit('percentunit')
      + g.dashedThresholds
      + g.custom({ axisSoftMax: 0.1 })
      + g.steps([['orange', 0.05], ['red', 0.5]])
      + h.runbook(['HbfenceHeartbeatWriteFailures', 'HbfenceHeartbeatWriteTimeouts'])
      + g.pos(14, 12, 23, 12, 8),
      g.row('Failures and lease') + g.pos(15, 0, 31, 24, 1),
      g.timeseries(
        'Timeouts and errors by reason',
        'Failed heartbeat attempts per interval: timeouts (hbfence_heartbeat_write_timeouts_total) and errors by reason (io_error, no_space, read_only, stale_handle, not_mounted, other). Only non-zero series are drawn: empty means no failures.',
        [
          g.q(q.e('sum by (%(by)s, target) (increase(hbfence_heartbeat_write_timeouts_total{%(target)s}[$__interval])) > 0'), 'timeout {{instance}} {{target}}'),
          g.q(q.e('sum by (%(by)s, target, reason) (increase(hbfence_heartbeat_write_errors_total{%(target)s}[$__interval])) > 0'), '{{reason}} {{instance}} {{target}}'),
        ]
      )
      + g.bars
      + g.stacked
      + g.decimals(0)
      + g.legend(['sum'])
      + g.overrides([
        g.byRegexp('^timeout .*', g.color('red')),
      ])
      + g.interval('1m')
      + h.runbook(['HbfenceHeartbeatWriteFailures', 'HbfenceHeartbeatWriteTimeouts'])
      + g.pos(16, 0, 32, 12, 8),
      g.timeseries(
        'Consecutive failures',
        'Failed heartbeat attempts since the last success, with lease / interval (dashed): about the number of failed attempts after which the target is down.',
        [
          g.q(q.e('max by (%(by)s, target) (hbfence_heartbeat_consecutive_failures{%(target)s})'), '{{instance}} {{target}}'),
          g.q(q.hostMax('hbfence_heartbeat_lease_seconds') + ' / ' + q.hostMax('hbfence_heartbeat_interval_seconds'), 'lease / interval {{instance}}'),
        ]
      )
      + g.stepAfter
      + g.steps([['orange', 1]])
      + g.decimals(0)
      + g.overrides([
        g.byRegexp('^lease / interval .*', g.referenceLine('red')),
      ])
      + g.pos(17, 12, 32, 12, 8),
      g.timeseries(
        'Time since last successful write vs lease',
        'time() − hbfence_heartbeat_last_success_timestamp_seconds per host and target; the lease (red, dashed) and the interval (dashed). Past the lease the target is down and the fence policy applies. Includes up to one scrape interval of lag.',
        [
          g.q(q.e('time() - max by (%(by)s, target) (hbfence_heartbeat_last_success_timestamp_seconds{%(target)s} > 0)'), '{{instance}} {{target}}'),
          g.q(q.hostMax('hbfence_heartbeat_lease_seconds'), 'lease {{instance}}'),
          g.q(q.hostMax('hbfence_heartbeat_interval_seconds'), 'interval {{instance}}'),
        ]
      )
      + g.unit('s')
      + g.overrides([
        g.byRegexp('^lease .*', g.referenceLine('red')),
        g.byRegexp('^interval .*', g.referenceLine('text')),
      ])
      + h.runbook(['HbfenceTargetDown'])
      + g.pos(18, 0, 40, 12, 8),
      g.stateTimeline(
        'Target up',
        'hbfence_target_up: 1 while the target has had a successful write within the lease.',
        [
          g.q(q.e('max by (%(by)s, target) (hbfence_target_up{%(target)s})'), '{{instance}} {{target}}'),
        ]
      )
      + g.mappings([['1', 'up', 'green'], ['0', 'down', 'red']])
      + h.runbook(['HbfenceTargetDown'])
      + g.pos(19, 12, 40, 12, 8),
      g.bargauge(
        'Lease used (now)',
        'Time since the last successful write as a share of the lease. Yellow 50 %, orange 80 %, red 100 % (target down).',
        [
          g.qi(q.e('(time() - max by (%(by)s, target) (hbfence_heartbeat_last_success_timestamp_seconds{%(target)s} > 0)) / on (%(by)s) group_left max by (%(by)s) (hbfence_heartbeat_lease_seconds{%(host)s})'), '{{instance}} {{target}}'),
        ],
        displayMode='gradient'
      )
      + g.unit('percentunit')
      + g.min(0)
      + g.steps([['yellow', 0.5], ['orange', 0.8], ['red', 1]])
      + g.max(1)
      + h.runbook(['HbfenceTargetDown'])
      + g.pos(20, 0, 48, 12, 7),
      g.timeseries(
        'Stuck writes',
        'Heartbeat writes still outstanding past the timeout (the write is blocked in the kernel: hung NFS, D-state). Any is red.',
        [
          g.q(q.e('max by (%(by)s, target) (hbfence_heartbeat_stuck_writes{%(target)s})'), '{{instance}} {{target}}'),
        ]
      )
      + g.stepAfter
      + g.dashedThresholds
      + g.steps([['red', 1]])
      + g.decimals(0)
      + h.runbook(['HbfenceHeartbeatStuckWrites'])
      + g.pos(21, 12, 48, 12, 7),
      g.timeseries(
        'Heartbeat gap / lease (15 min max)',
        "hbfence_heartbeat_gap_max_seconds over the host's lease, per target: the longest time without a successful write in the last 15 minutes (the daemon's sliding window, the gap still open included, from the last success to the success that renewed the lease), as a share of the lease. A stall shows as a step that holds for 15 minutes. Orange from %s (HbfenceHeartbeatGapNearLease warns there, while the target is up, for gaps of two intervals or more), red at 100 %% (the target failed). hbfence replay and hbfence advise on the host find the stall and a lease from the recorded history." % h.percent(c.gapLeaseWarningRatio),
        [
          g.q(q.gapOfLease, '{{instance}} {{target}}'),
        ]
      )
      + g.unit('percentunit')
      + g.min(0)
      + g.custom({ axisSoftMax: 1 })
      + g.dashedThresholds
      + g.steps([['orange', c.gapLeaseWarningRatio], ['red', 1]])
      + g.legend(['max', 'lastNotNull'])
      + h.runbook(['HbfenceHeartbeatGapNearLease'])
      + g.pos(48, 0, 55, 12, 8),
      g.timeseries(
        'Write history records dropped',
        'Records of the write history ([history], read by hbfence replay and advise) not kept, per interval, by target and reason (hbfence_history_records_dropped_total): queue_full, the history disk is slow or hung; write_error, it is full or failing. Heartbeat and fencing do not depend on the history. Only non-zero series are drawn: empty means nothing was dropped.',
        [
          g.q(q.e('sum by (%(by)s, target, reason) (increase(hbfence_history_records_dropped_total{%(target)s}[$__interval])) > 0'), '{{reason}} {{instance}} {{target}}'),
        ]
      )
      + g.bars
      + g.stacked
      + g.decimals(0)
      + g.legend(['sum'])
      + g.overrides([
        g.byRegexp('^write_error .*', g.color('red')),
        g.byRegexp('^queue_full .*', g.color('orange')),
      ])
      + g.interval('1m')
      + h.runbook(['HbfenceHistoryRecordsDropped'])
      + g.pos(49, 12, 55, 12, 8),
      g.row('Fencing') + g.pos(22, 0, 63, 24, 1),
      g.timeseries(
        'Fence decisions by action',
        'Fence decisions, by configured action: increase of hbfence_fence_decisions_total over $__rate_interval, one scrape interval longer than a bar so that no decision falls between two bars; one decision can show in two neighbouring bars. Red: log-only (the host was not fenced). Exact counts: the decisions-in-range panel; each decision is also marked on the time axis.',
        [
          g.q(q.e('sum by (%(by)s, action) (increase(hbfence_fence_decisions_total{%(host)s}[$__rate_interval]))'), '{{action}} {{instance}}'),
        ]
      )
      + g.bars
      + g.stacked
      + g.decimals(0)
      + g.legend(['max'])
      + g.overrides([
        g.byRegexp('.*log-only.*', g.color('red')),
      ])
      + g.interval('1m')
      + h.runbook(['HbfenceHostFenced', 'HbfenceFenceSuppressed'])
      + g.pos(23, 0, 64, 8, 8),
      g.timeseries(
        'Fence action steps by result',
        "Fence action steps per interval (hbfence_fence_actions_total) by action and result: success, logged, failed, timeout, refused, rate_limited, escalated. Every step the configured action can produce is exported from the start at 0; this is the counter's change over the interval (a series new in it, e.g. after a reload to another action, counts in full), not increase(); a daemon restart inside an interval hides that interval's steps.",
        [
          g.q(q.e('sum by (%(by)s, action, result) (clamp_min(hbfence_fence_actions_total{%(host)s} - (hbfence_fence_actions_total{%(host)s} offset $__interval or hbfence_fence_actions_total{%(host)s} * 0), 0))'), '{{action}} {{result}} {{instance}}'),
        ]
      )
      + g.bars
      + g.stacked
      + g.decimals(0)
      + g.legend(['sum'])
      + g.overrides([
        g.byRegexp('.*(failed|timeout|refused).*', g.color('red')),
        g.byRegexp('.*(rate_limited|escalated).*', g.color('orange')),
      ])
      + g.interval('1m')
      + h.runbook(['HbfenceFenceActionFailed'])
      + g.pos(24, 8, 64, 8, 8),
      g.stateTimeline(
        'Fence pending / armed',
        'hbfence_fence_pending (a fence decision stands and the host is still up) and hbfence_fence_armed (0 = log-only).',
        [
          g.q(q.hostMax('hbfence_fence_pending'), 'pending {{instance}}'),
          g.q(q.hostMax('hbfence_fence_armed'), 'armed {{instance}}'),
        ]
      )
      + g.overrides([
        g.byRegexp('^pending .*', { mappings: g.valueMap([['0', 'no', 'green'], ['1', 'PENDING', 'red']]) }),
        g.byRegexp('^armed .*', { mappings: g.valueMap([['1', 'armed', 'green'], ['0', 'log-only', 'orange']]) }),
      ])
      + h.runbook(['HbfenceFencePendingArmed', 'HbfenceFencingDisarmed'])
      + g.pos(25, 16, 64, 8, 8),
      g.stat(
        'Fence decisions in the time range',
        "Fence decisions per host and configured action in the selected time range. Counted across hbfence restarts (counter resets), including a decision before a new process's first scrape or right after a reload (the counter of a process or series that started within the range). Red: log-only, the host was not fenced.",
        [
          g.qi(q.eventsInRange(q.decisions()), '{{instance}} ({{action}})'),
        ]
      )
      + g.steps([['orange', 1]])
      + g.decimals(0)
      + g.min(0)
      + g.noValue('no decisions')
      + g.textMode('value_and_name')
      + g.overrides([
        g.byRegexp('.*log-only.*', g.color('red')),
      ])
      + h.runbook(['HbfenceHostFenced', 'HbfenceFenceSuppressed'])
      + g.pos(40, 0, 72, 8, 6),
      g.timeseries(
        'Fence journal errors',
        'Fence journal appends that failed (hbfence_fence_journal_errors_total); the action ran anyway, but the decision is not on record.',
        [
          g.q(q.e('sum by (%(by)s) (increase(hbfence_fence_journal_errors_total{%(host)s}[$__interval]))'), '{{instance}}'),
        ]
      )
      + g.bars
      + g.steps([['red', 1]])
      + g.decimals(0)
      + g.legend(['sum'])
      + g.interval('1m')
      + h.runbook(['HbfenceFenceJournalErrors'])
      + g.pos(26, 8, 72, 8, 6),
      g.timeseries(
        'Config reloads by result',
        'SIGHUP reloads per interval (hbfence_config_reloads_total) by result.',
        [
          g.q(q.e('sum by (%(by)s, result) (increase(hbfence_config_reloads_total{%(host)s}[$__interval]))'), '{{result}} {{instance}}'),
        ]
      )
      + g.bars
      + g.stacked
      + g.decimals(0)
      + g.legend(['sum'])
      + g.overrides([
        g.byRegexp('^failure .*', g.color('red')),
        g.byRegexp('^success .*', g.color('green')),
      ])
      + g.interval('1m')
      + h.runbook(['HbfenceConfigReloadFailed'])
      + g.pos(27, 16, 72, 8, 6),
      g.row('VM fencing (destroy-vms)') + g.pos(41, 0, 78, 24, 1),
      g.timeseries(
        'VMs destroyed per pool',
        "VMs (libvirt domains) that fence action destroy-vms destroyed, per host and failed pool (hbfence_fence_vm_domains_destroyed_total): increase() over $__rate_interval, one scrape interval longer than a bar, so one fence can show in two neighbouring bars; plus the counter of a process that started within the last two bars and of a series new in the window (a pool found by discover_pools leaves the targets once unmounted, so its series can end seconds after the destroy). increase() is capped at the series' largest value in the window (times its resets + 1), so a series that ends right after the destroy is not extrapolated upward. Only non-zero bars are drawn: empty means no VM destroyed. A destroy that escalated counts no domains here (see the escalations panel). Exact counts: the VMs-destroyed-in-range panel; each destroy is also marked on the time axis.",
        [
          g.q(q.events(q.vmDestroyed), '{{target}} {{instance}}'),
        ]
      )
      + g.bars
      + g.stacked
      + g.decimals(0)
      + g.legend(['sum'])
      + g.interval('1m')
      + h.runbook(['HbfenceVmsFenced'])
      + g.pos(42, 0, 79, 8, 8),
      g.timeseries(
        'VM fence escalations by reason',
        'destroy-vms fences that could not be done safely and ran [fence] destroy_escalation instead (hard-reboot by default), by reason: no_mount, libvirt_error, host_page_cache, unknown_source, processes_survived, unmount_failed (hbfence_fence_vm_escalations_total, every reason exported at 0 from the start). increase() over $__rate_interval, plus the counter of a process that started within the last two bars. Each one pages (HbfenceVmFenceEscalated). An escalation to hard-reboot usually takes the host down before a scrape sees it; whether the escalation only logged shows in the action steps panel (log-only logged).',
        [
          g.q(q.events(q.vmEscalations), '{{reason}} {{instance}}'),
        ]
      )
      + g.bars
      + g.stacked
      + g.decimals(0)
      + g.legend(['sum'])
      + g.interval('1m')
      + h.runbook(['HbfenceVmFenceEscalated'])
      + g.pos(43, 8, 79, 8, 8),
      g.timeseries(
        'VM fence step durations',
        "Duration of the destroy-vms steps, per fence: select (find the pool's domains), destroy (from the kill until every QEMU process is gone, at most destroy_timeout_seconds, 30 s by default), unmount (force-unmount the pool). The mean over $__rate_interval (increase of _sum / increase of _count: exact for one fence per bar). Only steps that ran are drawn. Percentiles over the time range: the steps table.",
        [
          g.q(q.vmStepMean('$__rate_interval'), '{{step}} {{instance}}'),
        ]
      )
      + g.unit('s')
      + g.bars
      + g.legend(['max'])
      + g.interval('1m')
      + g.pos(44, 16, 79, 8, 8),
      g.stat(
        'VMs destroyed in the time range',
        "VMs destroyed per host and pool in the selected time range, pools with none left out. Counted across hbfence restarts (counter resets), including a destroy before a new process's first scrape and a pool whose series appeared within the range and may be gone since (a discovered pool leaves the targets once unmounted). increase() is capped at the series' largest value in the range (times its resets + 1), so a series that lasted only a scrape or two is not counted high. A destroy that no scrape saw before the pool's series ended is not counted.",
        [
          g.qi(q.eventsInRange(q.vmDestroyed) + ' > 0', '{{instance}} {{target}}'),
        ]
      )
      + g.steps([['orange', 1]])
      + g.decimals(0)
      + g.min(0)
      + g.noValue('no VMs destroyed')
      + g.textMode('value_and_name')
      + h.runbook(['HbfenceVmsFenced'])
      + g.pos(45, 0, 87, 8, 6),
      g.stat(
        'VM fence escalations in the time range',
        "destroy-vms escalations per host and reason in the selected time range, reasons with none left out. Counted across hbfence restarts, including an escalation before a new process's first scrape. Red: the pool's VMs were not fenced on their own; the host was (a reboot), or nothing was if the escalation only logged.",
        [
          g.qi(q.eventsInRange(q.vmEscalations) + ' > 0', '{{instance}} ({{reason}})'),
        ]
      )
      + g.steps([['red', 1]])
      + g.decimals(0)
      + g.min(0)
      + g.noValue('no escalations')
      + g.textMode('value_and_name')
      + h.runbook(['HbfenceVmFenceEscalated'])
      + g.pos(46, 8, 87, 8, 6),
      g.table(
        'VM fence steps in the time range',
        'destroy-vms steps per host in the selected time range: how many ran, their mean duration (_sum / _count) and p99 estimated from the buckets (0.01 s to 60 s; a step slower than 60 s shows as 60). Only steps that ran in the range are listed.',
        [
          g.qt('round(%s) > 0' % q.increase(q.vmStepCount, '$__range')),
          g.qt(q.vmStepMean('$__range')),
          g.qt(q.e('histogram_quantile(0.99, sum by (%(by)s, step, le) (increase(hbfence_fence_vm_step_duration_seconds_bucket{%(host)s}[$__range]))) > 0')),
        ],
        exclude=['Time'],
        order=[c.clusterLabel, 'instance', 'step', 'Value #A', 'Value #B', 'Value #C'],
        sortBy=['Mean']
      )
      + g.noValue('no VM fence in the time range')
      + g.overrides([
        h.clusterColumn,
        g.byName('instance', { displayName: 'Host' }),
        g.byName('step', { displayName: 'Step' }),
        g.byName('Value #A', { displayName: 'Steps', decimals: 0 }),
        g.byName('Value #B', { displayName: 'Mean', unit: 's' }),
        g.byName('Value #C', { displayName: 'p99', unit: 's' }),
      ])
      + g.pos(47, 16, 87, 8, 6),
      g.row('CloudStack peers') + g.pos(36, 0, 93, 24, 1),
      g.timeseries(
        'Peer heartbeat age vs stale threshold',
        "hbfence_peer_heartbeat_age_seconds: for each other host's hb-* file in the pool's KVMHA directory (targets with layout = \"cloudstack\" and peer_watch = true), the time since its value last advanced, on the watching host's monotonic clock. Peers written by hbfence stay near 0; CloudStack's agent script writes every 60 s, so its peers swing from 0 to about 60 s. A peer is stale when its file has not advanced for longer than %s. One peer climbing: that host is sick; most peers climbing: the pool or the network is split." % h.staleRule,
        [
          g.q(q.e('max by (%(by)s, target, peer) (hbfence_peer_heartbeat_age_seconds{%(target)s})'), '{{instance}} {{target}} {{peer}}'),
          g.q(q.stalePeerThreshold, 'stale threshold {{instance}}'),
        ]
      )
      + g.unit('s')
      + g.overrides([
        g.byRegexp('^stale threshold .*', g.referenceLine('red')),
      ])
      + h.runbook(['HbfencePeerHeartbeatStale', 'HbfencePoolPeersStale'])
      + g.pos(37, 0, 94, 16, 8),
      g.stat(
        'Unknown fence action in agent.properties',
        "hbfence_config_unknown_fence_action: 1 when agent.properties' kvm.heartbeat.fence.action names an action hbfence does not know and hbfence.toml sets none, so hbfence fell back to hard-reboot as CloudStack's helper does. Fix the property or set fence.action in hbfence.toml.",
        [
          g.qi(q.hostMax('hbfence_config_unknown_fence_action'), '{{instance}}'),
        ]
      )
      + g.mappings([['0', 'known', 'green'], ['1', 'UNKNOWN: hard-reboot', 'red']])
      + h.runbook(['HbfenceUnknownFenceAction'])
      + g.pos(38, 16, 94, 8, 4),
      g.bargauge(
        'Stale peers per pool (now)',
        'Share of the watched peers on each pool that are stale, as seen from each host. A peer is stale when its file has not advanced for longer than %s. Orange: some; red above %s (most peers frozen: the pool, not a peer).' % [h.staleRule, h.percent(c.poolPeersStaleRatio)],
        [
          g.qi(q.stalePeerShare, '{{instance}} {{target}}'),
        ],
        displayMode='gradient'
      )
      + g.unit('percentunit')
      + g.min(0)
      + g.steps([['orange', 0.01], ['red', c.poolPeersStaleRatio + 0.01]])  // red above the ratio
      + g.max(1)
      + h.runbook(['HbfencePoolPeersStale', 'HbfencePeerHeartbeatStale'])
      + g.pos(39, 16, 98, 8, 4),
      g.row('Configuration and build') + g.pos(28, 0, 102, 24, 1),
      g.table(
        'Configuration',
        'The effective configuration per host: fence action and policy (hbfence_config_info), fencing mode, heartbeat interval, timeout and lease.',
        [
          g.qt(q.e('max by (%(by)s, fence_action, policy) (hbfence_config_info{%(host)s})')),
          g.qt(q.hostMax('hbfence_fence_armed')),
          g.qt(q.hostMax('hbfence_heartbeat_interval_seconds')),
          g.qt(q.hostMax('hbfence_heartbeat_timeout_seconds')),
          g.qt(q.hostMax('hbfence_heartbeat_lease_seconds')),
        ],
        exclude=['Time', 'Value #A'],
        order=[c.clusterLabel, 'instance', 'fence_action', 'policy', 'Value #B', 'Value #C', 'Value #D', 'Value #E']
      )
      + g.overrides([
        h.clusterColumn,
        g.byName('instance', { displayName: 'Host' }),
        g.byName('fence_action', { displayName: 'Action' }),
        g.byName('policy', { displayName: 'Policy' }),
        g.byName('Value #B', { displayName: 'Fencing', mappings: g.valueMap([['1', 'armed', 'green'], ['0', 'log-only', 'orange']]), 'custom.cellOptions': { type: 'color-text' } }),
        g.byName('Value #C', { displayName: 'Interval', unit: 's' }),
        g.byName('Value #D', { displayName: 'Timeout', unit: 's' }),
        g.byName('Value #E', { displayName: 'Lease', unit: 's' }),
      ])
      + g.pos(29, 0, 103, 14, 6),
      g.table(
        'Build',
        "hbfence_build_info (version, git revision) and the daemon's uptime (process_start_time_seconds).",
        [
          g.qt(q.e('max by (%(by)s, version, revision) (hbfence_build_info{%(host)s})')),
          g.qt('time() - max by (%s) (%s)' % [q.vars.by, q.process('process_start_time_seconds')]),
        ],
        exclude=['Time', 'Value #A'],
        order=[c.clusterLabel, 'instance', 'version', 'revision', 'Value #B']
      )
      + g.overrides([
        h.clusterColumn,
        g.byName('instance', { displayName: 'Host' }),
        g.byName('version', { displayName: 'Version' }),
        g.byName('revision', { displayName: 'Revision' }),
        g.byName('Value #B', { displayName: 'Uptime', unit: 's' }),
      ])
      + g.pos(30, 14, 103, 10, 6),
      g.row('Process', [
        g.timeseries(
          'CPU',
          'rate(process_cpu_seconds_total): share of one core used by the hbfence process.',
          [
            g.q(q.e('rate(process_cpu_seconds_total{%(host)s}[$__rate_interval]) and on (%(by)s) hbfence_build_info{%(host)s}'), '{{instance}}'),
          ]
        )
        + g.unit('percentunit')
        + g.steps([['orange', 0.5]])
        + g.pos(32, 0, 110, 6, 8),
        g.timeseries(
          'Memory',
          'Resident (process_resident_memory_bytes) and virtual (process_virtual_memory_bytes) memory.',
          [
            g.q(q.process('process_resident_memory_bytes'), 'RSS {{instance}}'),
            g.q(q.process('process_virtual_memory_bytes'), 'virtual {{instance}}'),
          ]
        )
        + g.unit('bytes')
        + g.overrides([
          g.byRegexp('^virtual .*', { 'custom.axisPlacement': 'right' } + g.dashed),
        ])
        + g.pos(33, 6, 110, 6, 8),
        g.timeseries(
          'Open file descriptors vs max',
          'process_open_fds (left axis) and process_max_fds (right axis, dashed).',
          [
            g.q(q.process('process_open_fds'), 'open {{instance}}'),
            g.q(q.process('process_max_fds'), 'max {{instance}}'),
          ]
        )
        + g.decimals(0)
        + g.overrides([
          g.byRegexp('^max .*', { 'custom.axisPlacement': 'right', 'custom.fillOpacity': 0 } + g.dashed),
        ])
        + g.pos(34, 12, 110, 6, 8),
        g.timeseries(
          'File descriptors used',
          'process_open_fds / process_max_fds. Orange from 50 %, red from 80 %.',
          [
            g.q('(%s) / on (%s) group_left process_max_fds{%s}' % [q.process('process_open_fds'), q.vars.by, q.vars.host], '{{instance}}'),
          ]
        )
        + g.unit('percentunit')
        + g.dashedThresholds
        + g.custom({ axisSoftMax: 1 })
        + g.steps([['orange', 0.5], ['red', 0.8]])
        + g.pos(35, 18, 110, 6, 8),
      ], collapsed=true) + g.pos(31, 0, 109, 24, 1),
    ],
  );

{
  grafanaDashboards+:: {
    'hbfence-host.json': dashboard($._config),
  },
}
