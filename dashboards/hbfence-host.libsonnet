// hbfence / Host detail: one host (or several) in depth.
local g = import 'lib/grafana.libsonnet';

local d = {
  annotations: [
    g.annotation(
      'Log-only fence decisions',
      'red',
      '(sum by (instance, action) (increase(hbfence_fence_decisions_total{instance=~"$instance", action="log-only"}[$__rate_interval])) > 0) or (max by (instance, action) (hbfence_fence_decisions_total{instance=~"$instance", action="log-only"}) > 0 and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - 2 * $__interval_ms / 1000)) or (max by (instance, action) (hbfence_fence_decisions_total{instance=~"$instance", action="log-only"}) > 0 unless on (instance, action) hbfence_fence_decisions_total{instance=~"$instance", action="log-only"} offset $__rate_interval and on (instance) hbfence_build_info{instance=~"$instance"} offset $__rate_interval)',
      'Fence decision, log-only: host NOT fenced',
      '{{instance}} decided to fence ({{action}}); its VMs kept running',
      'instance,action',
    ),
    g.annotation(
      'Fence decisions (armed)',
      'orange',
      '(sum by (instance, action) (increase(hbfence_fence_decisions_total{instance=~"$instance", action!="log-only"}[$__rate_interval])) > 0) or (max by (instance, action) (hbfence_fence_decisions_total{instance=~"$instance", action!="log-only"}) > 0 and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - 2 * $__interval_ms / 1000)) or (max by (instance, action) (hbfence_fence_decisions_total{instance=~"$instance", action!="log-only"}) > 0 unless on (instance, action) hbfence_fence_decisions_total{instance=~"$instance", action!="log-only"} offset $__rate_interval and on (instance) hbfence_build_info{instance=~"$instance"} offset $__rate_interval)',
      'Fence decision',
      '{{instance}} decided to fence ({{action}})',
      'instance,action',
    ),
    g.annotation(
      'VMs destroyed (destroy-vms)',
      'purple',
      '((sum by (instance, target) (increase(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval])) <= sum by (instance, target) (max_over_time(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]) * (resets(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]) + 1)) or sum by (instance, target) (max_over_time(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]) * (resets(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]) + 1)) and sum by (instance, target) (increase(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]))) > 0) or (max by (instance, target) (hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}) > 0 and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - 2 * $__interval_ms / 1000)) or (max by (instance, target) (last_over_time(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval])) > 0 unless on (instance, target) hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"} offset $__rate_interval and on (instance) hbfence_build_info{instance=~"$instance"} offset $__rate_interval)',
      'VMs destroyed: pool fenced, host kept up',
      '{{instance}} destroyed the VMs on pool {{target}} (destroy-vms) and unmounted it',
      'instance,target',
    ),
    g.annotation(
      'VM fence escalations',
      'dark-red',
      '((sum by (instance, reason) (increase(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval])) <= sum by (instance, reason) (max_over_time(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]) * (resets(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]) + 1)) or sum by (instance, reason) (max_over_time(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]) * (resets(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]) + 1)) and sum by (instance, reason) (increase(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]))) > 0) or (max by (instance, reason) (hbfence_fence_vm_escalations_total{instance=~"$instance"}) > 0 and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - 2 * $__interval_ms / 1000))',
      'VM fence escalated to the host',
      "{{instance}}: destroy-vms could not fence a pool's VMs safely ({{reason}}) and ran its escalation",
      'instance,reason',
    ),
  ],
  variables: [
    g.datasourceVariable,
    g.queryVariable('instance', 'Host', 'label_values(hbfence_target_up, instance)'),
    g.queryVariable('target', 'Target', 'label_values(hbfence_target_up{instance=~"$instance"}, target)'),
  ],
  panels: [
    g.row('Status') + g.pos(1, 0, 0, 24, 1),
    g.stat(
      'Fence state',
      'none: no fence decision stands. PENDING: a decision stands and the host is still up (armed: the action runs or failed). SUPPRESSED: HbfenceFenceSuppressed pages for the host: a log-only decision within the last hour, even one that stood for milliseconds, or a decision still pending on a log-only host; nothing was done and the VMs kept running.',
      [
        g.qi('(0 * max by (instance) ((max by (instance) (hbfence_fence_pending{instance=~"$instance"}) == 1 and on (instance) max by (instance) (hbfence_fence_armed{instance=~"$instance"}) == 0) or (max by (instance, action) (increase(hbfence_fence_decisions_total{instance=~"$instance", action="log-only"}[1h])) > 0) or (max by (instance, action) (hbfence_fence_decisions_total{instance=~"$instance", action="log-only"}) > 0 and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - 3600)) or (max by (instance, action) (hbfence_fence_decisions_total{instance=~"$instance", action="log-only"}) > 0 unless on (instance, action) hbfence_fence_decisions_total{instance=~"$instance", action="log-only"} offset 1h and on (instance) hbfence_build_info{instance=~"$instance"} offset 1h)) + 2) or (max by (instance) (hbfence_fence_pending{instance=~"$instance"}) * (2 - max by (instance) (hbfence_fence_armed{instance=~"$instance"})))', '{{instance}}'),
      ]
    )
    + g.mappings([['0', 'none', 'green'], ['1', 'PENDING', 'red'], ['2', 'SUPPRESSED', 'dark-red']])
    + g.pos(2, 0, 1, 4, 4),
    g.stat(
      'Fencing mode',
      'hbfence_fence_armed: armed hosts act on a fence decision; log-only hosts only log, journal and count it.',
      [
        g.qi('max by (instance) (hbfence_fence_armed{instance=~"$instance"})', '{{instance}}'),
      ]
    )
    + g.mappings([['1', 'armed', 'green'], ['0', 'log-only', 'orange']])
    + g.pos(3, 4, 1, 4, 4),
    g.stat(
      'Targets down',
      'Heartbeat targets without a successful write within the lease (hbfence_target_up = 0).',
      [
        g.qi('sum by (instance) (1 - max by (instance, target) (hbfence_target_up{instance=~"$instance", target=~"$target"}))', '{{instance}}'),
      ]
    )
    + g.steps([['red', 1]])
    + g.decimals(0)
    + g.pos(4, 8, 1, 3, 4),
    g.stat(
      'Stuck writes',
      'Heartbeat writes still outstanding past the timeout (hung storage, D-state).',
      [
        g.qi('sum by (instance) (hbfence_heartbeat_stuck_writes{instance=~"$instance", target=~"$target"})', '{{instance}}'),
      ]
    )
    + g.steps([['red', 1]])
    + g.decimals(0)
    + g.pos(5, 11, 1, 3, 4),
    g.stat(
      'Sidecar',
      'Prometheus scrape state of the hbfence sidecar (up{job="hbfence"}).',
      [
        g.qi('max by (instance) (up{job="hbfence", instance=~"$instance"})', '{{instance}}'),
      ]
    )
    + g.mappings([['1', 'up', 'green'], ['0', 'DOWN', 'red']])
    + g.pos(6, 14, 1, 3, 4),
    g.stat(
      'Last reload',
      'hbfence_config_last_reload_successful: 1 if the last SIGHUP reload succeeded (or none was attempted).',
      [
        g.qi('max by (instance) (hbfence_config_last_reload_successful{instance=~"$instance"})', '{{instance}}'),
      ]
    )
    + g.mappings([['1', 'ok', 'green'], ['0', 'FAILED', 'orange']])
    + g.pos(7, 17, 1, 3, 4),
    g.stat(
      'Last fence',
      'Time of the newest fence on record that acted (hbfence_last_fence_timestamp_seconds: the newest fence journal entry whose action is not log-only; log-only decisions do not set it).',
      [
        g.qi('max by (instance) (hbfence_last_fence_timestamp_seconds{instance=~"$instance"}) * 1000', '{{instance}}'),
      ]
    )
    + g.unit('dateTimeFromNow')
    + g.mappings([['0', 'never', 'text']])
    + g.colorMode('none')
    + g.pos(8, 20, 1, 4, 4),
    g.row('Heartbeat write latency') + g.pos(9, 0, 5, 24, 1),
    g.heatmap(
      'Write latency heatmap: $target',
      'Completed heartbeat writes per latency bucket (rate of hbfence_heartbeat_write_duration_seconds_bucket), summed over the selected hosts. The top finite bucket is the configured timeout; writes that completed later land in +Inf.',
      [
        g.q('sum by (le) (rate(hbfence_heartbeat_write_duration_seconds_bucket{instance=~"$instance", target=~"$target"}[$__rate_interval]))', '{{le}}'),
      ]
    )
    + { repeat: 'target', repeatDirection: 'h', maxPerRow: 3 }
    + g.pos(10, 0, 6, 8, 8),
    g.timeseries(
      'Write latency p50 / p90 / p99 vs timeout',
      'Quantiles of completed heartbeat writes per host and target, the mean (_sum / _count), the configured timeout (red, dashed) and 80 % of it (orange, dashed). A write slower than the timeout counts as a failed attempt.',
      [
        g.q('histogram_quantile(0.5, sum by (instance, target, le) (rate(hbfence_heartbeat_write_duration_seconds_bucket{instance=~"$instance", target=~"$target"}[$__rate_interval])))', 'p50 {{instance}} {{target}}'),
        g.q('histogram_quantile(0.9, sum by (instance, target, le) (rate(hbfence_heartbeat_write_duration_seconds_bucket{instance=~"$instance", target=~"$target"}[$__rate_interval])))', 'p90 {{instance}} {{target}}'),
        g.q('histogram_quantile(0.99, sum by (instance, target, le) (rate(hbfence_heartbeat_write_duration_seconds_bucket{instance=~"$instance", target=~"$target"}[$__rate_interval])))', 'p99 {{instance}} {{target}}'),
        g.q('sum by (instance, target) (rate(hbfence_heartbeat_write_duration_seconds_sum{instance=~"$instance", target=~"$target"}[$__rate_interval])) / sum by (instance, target) (rate(hbfence_heartbeat_write_duration_seconds_count{instance=~"$instance", target=~"$target"}[$__rate_interval]))', 'mean {{instance}} {{target}}'),
        g.q('max by (instance) (hbfence_heartbeat_timeout_seconds{instance=~"$instance"})', 'timeout {{instance}}'),
        g.q('0.8 * max by (instance) (hbfence_heartbeat_timeout_seconds{instance=~"$instance"})', '80% of timeout {{instance}}'),
      ]
    )
    + g.unit('s')
    + g.legend(['max', 'mean', 'lastNotNull'])
    + g.overrides([
      g.byRegexp('^timeout .*', { 'custom.fillOpacity': 0, 'custom.lineWidth': 2, 'custom.stacking': { mode: 'none', group: 'A' } } + g.color('red') + g.dashed),
      g.byRegexp('^80% of timeout .*', { 'custom.fillOpacity': 0, 'custom.lineWidth': 2, 'custom.stacking': { mode: 'none', group: 'A' } } + g.color('orange') + g.dashed),
    ])
    + g.pos(11, 0, 14, 12, 9),
    g.timeseries(
      'p99 write latency as a share of the timeout',
      "p99 divided by the host's configured hbfence_heartbeat_timeout_seconds. Thresholds: yellow 50 %, orange 80 %, red 100 % (writes are timing out).",
      [
        g.q('histogram_quantile(0.99, sum by (instance, target, le) (rate(hbfence_heartbeat_write_duration_seconds_bucket{instance=~"$instance", target=~"$target"}[$__rate_interval]))) / on (instance) group_left max by (instance) (hbfence_heartbeat_timeout_seconds{instance=~"$instance"})', '{{instance}} {{target}}'),
      ]
    )
    + g.unit('percentunit')
    + g.dashedThresholds
    + g.custom({ axisSoftMax: 1 })
    + g.steps([['yellow', 0.5], ['orange', 0.8], ['red', 1]])
    + g.pos(12, 12, 14, 12, 9),
    g.timeseries(
      'Heartbeat attempts and completed writes',
      'Attempts per second (hbfence_heartbeat_writes_total, including intervals skipped because a write was stuck), completed writes (histogram _count) and the expected rate 1 / interval.',
      [
        g.q('sum by (instance, target) (rate(hbfence_heartbeat_writes_total{instance=~"$instance", target=~"$target"}[$__rate_interval]))', 'attempts {{instance}} {{target}}'),
        g.q('sum by (instance, target) (rate(hbfence_heartbeat_write_duration_seconds_count{instance=~"$instance", target=~"$target"}[$__rate_interval]))', 'completed {{instance}} {{target}}'),
        g.q('1 / max by (instance) (hbfence_heartbeat_interval_seconds{instance=~"$instance"})', 'expected {{instance}}'),
      ]
    )
    + g.unit('ops')
    + g.overrides([
      g.byRegexp('^expected .*', { 'custom.fillOpacity': 0, 'custom.lineWidth': 2, 'custom.stacking': { mode: 'none', group: 'A' } } + g.color('text') + g.dashed),
    ])
    + g.pos(13, 0, 23, 12, 8),
    g.timeseries(
      'Failed attempts ratio',
      '(timeouts + errors) / attempts per host and target.',
      [
        g.q('(sum by (instance, target) (rate(hbfence_heartbeat_write_timeouts_total{instance=~"$instance", target=~"$target"}[$__rate_interval])) + sum by (instance, target) (rate(hbfence_heartbeat_write_errors_total{instance=~"$instance", target=~"$target"}[$__rate_interval]))) / (sum by (instance, target) (rate(hbfence_heartbeat_writes_total{instance=~"$instance", target=~"$target"}[$__rate_interval])) > 0)', '{{instance}} {{target}}'),
      ]
    )
    + g.unit('percentunit')
    + g.dashedThresholds
    + g.custom({ axisSoftMax: 0.1 })
    + g.steps([['orange', 0.05], ['red', 0.5]])
    + g.pos(14, 12, 23, 12, 8),
    g.row('Failures and lease') + g.pos(15, 0, 31, 24, 1),
    g.timeseries(
      'Timeouts and errors by reason',
      'Failed heartbeat attempts per interval: timeouts (hbfence_heartbeat_write_timeouts_total) and errors by reason (io_error, no_space, read_only, stale_handle, not_mounted, other). Only non-zero series are drawn: empty means no failures.',
      [
        g.q('sum by (instance, target) (increase(hbfence_heartbeat_write_timeouts_total{instance=~"$instance", target=~"$target"}[$__interval])) > 0', 'timeout {{instance}} {{target}}'),
        g.q('sum by (instance, target, reason) (increase(hbfence_heartbeat_write_errors_total{instance=~"$instance", target=~"$target"}[$__interval])) > 0', '{{reason}} {{instance}} {{target}}'),
      ]
    )
    + g.bars
    + g.stacked
    + g.decimals(0)
    + g.legend(['sum'])
    + g.overrides([
      g.byRegexp('^timeout .*', g.color('red')),
    ])
    + { interval: '1m' }
    + g.pos(16, 0, 32, 12, 8),
    g.timeseries(
      'Consecutive failures',
      'Failed heartbeat attempts since the last success, with lease / interval (dashed): about the number of failed attempts after which the target is down.',
      [
        g.q('max by (instance, target) (hbfence_heartbeat_consecutive_failures{instance=~"$instance", target=~"$target"})', '{{instance}} {{target}}'),
        g.q('max by (instance) (hbfence_heartbeat_lease_seconds{instance=~"$instance"}) / max by (instance) (hbfence_heartbeat_interval_seconds{instance=~"$instance"})', 'lease / interval {{instance}}'),
      ]
    )
    + g.stepAfter
    + g.steps([['orange', 1]])
    + g.decimals(0)
    + g.overrides([
      g.byRegexp('^lease / interval .*', { 'custom.fillOpacity': 0, 'custom.lineWidth': 2, 'custom.stacking': { mode: 'none', group: 'A' } } + g.color('red') + g.dashed),
    ])
    + g.pos(17, 12, 32, 12, 8),
    g.timeseries(
      'Time since last successful write vs lease',
      'time() − hbfence_heartbeat_last_success_timestamp_seconds per host and target; the lease (red, dashed) and the interval (dashed). Past the lease the target is down and the fence policy applies. Includes up to one scrape interval of lag.',
      [
        g.q('time() - max by (instance, target) (hbfence_heartbeat_last_success_timestamp_seconds{instance=~"$instance", target=~"$target"} > 0)', '{{instance}} {{target}}'),
        g.q('max by (instance) (hbfence_heartbeat_lease_seconds{instance=~"$instance"})', 'lease {{instance}}'),
        g.q('max by (instance) (hbfence_heartbeat_interval_seconds{instance=~"$instance"})', 'interval {{instance}}'),
      ]
    )
    + g.unit('s')
    + g.overrides([
      g.byRegexp('^lease .*', { 'custom.fillOpacity': 0, 'custom.lineWidth': 2, 'custom.stacking': { mode: 'none', group: 'A' } } + g.color('red') + g.dashed),
      g.byRegexp('^interval .*', { 'custom.fillOpacity': 0, 'custom.lineWidth': 2, 'custom.stacking': { mode: 'none', group: 'A' } } + g.color('text') + g.dashed),
    ])
    + g.pos(18, 0, 40, 12, 8),
    g.stateTimeline(
      'Target up',
      'hbfence_target_up: 1 while the target has had a successful write within the lease.',
      [
        g.q('max by (instance, target) (hbfence_target_up{instance=~"$instance", target=~"$target"})', '{{instance}} {{target}}'),
      ]
    )
    + g.mappings([['1', 'up', 'green'], ['0', 'down', 'red']])
    + g.pos(19, 12, 40, 12, 8),
    g.bargauge(
      'Lease used (now)',
      'Time since the last successful write as a share of the lease. Yellow 50 %, orange 80 %, red 100 % (target down).',
      [
        g.qi('(time() - max by (instance, target) (hbfence_heartbeat_last_success_timestamp_seconds{instance=~"$instance", target=~"$target"} > 0)) / on (instance) group_left max by (instance) (hbfence_heartbeat_lease_seconds{instance=~"$instance"})', '{{instance}} {{target}}'),
      ],
      displayMode='gradient'
    )
    + g.unit('percentunit')
    + g.min(0)
    + g.steps([['yellow', 0.5], ['orange', 0.8], ['red', 1]])
    + g.max(1)
    + g.pos(20, 0, 48, 12, 7),
    g.timeseries(
      'Stuck writes',
      'Heartbeat writes still outstanding past the timeout (the write is blocked in the kernel: hung NFS, D-state). Any is red.',
      [
        g.q('max by (instance, target) (hbfence_heartbeat_stuck_writes{instance=~"$instance", target=~"$target"})', '{{instance}} {{target}}'),
      ]
    )
    + g.stepAfter
    + g.dashedThresholds
    + g.steps([['red', 1]])
    + g.decimals(0)
    + g.pos(21, 12, 48, 12, 7),
    g.row('Fencing') + g.pos(22, 0, 55, 24, 1),
    g.timeseries(
      'Fence decisions by action',
      'Fence decisions, by configured action: increase of hbfence_fence_decisions_total over $__rate_interval, one scrape interval longer than a bar so that no decision falls between two bars; one decision can show in two neighbouring bars. Red: log-only (the host was not fenced). Exact counts: the decisions-in-range panel; each decision is also marked on the time axis.',
      [
        g.q('sum by (instance, action) (increase(hbfence_fence_decisions_total{instance=~"$instance"}[$__rate_interval]))', '{{action}} {{instance}}'),
      ]
    )
    + g.bars
    + g.stacked
    + g.decimals(0)
    + g.legend(['max'])
    + g.overrides([
      g.byRegexp('.*log-only.*', g.color('red')),
    ])
    + { interval: '1m' }
    + g.pos(23, 0, 56, 8, 8),
    g.timeseries(
      'Fence action steps by result',
      "Fence action steps per interval (hbfence_fence_actions_total) by action and result: success, logged, failed, timeout, refused, rate_limited, escalated. Every step the configured action can produce is exported from the start at 0; this is the counter's change over the interval (a series new in it, e.g. after a reload to another action, counts in full), not increase(); a daemon restart inside an interval hides that interval's steps.",
      [
        g.q('sum by (instance, action, result) (clamp_min(hbfence_fence_actions_total{instance=~"$instance"} - (hbfence_fence_actions_total{instance=~"$instance"} offset $__interval or hbfence_fence_actions_total{instance=~"$instance"} * 0), 0))', '{{action}} {{result}} {{instance}}'),
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
    + { interval: '1m' }
    + g.pos(24, 8, 56, 8, 8),
    g.stateTimeline(
      'Fence pending / armed',
      'hbfence_fence_pending (a fence decision stands and the host is still up) and hbfence_fence_armed (0 = log-only).',
      [
        g.q('max by (instance) (hbfence_fence_pending{instance=~"$instance"})', 'pending {{instance}}'),
        g.q('max by (instance) (hbfence_fence_armed{instance=~"$instance"})', 'armed {{instance}}'),
      ]
    )
    + g.overrides([
      g.byRegexp('^pending .*', { mappings: g.valueMap([['0', 'no', 'green'], ['1', 'PENDING', 'red']]) }),
      g.byRegexp('^armed .*', { mappings: g.valueMap([['1', 'armed', 'green'], ['0', 'log-only', 'orange']]) }),
    ])
    + g.pos(25, 16, 56, 8, 8),
    g.stat(
      'Fence decisions in the time range',
      "Fence decisions per host and configured action in the selected time range. Counted across hbfence restarts (counter resets), including a decision before a new process's first scrape or right after a reload (the counter of a process or series that started within the range). Red: log-only, the host was not fenced.",
      [
        g.qi('round(max by (instance, action) (label_replace(sum by (instance, action) (increase(hbfence_fence_decisions_total{instance=~"$instance"}[$__range])), "from", "increase", "instance", ".*") or label_replace(max by (instance, action) (hbfence_fence_decisions_total{instance=~"$instance"}) and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - $__range_s), "from", "new_process", "instance", ".*") or label_replace(max by (instance, action) (hbfence_fence_decisions_total{instance=~"$instance"}) unless on (instance, action) hbfence_fence_decisions_total{instance=~"$instance"} offset $__range and on (instance) hbfence_build_info{instance=~"$instance"} offset $__range, "from", "new_series", "instance", ".*")))', '{{instance}} ({{action}})'),
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
    + g.pos(40, 0, 64, 8, 6),
    g.timeseries(
      'Fence journal errors',
      'Fence journal appends that failed (hbfence_fence_journal_errors_total); the action ran anyway, but the decision is not on record.',
      [
        g.q('sum by (instance) (increase(hbfence_fence_journal_errors_total{instance=~"$instance"}[$__interval]))', '{{instance}}'),
      ]
    )
    + g.bars
    + g.steps([['red', 1]])
    + g.decimals(0)
    + g.legend(['sum'])
    + { interval: '1m' }
    + g.pos(26, 8, 64, 8, 6),
    g.timeseries(
      'Config reloads by result',
      'SIGHUP reloads per interval (hbfence_config_reloads_total) by result.',
      [
        g.q('sum by (instance, result) (increase(hbfence_config_reloads_total{instance=~"$instance"}[$__interval]))', '{{result}} {{instance}}'),
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
    + { interval: '1m' }
    + g.pos(27, 16, 64, 8, 6),
    g.row('VM fencing (destroy-vms)') + g.pos(41, 0, 70, 24, 1),
    g.timeseries(
      'VMs destroyed per pool',
      "VMs (libvirt domains) that fence action destroy-vms destroyed, per host and failed pool (hbfence_fence_vm_domains_destroyed_total): increase() over $__rate_interval, one scrape interval longer than a bar, so one fence can show in two neighbouring bars; plus the counter of a process that started within the last two bars and of a series new in the window (a pool found by discover_pools leaves the targets once unmounted, so its series can end seconds after the destroy). increase() is capped at the series' largest value in the window (times its resets + 1), so a series that ends right after the destroy is not extrapolated upward. Only non-zero bars are drawn: empty means no VM destroyed. A destroy that escalated counts no domains here (see the escalations panel). Exact counts: the VMs-destroyed-in-range panel; each destroy is also marked on the time axis.",
      [
        g.q('((sum by (instance, target) (increase(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval])) <= sum by (instance, target) (max_over_time(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]) * (resets(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]) + 1)) or sum by (instance, target) (max_over_time(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]) * (resets(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]) + 1)) and sum by (instance, target) (increase(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval]))) > 0) or (max by (instance, target) (hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}) > 0 and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - 2 * $__interval_ms / 1000)) or (max by (instance, target) (last_over_time(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__rate_interval])) > 0 unless on (instance, target) hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"} offset $__rate_interval and on (instance) hbfence_build_info{instance=~"$instance"} offset $__rate_interval)', '{{target}} {{instance}}'),
      ]
    )
    + g.bars
    + g.stacked
    + g.decimals(0)
    + g.legend(['sum'])
    + { interval: '1m' }
    + g.pos(42, 0, 71, 8, 8),
    g.timeseries(
      'VM fence escalations by reason',
      'destroy-vms fences that could not be done safely and ran [fence] destroy_escalation instead (hard-reboot by default), by reason: no_mount, libvirt_error, host_page_cache, unknown_source, processes_survived, unmount_failed (hbfence_fence_vm_escalations_total, every reason exported at 0 from the start). increase() over $__rate_interval, plus the counter of a process that started within the last two bars. Each one pages (HbfenceVmFenceEscalated). An escalation to hard-reboot usually takes the host down before a scrape sees it; whether the escalation only logged shows in the action steps panel (log-only logged).',
      [
        g.q('((sum by (instance, reason) (increase(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval])) <= sum by (instance, reason) (max_over_time(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]) * (resets(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]) + 1)) or sum by (instance, reason) (max_over_time(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]) * (resets(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]) + 1)) and sum by (instance, reason) (increase(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__rate_interval]))) > 0) or (max by (instance, reason) (hbfence_fence_vm_escalations_total{instance=~"$instance"}) > 0 and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - 2 * $__interval_ms / 1000))', '{{reason}} {{instance}}'),
      ]
    )
    + g.bars
    + g.stacked
    + g.decimals(0)
    + g.legend(['sum'])
    + { interval: '1m' }
    + g.pos(43, 8, 71, 8, 8),
    g.timeseries(
      'VM fence step durations',
      "Duration of the destroy-vms steps, per fence: select (find the pool's domains), destroy (from the kill until every QEMU process is gone, at most destroy_timeout_seconds, 30 s by default), unmount (force-unmount the pool). The mean over $__rate_interval (increase of _sum / increase of _count: exact for one fence per bar). Only steps that ran are drawn. Percentiles over the time range: the steps table.",
      [
        g.q('sum by (instance, step) (increase(hbfence_fence_vm_step_duration_seconds_sum{instance=~"$instance"}[$__rate_interval])) / sum by (instance, step) (increase(hbfence_fence_vm_step_duration_seconds_count{instance=~"$instance"}[$__rate_interval])) > 0', '{{step}} {{instance}}'),
      ]
    )
    + g.unit('s')
    + g.bars
    + g.legend(['max'])
    + { interval: '1m' }
    + g.pos(44, 16, 71, 8, 8),
    g.stat(
      'VMs destroyed in the time range',
      "VMs destroyed per host and pool in the selected time range, pools with none left out. Counted across hbfence restarts (counter resets), including a destroy before a new process's first scrape and a pool whose series appeared within the range and may be gone since (a discovered pool leaves the targets once unmounted). increase() is capped at the series' largest value in the range (times its resets + 1), so a series that lasted only a scrape or two is not counted high. A destroy that no scrape saw before the pool's series ended is not counted.",
      [
        g.qi('round(max by (instance, target) (label_replace((sum by (instance, target) (increase(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__range])) <= sum by (instance, target) (max_over_time(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__range]) * (resets(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__range]) + 1)) or sum by (instance, target) (max_over_time(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__range]) * (resets(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__range]) + 1)) and sum by (instance, target) (increase(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__range]))), "from", "increase", "instance", ".*") or label_replace(max by (instance, target) (hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}) and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - $__range_s), "from", "new_process", "instance", ".*") or label_replace(max by (instance, target) (last_over_time(hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"}[$__range])) unless on (instance, target) hbfence_fence_vm_domains_destroyed_total{instance=~"$instance", target=~"$target"} offset $__range and on (instance) hbfence_build_info{instance=~"$instance"} offset $__range, "from", "new_series", "instance", ".*"))) > 0', '{{instance}} {{target}}'),
      ]
    )
    + g.steps([['orange', 1]])
    + g.decimals(0)
    + g.min(0)
    + g.noValue('no VMs destroyed')
    + g.textMode('value_and_name')
    + g.pos(45, 0, 79, 8, 6),
    g.stat(
      'VM fence escalations in the time range',
      "destroy-vms escalations per host and reason in the selected time range, reasons with none left out. Counted across hbfence restarts, including an escalation before a new process's first scrape. Red: the pool's VMs were not fenced on their own; the host was (a reboot), or nothing was if the escalation only logged.",
      [
        g.qi('round(max by (instance, reason) (label_replace((sum by (instance, reason) (increase(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__range])) <= sum by (instance, reason) (max_over_time(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__range]) * (resets(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__range]) + 1)) or sum by (instance, reason) (max_over_time(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__range]) * (resets(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__range]) + 1)) and sum by (instance, reason) (increase(hbfence_fence_vm_escalations_total{instance=~"$instance"}[$__range]))), "from", "increase", "instance", ".*") or label_replace(max by (instance, reason) (hbfence_fence_vm_escalations_total{instance=~"$instance"}) and on (instance) (max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info) > time() - $__range_s), "from", "new_process", "instance", ".*"))) > 0', '{{instance}} ({{reason}})'),
      ]
    )
    + g.steps([['red', 1]])
    + g.decimals(0)
    + g.min(0)
    + g.noValue('no escalations')
    + g.textMode('value_and_name')
    + g.pos(46, 8, 79, 8, 6),
    g.table(
      'VM fence steps in the time range',
      'destroy-vms steps per host in the selected time range: how many ran, their mean duration (_sum / _count) and p99 estimated from the buckets (0.01 s to 60 s; a step slower than 60 s shows as 60). Only steps that ran in the range are listed.',
      [
        g.qt('round((sum by (instance, step) (increase(hbfence_fence_vm_step_duration_seconds_count{instance=~"$instance"}[$__range])) <= sum by (instance, step) (max_over_time(hbfence_fence_vm_step_duration_seconds_count{instance=~"$instance"}[$__range]) * (resets(hbfence_fence_vm_step_duration_seconds_count{instance=~"$instance"}[$__range]) + 1)) or sum by (instance, step) (max_over_time(hbfence_fence_vm_step_duration_seconds_count{instance=~"$instance"}[$__range]) * (resets(hbfence_fence_vm_step_duration_seconds_count{instance=~"$instance"}[$__range]) + 1)) and sum by (instance, step) (increase(hbfence_fence_vm_step_duration_seconds_count{instance=~"$instance"}[$__range])))) > 0'),
        g.qt('sum by (instance, step) (increase(hbfence_fence_vm_step_duration_seconds_sum{instance=~"$instance"}[$__range])) / sum by (instance, step) (increase(hbfence_fence_vm_step_duration_seconds_count{instance=~"$instance"}[$__range])) > 0'),
        g.qt('histogram_quantile(0.99, sum by (instance, step, le) (increase(hbfence_fence_vm_step_duration_seconds_bucket{instance=~"$instance"}[$__range]))) > 0'),
      ],
      exclude=['Time'],
      order=['instance', 'step', 'Value #A', 'Value #B', 'Value #C'],
      sortBy=['Mean']
    )
    + g.noValue('no VM fence in the time range')
    + g.overrides([
      g.byName('instance', { displayName: 'Host' }),
      g.byName('step', { displayName: 'Step' }),
      g.byName('Value #A', { displayName: 'Steps', decimals: 0 }),
      g.byName('Value #B', { displayName: 'Mean', unit: 's' }),
      g.byName('Value #C', { displayName: 'p99', unit: 's' }),
    ])
    + g.pos(47, 16, 79, 8, 6),
    g.row('CloudStack peers') + g.pos(36, 0, 85, 24, 1),
    g.timeseries(
      'Peer heartbeat age vs stale threshold',
      "hbfence_peer_heartbeat_age_seconds: for each other host's hb-* file in the pool's KVMHA directory (targets with layout = \"cloudstack\" and peer_watch = true), the time since its value last advanced, on the watching host's monotonic clock. Peers written by hbfence stay near 0; CloudStack's agent script writes every 60 s, so its peers swing from 0 to about 60 s. A peer is stale when its file has not advanced for longer than the larger of 180 s (three writes of CloudStack's agent script, every 60 s) and the watching host's lease, as in the alert rules. One peer climbing: that host is sick; most peers climbing: the pool or the network is split.",
      [
        g.q('max by (instance, target, peer) (hbfence_peer_heartbeat_age_seconds{instance=~"$instance", target=~"$target"})', '{{instance}} {{target}} {{peer}}'),
        g.q('clamp_min(max by (instance) (hbfence_heartbeat_lease_seconds{instance=~"$instance"}), 180)', 'stale threshold {{instance}}'),
      ]
    )
    + g.unit('s')
    + g.overrides([
      g.byRegexp('^stale threshold .*', { 'custom.fillOpacity': 0, 'custom.lineWidth': 2, 'custom.stacking': { mode: 'none', group: 'A' } } + g.color('red') + g.dashed),
    ])
    + g.pos(37, 0, 86, 16, 8),
    g.stat(
      'Unknown fence action in agent.properties',
      "hbfence_config_unknown_fence_action: 1 when agent.properties' kvm.heartbeat.fence.action names an action hbfence does not know and hbfence.toml sets none, so hbfence fell back to hard-reboot as CloudStack's helper does. Fix the property or set fence.action in hbfence.toml.",
      [
        g.qi('max by (instance) (hbfence_config_unknown_fence_action{instance=~"$instance"})', '{{instance}}'),
      ]
    )
    + g.mappings([['0', 'known', 'green'], ['1', 'UNKNOWN: hard-reboot', 'red']])
    + g.pos(38, 16, 86, 8, 4),
    g.bargauge(
      'Stale peers per pool (now)',
      "Share of the watched peers on each pool that are stale, as seen from each host. A peer is stale when its file has not advanced for longer than the larger of 180 s (three writes of CloudStack's agent script, every 60 s) and the watching host's lease, as in the alert rules. Orange: some; red above 50 % (most peers frozen: the pool, not a peer).",
      [
        g.qi('avg by (instance, target) (max by (instance, target, peer) (hbfence_peer_heartbeat_age_seconds{instance=~"$instance", target=~"$target"}) > bool on (instance) group_left () clamp_min(max by (instance) (hbfence_heartbeat_lease_seconds{instance=~"$instance"}), 180))', '{{instance}} {{target}}'),
      ],
      displayMode='gradient'
    )
    + g.unit('percentunit')
    + g.min(0)
    + g.steps([['orange', 0.01], ['red', 0.51]])
    + g.max(1)
    + g.pos(39, 16, 90, 8, 4),
    g.row('Configuration and build') + g.pos(28, 0, 94, 24, 1),
    g.table(
      'Configuration',
      'The effective configuration per host: fence action and policy (hbfence_config_info), fencing mode, heartbeat interval, timeout and lease.',
      [
        g.qt('max by (instance, fence_action, policy) (hbfence_config_info{instance=~"$instance"})'),
        g.qt('max by (instance) (hbfence_fence_armed{instance=~"$instance"})'),
        g.qt('max by (instance) (hbfence_heartbeat_interval_seconds{instance=~"$instance"})'),
        g.qt('max by (instance) (hbfence_heartbeat_timeout_seconds{instance=~"$instance"})'),
        g.qt('max by (instance) (hbfence_heartbeat_lease_seconds{instance=~"$instance"})'),
      ],
      exclude=['Time', 'Value #A'],
      order=['instance', 'fence_action', 'policy', 'Value #B', 'Value #C', 'Value #D', 'Value #E']
    )
    + g.overrides([
      g.byName('instance', { displayName: 'Host' }),
      g.byName('fence_action', { displayName: 'Action' }),
      g.byName('policy', { displayName: 'Policy' }),
      g.byName('Value #B', { displayName: 'Fencing', mappings: g.valueMap([['1', 'armed', 'green'], ['0', 'log-only', 'orange']]), 'custom.cellOptions': { type: 'color-text' } }),
      g.byName('Value #C', { displayName: 'Interval', unit: 's' }),
      g.byName('Value #D', { displayName: 'Timeout', unit: 's' }),
      g.byName('Value #E', { displayName: 'Lease', unit: 's' }),
    ])
    + g.pos(29, 0, 95, 14, 6),
    g.table(
      'Build',
      "hbfence_build_info (version, git revision) and the daemon's uptime (process_start_time_seconds).",
      [
        g.qt('max by (instance, version, revision) (hbfence_build_info{instance=~"$instance"})'),
        g.qt('time() - max by (instance) (process_start_time_seconds{instance=~"$instance"} and on (instance) hbfence_build_info)'),
      ],
      exclude=['Time', 'Value #A'],
      order=['instance', 'version', 'revision', 'Value #B']
    )
    + g.overrides([
      g.byName('instance', { displayName: 'Host' }),
      g.byName('version', { displayName: 'Version' }),
      g.byName('revision', { displayName: 'Revision' }),
      g.byName('Value #B', { displayName: 'Uptime', unit: 's' }),
    ])
    + g.pos(30, 14, 95, 10, 6),
    g.row('Process', [
      g.timeseries(
        'CPU',
        'rate(process_cpu_seconds_total): share of one core used by the hbfence process.',
        [
          g.q('rate(process_cpu_seconds_total{instance=~"$instance"}[$__rate_interval]) and on (instance) hbfence_build_info', '{{instance}}'),
        ]
      )
      + g.unit('percentunit')
      + g.steps([['orange', 0.5]])
      + g.pos(32, 0, 102, 6, 8),
      g.timeseries(
        'Memory',
        'Resident (process_resident_memory_bytes) and virtual (process_virtual_memory_bytes) memory.',
        [
          g.q('process_resident_memory_bytes{instance=~"$instance"} and on (instance) hbfence_build_info', 'RSS {{instance}}'),
          g.q('process_virtual_memory_bytes{instance=~"$instance"} and on (instance) hbfence_build_info', 'virtual {{instance}}'),
        ]
      )
      + g.unit('bytes')
      + g.overrides([
        g.byRegexp('^virtual .*', { 'custom.axisPlacement': 'right' } + g.dashed),
      ])
      + g.pos(33, 6, 102, 6, 8),
      g.timeseries(
        'Open file descriptors vs max',
        'process_open_fds (left axis) and process_max_fds (right axis, dashed).',
        [
          g.q('process_open_fds{instance=~"$instance"} and on (instance) hbfence_build_info', 'open {{instance}}'),
          g.q('process_max_fds{instance=~"$instance"} and on (instance) hbfence_build_info', 'max {{instance}}'),
        ]
      )
      + g.decimals(0)
      + g.overrides([
        g.byRegexp('^max .*', { 'custom.axisPlacement': 'right', 'custom.fillOpacity': 0 } + g.dashed),
      ])
      + g.pos(34, 12, 102, 6, 8),
      g.timeseries(
        'File descriptors used',
        'process_open_fds / process_max_fds. Orange from 50 %, red from 80 %.',
        [
          g.q('(process_open_fds{instance=~"$instance"} and on (instance) hbfence_build_info) / on (instance) group_left process_max_fds{instance=~"$instance"}', '{{instance}}'),
        ]
      )
      + g.unit('percentunit')
      + g.dashedThresholds
      + g.custom({ axisSoftMax: 1 })
      + g.steps([['orange', 0.5], ['red', 0.8]])
      + g.pos(35, 18, 102, 6, 8),
    ], collapsed=true) + g.pos(31, 0, 101, 24, 1),
  ],
};

{
  grafanaDashboards+:: {
    'hbfence-host.json': g.dashboard(
      uid='hbfence-host',
      title='hbfence / Host detail',
      description='One or more hbfence hosts in detail: heartbeat write latency per target, failures by reason, lease, stuck writes, fence decisions and actions, VM fences (destroy-vms), configuration, build and process.',
      tags=$._config.dashboardTags,
      refresh=$._config.refresh,
      time=$._config.timeFrom,
      variables=d.variables,
      annotations=d.annotations,
      panels=d.panels,
    ),
  },
}
