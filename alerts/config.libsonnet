// SPDX-License-Identifier: Apache-2.0

// Defaults of the hbfence monitoring mixin. Override any of them by adding to
// `_config` (alerts/README.md):
//
//   (import 'alerts/mixin.libsonnet') + { _config+:: { hbfenceSelector: 'job="kvm-hbfence"' } }
//
// Durations are Prometheus durations of one unit (30s, 5m, 1h); the alerts' texts say
// them in words.
{
  _config+:: {
    // Label matchers that pick hbfence's series out of everything Prometheus scrapes,
    // put on every hbfence series the rules read (alert texts' queries included). The
    // scrape job of the README's example is `hbfence`. Must not be empty.
    hbfenceSelector: 'job="hbfence"',

    // Each alert's runbook_url is <runbookURLBase>#<alert name in lowercase>, the
    // section of docs/runbook.md for that alert. The package installs the runbook as
    // /usr/share/doc/hbfence/runbook.md on every host it is installed on, so the
    // default points there: a link that works wherever the package is, though a
    // browser will not follow a file: link from a web page (copy it). Set it to your
    // own copy with the same anchors: a wiki page, or the file in your git web UI,
    // e.g. 'https://git.example.com/ops/hbfence/-/blob/main/docs/runbook.md'.
    runbookURLBase: 'file:///usr/share/doc/hbfence/runbook.md',

    // The label that names a host by its hbfence host id ([host] id: the CloudStack
    // private IP, the <id> of its hb-<id> heartbeat files). hbfence exports no host id,
    // so it is a target label your scrape config sets on each host (alerts/README.md).
    // HbfencePeerHeartbeatStale sets it to the frozen peer, so that Alertmanager can let
    // the sidecar-down alert of that host mute it (alerts/alertmanager.yml, which names
    // the label too). Without it in the scrape config nothing is muted.
    hostIdLabel: 'host_id',

    // ---------------------------------------------------------------- fencing
    // HbfenceFencePendingArmed: an armed host's decision still standing after this.
    fencePendingArmedFor: '5m',

    // HbfenceFencingDisarmed tickets a host that has run log-only for
    // fencingDisarmedFor. The package ships log-only, so it is off: a fleet that is
    // log-only on purpose would get a ticket per host every day. Turn it on for a
    // fleet that should be armed; fencingDisarmedSelector (label matchers, e.g.
    // 'fencing="armed"', a label your scrape config gives the hosts that should be
    // armed) limits it to those hosts.
    fencingDisarmedAlert: false,
    fencingDisarmedSelector: '',
    fencingDisarmedFor: '1h',

    // ---------------------------------------------------------------- storage fleet
    // A target is down storage-wide when at least this many hosts, and more than this
    // share of the hosts reporting it, have lost it (HbfenceStorageWideOutage; the
    // same condition keeps HbfenceTargetDown quiet for it).
    storageWideOutageMinHosts: 2,
    storageWideOutageRatio: 0.5,
    storageWideOutageFor: '1m',
    targetDownFor: '1m',

    // ---------------------------------------------------------------- CloudStack peers
    // A peer heartbeat is stale after the larger of this and the watching host's lease.
    peerStaleMinSeconds: 180,
    // Most peers stale: at least this many, and more than this share.
    poolPeersStaleMinPeers: 2,
    poolPeersStaleRatio: 0.5,
    poolPeersStaleFor: '1m',
    peerHeartbeatStaleFor: '5m',

    // ---------------------------------------------------------------- heartbeat writes
    // HbfenceHeartbeatWriteFailures: over this window, at least this many writes to a
    // target failed with an error, and more than this share of its attempts. A single
    // failure reaches neither (the runbook: it is harmless).
    writeFailuresWindow: '15m',
    writeFailuresMinCount: 3,
    writeFailuresRatio: 0.05,
    writeFailuresFor: '5m',
    writeTimeoutsFor: '1m',
    stuckWritesFor: '1m',
    // HbfenceHeartbeatLatencyHigh: p99 at or above this share of the timeout.
    latencyHighRatio: 0.8,
    latencyHighFor: '10m',
    // HbfenceHeartbeatGapNearLease: the longest gap without a successful write over the
    // daemon's 15-minute window (hbfence_heartbeat_gap_max_seconds) reached this share
    // of the lease, on a target that is up: the margin left before a false fence. It
    // fires only for a gap of at least two intervals (a tick passed without a renewal):
    // the schedule alone leaves one interval plus the write's latency, which on a lease
    // of under 1 / gapLeaseWarningRatio intervals would be over the share all the time.
    gapLeaseWarningRatio: 0.5,
    gapNearLeaseFor: '1m',
    // HbfenceHistoryRecordsDropped: write history records dropped over this window
    // (hbfence_history_records_dropped_total): replay and advise will be incomplete.
    historyDroppedWindow: '15m',

    // ---------------------------------------------------------------- the sidecar itself
    sidecarDownFor: '2m',
    sidecarAbsentFor: '5m',
    configReloadFailedFor: '1m',
  },
}
