// SPDX-License-Identifier: Apache-2.0

// Recording rules of the hbfence mixin (prometheusRules): the group hbfence.recording,
// evaluated before the alerts, which read some of these series.
//
// Conventions (the alerts follow them too)
//   - The host is the scrape `instance`; `target` is a heartbeat target (a storage
//     pool) and carries the same name on every host that uses that pool.
//   - Every hbfence series is selected with _config.hbfenceSelector (job="hbfence").
//   - Per-host series are first reduced with `max by (instance, ...)` so a duplicate
//     scrape of one daemon cannot break a one-to-one match.
//   - Counters go through increase()/rate(), which handle daemon restarts (resets).
{
  prometheusRules+:: {
    local c = $._config,
    groups+: [
      {
        name: 'hbfence.recording',
        rules: [
          // Heartbeat write latency per host and target (completed writes, 5m window).
          // A write that completed after the timeout lands in +Inf and reads as the timeout.
          {
            record: 'instance_target:hbfence_heartbeat_write_duration_seconds:p%s_5m' % q.name,
            expr: |||
              histogram_quantile(%(q)s,
                sum by (instance, target, le) (rate(hbfence_heartbeat_write_duration_seconds_bucket{%(hbfenceSelector)s}[5m])))
            ||| % (c { q: q.value }),
          }
          for q in [
            { name: '50', value: '0.50' },
            { name: '90', value: '0.90' },
            { name: '99', value: '0.99' },
          ]
        ] + [

          // Share of heartbeat attempts that failed (timeouts + errors of any reason).
          // No series while a target had no attempts at all in the window.
          {
            record: 'instance_target:hbfence_heartbeat_write_failures:ratio_5m',
            expr: |||
              (
                  sum by (instance, target) (rate(hbfence_heartbeat_write_timeouts_total{%(hbfenceSelector)s}[5m]))
                + sum by (instance, target) (rate(hbfence_heartbeat_write_errors_total{%(hbfenceSelector)s}[5m]))
              )
              / (sum by (instance, target) (rate(hbfence_heartbeat_writes_total{%(hbfenceSelector)s}[5m])) > 0)
            ||| % c,
          },

          // Fleet view per target (storage pool) across hosts: tells a storage-wide outage
          // (most hosts lost the same pool) from one sick host.
          {
            record: 'target:hbfence_target_up:count',
            expr: 'count by (target) (max by (instance, target) (hbfence_target_up{%(hbfenceSelector)s}))' % c,
          },
          {
            record: 'target:hbfence_target_down:sum',
            expr: 'sum by (target) (1 - max by (instance, target) (hbfence_target_up{%(hbfenceSelector)s}))' % c,
          },
          {
            record: 'target:hbfence_target_down:ratio',
            expr: 'avg by (target) (1 - max by (instance, target) (hbfence_target_up{%(hbfenceSelector)s}))' % c,
          },

          // CloudStack peer heartbeats (targets with peer_watch = true), as seen from each host.
          // A peer is stale when its hb-* file has not advanced for longer than the larger of
          // 180 s (_config.peerStaleMinSeconds: three missed writes of CloudStack's own agent
          // script, which writes every 60 s) and this host's lease (a peer running hbfence
          // with this host's settings is within its lease before that). The lease stands in
          // for the peers' own settings, which this host cannot see.
          {
            record: 'instance:hbfence_peer_heartbeat_stale_threshold:seconds',
            expr: 'clamp_min(max by (instance) (hbfence_heartbeat_lease_seconds{%(hbfenceSelector)s}), %(peerStaleMinSeconds)g)' % c,
          },
          {
            record: 'instance_target_peer:hbfence_peer_heartbeat_stale:bool',
            expr: |||
              max by (instance, target, peer) (hbfence_peer_heartbeat_age_seconds{%(hbfenceSelector)s})
                > bool on (instance) group_left ()
              instance:hbfence_peer_heartbeat_stale_threshold:seconds
            ||| % c,
          },
          {
            record: 'instance_target:hbfence_peer_heartbeats:count',
            expr: 'count by (instance, target) (instance_target_peer:hbfence_peer_heartbeat_stale:bool)',
          },
          {
            record: 'instance_target:hbfence_peer_heartbeats_stale:sum',
            expr: 'sum by (instance, target) (instance_target_peer:hbfence_peer_heartbeat_stale:bool)',
          },
          {
            record: 'instance_target:hbfence_peer_heartbeats_stale:ratio',
            expr: 'avg by (instance, target) (instance_target_peer:hbfence_peer_heartbeat_stale:bool)',
          },
        ],
      },
    ],
  },
}
