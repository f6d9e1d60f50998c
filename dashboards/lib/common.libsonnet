// SPDX-License-Identifier: Apache-2.0

// What both hbfence dashboards share, from the mixin's _config: template variables,
// annotations (fence decisions and VM fences on the time axis), links.
local g = import 'grafana.libsonnet';
local queries = import 'queries.libsonnet';

function(config) {
  local c = config,
  local q = queries(c),

  // datasource, job, cluster, instance (Host), target. The job and cluster variables
  // list what hbfence_build_info has under the hbfenceSelector; All is '.*', which also
  // matches a series without the label (no cluster label: the cluster list is empty and
  // All matches everything). hostMulti: several hosts (and All) or exactly one.
  variables(hostMulti=true):: [
    g.datasourceVariable,
    g.queryVariable('job', 'Job', 'label_values(hbfence_build_info{%s}, job)' % c.hbfenceSelector),
    g.queryVariable('cluster', 'Cluster', 'label_values(hbfence_build_info{%s, job=~"$job"}, %s)' % [c.hbfenceSelector, c.clusterLabel]),
    g.queryVariable('instance', 'Host', 'label_values(hbfence_target_up{%s, job=~"$job", %s=~"$cluster"}, instance)' % [c.hbfenceSelector, c.clusterLabel], multi=hostMulti, includeAll=hostMulti),
    g.queryVariable('target', 'Target', 'label_values(hbfence_target_up{%s}, target)' % q.vars.host),
  ],

  // Fence decisions and VM fences, one mark per host and action, pool or reason.
  annotations:: [
    g.annotation(
      'Log-only fence decisions',
      'red',
      q.events(q.decisions('action="log-only"')),
      'Fence decision, log-only: host NOT fenced',
      '{{instance}} decided to fence ({{action}}); its VMs kept running',
      'instance,action',
    ),
    g.annotation(
      'Fence decisions (armed)',
      'orange',
      q.events(q.decisions('action!="log-only"')),
      'Fence decision',
      '{{instance}} decided to fence ({{action}})',
      'instance,action',
    ),
    g.annotation(
      'VMs destroyed (destroy-vms)',
      'purple',
      q.events(q.vmDestroyed),
      'VMs destroyed: pool fenced, host kept up',
      '{{instance}} destroyed the VMs on pool {{target}} (destroy-vms) and unmounted it',
      'instance,target',
    ),
    g.annotation(
      'VM fence escalations',
      'dark-red',
      q.events(q.vmEscalations),
      'VM fence escalated to the host',
      "{{instance}}: destroy-vms could not fence a pool's VMs safely ({{reason}}) and ran its escalation",
      'instance,reason',
    ),
  ],

  // A table column of hosts, linking to the host dashboard (same data source, job,
  // cluster and time range).
  hostColumn:: g.byName('instance', {
    displayName: 'Host',
    links: [{
      title: 'Host detail: ${__value.text}',
      url: '/d/hbfence-host/hbfence-host-detail?${datasource:queryparam}&${job:queryparam}&${cluster:queryparam}&var-instance=${__value.raw}&${__url_time_range}',
    }],
  }),
  // Panel links to the runbook sections of the alerts the panel shows.
  runbook(alerts):: {
    links: [
      { title: 'Runbook: ' + a, url: '%s#%s' % [c.runbookURLBase, std.asciiLower(a)], targetBlank: true }
      for a in alerts
    ],
  },

  // A ratio as a percentage for text: 0.8 -> '80 %' (sep '' -> '80%').
  percent(ratio, sep=' '):: '%g%s%%' % [ratio * 100, sep],
  // When a CloudStack peer's heartbeat counts as stale, for descriptions.
  staleRule:: "the larger of %d s%s and the watching host's lease, as in the alert rules" % [
    c.peerStaleMinSeconds,
    if c.peerStaleMinSeconds == 180 then " (three writes of CloudStack's agent script, every 60 s)" else '',
  ],

  // The cluster column of a table (there only when the series have the label).
  clusterColumn:: g.byName(c.clusterLabel, { displayName: 'Cluster' }),
}
