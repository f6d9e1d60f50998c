// SPDX-License-Identifier: Apache-2.0

// hbfence's Grafana dashboards as a monitoring mixin: grafanaDashboards maps each file
// name to a dashboard. alerts/mixin.libsonnet adds the rules; dashboards/render writes
// the JSON files.
(import 'hbfence-fleet.libsonnet') +
(import 'hbfence-host.libsonnet') +
{
  // Defaults only: a _config the mixin has already (alerts/config.libsonnet, imported
  // before or after this file) wins, and so does one added later with _config+::.
  _config:: {
    // Selects hbfence's series (the scrape job); every query and variable starts with it.
    hbfenceSelector: 'job="hbfence"',
    // The label that tells clusters apart (an external label, or none: the dashboards'
    // cluster variable then only offers All, and every query still works).
    clusterLabel: 'cluster',
    // The runbook; an alert's section is this plus '#' and the alert's name in lower case
    // (its heading's anchor). The default is the copy the package installs on every host,
    // as in the alerts; a browser does not follow a file: link from a web page (copy it),
    // so set your own web copy with the same anchors.
    runbookURLBase: 'file:///usr/share/doc/hbfence/runbook.md',
    // CloudStack peers: a peer heartbeat is stale after the larger of this and the
    // watching host's lease (alert HbfencePeerHeartbeatStale).
    peerStaleMinSeconds: 180,
    // A pool is down storage-wide when at least storageWideOutageMinHosts hosts and more
    // than storageWideOutageRatio of those reporting it have lost it (alert
    // HbfenceStorageWideOutage): the red in the storage-wide panels.
    storageWideOutageMinHosts: 2,
    storageWideOutageRatio: 0.5,
    // Most of a pool's peers stale: more than this share (alert HbfencePoolPeersStale).
    poolPeersStaleRatio: 0.5,
    // Heartbeat write latency: p99 above this share of the timeout is high (alert
    // HbfenceHeartbeatLatencyHigh).
    latencyHighRatio: 0.8,
    // The longest heartbeat gap of the last 15 minutes at this share of the lease warns
    // (alert HbfenceHeartbeatGapNearLease): the orange in the gap / lease panels.
    gapLeaseWarningRatio: 0.5,
    // The host dashboard's Host variable: false picks exactly one host (like the node
    // mixin's per-node dashboard), true several side by side, or All.
    hostDashboardMultiHost: false,
    // Tags of every dashboard; each dashboard links to the others with these tags.
    dashboardTags: ['hbfence'],
    refresh: '30s',
    // Start of the default time range.
    timeFrom: 'now-6h',
  } + (if '_config' in super then super._config else {}),
}
