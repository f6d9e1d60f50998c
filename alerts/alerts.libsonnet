// SPDX-License-Identifier: Apache-2.0

// Alerting rules of the hbfence mixin (prometheusAlerts): the group hbfence.alerts.
// Conventions as in rules.libsonnet; besides:
//   - Every alert has severity, summary, description and a runbook_url whose anchor
//     exists in docs/runbook.md (alerts/check checks both).
//   - Descriptions are written as ||| blocks and folded into one line (as YAML's >-
//     did); a query in a text selects hbfence's series with the selector too, in a Go
//     raw string (`...`), since the selector has double quotes.
//   - Texts name no alert: a notification is recognised by the alert names in it.
//
// Tests: alerts/tests/*.yml. Run alerts/generate, then alerts/check, after every change.
{
  prometheusAlerts+:: {
    local c = $._config,
    local sel = c.hbfenceSelector,
    local runbook(name) = c.runbookURLBase + '#' + std.asciiLower(name),
    // A ||| block as one line, as YAML's folded style (>-) reads it.
    local fold(s) = std.join(' ', std.split(std.rstripChars(s, '\n'), '\n')),
    // '5m' -> '5 minutes', '1h' -> 'an hour'.
    local human(d) =
      local units = { s: 'second', m: 'minute', h: 'hour', d: 'day' };
      local n = std.parseInt(std.substr(d, 0, std.length(d) - 1));
      local u = units[d[std.length(d) - 1]];
      if n == 1 then (if u == 'hour' then 'an ' else 'a ') + u else '%d %ss' % [n, u],
    local percent(r) = '%g' % (r * 100),
    // The storage-wide condition, shared by HbfenceStorageWideOutage and HbfenceTargetDown.
    local storageWide = |||
      target:hbfence_target_down:sum >= %(storageWideOutageMinHosts)d
      and on (target)
      target:hbfence_target_down:ratio > %(storageWideOutageRatio)g
    ||| % c,
    // Most peers stale, shared by HbfencePoolPeersStale and HbfencePeerHeartbeatStale.
    local poolPeersStale = |||
      instance_target:hbfence_peer_heartbeats_stale:sum >= %(poolPeersStaleMinPeers)d
      and on (instance, target)
      instance_target:hbfence_peer_heartbeats_stale:ratio > %(poolPeersStaleRatio)g
    ||| % c,
    local indent(s, n) =
      std.join('\n', [if l == '' then l else std.repeat(' ', n) + l for l in std.split(std.rstripChars(s, '\n'), '\n')]),
    // HbfenceFenceSuppressed's condition per host (explained there).
    local suppressedExpr = |||
      max by (instance) (
          (
            max by (instance) (hbfence_fence_pending{%(hbfenceSelector)s}) == 1
            and on (instance)
            max by (instance) (hbfence_fence_armed{%(hbfenceSelector)s}) == 0
          )
        or
          (
            max by (instance, action) (increase(hbfence_fence_decisions_total{%(hbfenceSelector)s,action="log-only"}[1h])) > 0
          )
        or
          (
            max by (instance, action) (hbfence_fence_decisions_total{%(hbfenceSelector)s,action="log-only"}) > 0
            and on (instance)
            (max by (instance) (process_start_time_seconds{%(hbfenceSelector)s} and on (instance) hbfence_build_info{%(hbfenceSelector)s}) > time() - 3600)
          )
        or
          (
            max by (instance, action) (hbfence_fence_decisions_total{%(hbfenceSelector)s,action="log-only"}) > 0
            unless on (instance, action)
            hbfence_fence_decisions_total{%(hbfenceSelector)s,action="log-only"} offset 1h
            and on (instance)
            hbfence_build_info{%(hbfenceSelector)s} offset 1h
          )
      )
    ||| % c,
    // The fence action now, in a text.
    local fenceActionNow = 'hbfence_config_info{%s,instance=\'%%s\'}' % sel,

    groups+: [
      {
        name: 'hbfence.alerts',
        rules: [
          // ---------------------------------------------------------------- fencing
          {
            alert: 'HbfenceFenceSuppressed',
            // The one that pages: a log-only host decided it should be fenced, and nothing
            // fenced it. CloudStack may restart its VMs elsewhere while they still run here:
            // split-brain risk. It fires for every log-only decision and keeps firing for an
            // hour after the last one, and after that for as long as the decision stands
            // (pending) on a host that is still log-only.
            //
            // The decision counter is the trigger, not the pending gauge: pending is 1 only
            // while the storage stays failed, which after an outage just longer than the
            // lease (or a stalled process) is a few milliseconds, and no scrape sees it.
            // A decision is "within the hour" by any of:
            //   1. increase() over the hour: a running process, and a restart once a scrape
            //      saw the new process's counter below the old one (a counter reset);
            //   2. the counter of a process that started within the hour: all of its
            //      decisions are. increase() misses a decision made before the first scrape
            //      of a new process: one sample only, or a reset hidden by an equal value
            //      (1 before the restart, 1 after);
            //   3. a log-only series that appeared within the hour on a host scraped an hour
            //      ago: a reload to log-only (the series starts at 0) and a decision before
            //      the next scrape. On a fresh Prometheus (no history) this branch is silent,
            //      so old counts do not page.
            // The decisions are filtered by the action label (the configured action when
            // deciding), so a later reload does not hide one.
            // Why an hour: time for the page to be routed (group_wait 0s, then repeated
            // every 15 minutes), for CloudStack's HA to have acted on the same missing
            // heartbeat, and for a human to check both; the same hour as the armed hosts'
            // HbfenceHostFenced. A host that keeps failing decides once per failure
            // episode: each decision extends the hour and the labels (instance only) stay
            // the same, so the alert does not resolve and re-fire in between. Range-based,
            // so a Prometheus restart does not lose it (no `for`, no keep_firing_for).
            // Armed hosts do not get it: their decisions are covered by the fence alerts
            // below (fenced within the hour, action failed, pending 5 minutes) and by
            // HbfenceSidecarDown while the host reboots.
            // The dashboards repeat this condition (fleet: Suppressed fences; host: Fence
            // state): keep them in sync.
            //
            // One alert per failed pool: `target` is each target the host lost within the
            // last 70 minutes (hbfence_target_up was 0 in a sample), so Alertmanager can
            // page once per pool, listing the hosts, when a storage outage makes a log-only
            // fleet decide at once. A target goes down in the same loop as the decision, so
            // a scrape sees both, or the target a scrape before the decision: the 10
            // minutes past the hour keep the label for as long as the decision's hour
            // lasts, so the alert does not change labels (a new page) near its end. A
            // host whose lost target no scrape saw (an outage just longer than the lease)
            // gets the alert without `target`.
            expr: |||
              (
                max by (instance, target) (1 - min_over_time(hbfence_target_up{%(hbfenceSelector)s}[1h10m])) > 0
                and on (instance)
              %(indented)s
              )
              or on (instance)
              %(suppressed)s
            ||| % (c { indented: indent(suppressedExpr, 2), suppressed: std.rstripChars(suppressedExpr, '\n') }),
            'for': '0s',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Host {{ $labels.instance }} should have been fenced but is log-only: split-brain risk',
              description: fold(|||
                hbfence on {{ $labels.instance }} lost its storage heartbeat for a full lease and
                decided to fence, but its fence action was log-only, so nothing fenced the host.
                {{ with printf `max(hbfence_fence_pending{%(sel)s,instance='%%s'})` $labels.instance | query }}{{ if eq (. | first | value) 1.0 }}The decision still stands and the host is still up. Failed targets: {{ range $i, $s := printf `hbfence_target_up{%(sel)s,instance='%%s'} == 0` $labels.instance | query | sortByLabel "target" }}{{ if $i }}, {{ end }}{{ $s.Labels.target }}{{ else }}none right now{{ end }}.{{ else }}The storage has come back since (no decision stands now), perhaps within seconds, but the heartbeat was missing long enough for CloudStack to act on it too.{{ end }}{{ else }}The host cannot be scraped now: it is down, or cut off with its VMs still running.{{ end }}
                CloudStack may be restarting this host's VMs elsewhere while they still run
                here: check, and fence the host or stop its VMs by hand now. Fence action now:
                {{ with printf `%(fenceActionNow)s` $labels.instance | query }}{{ (. | first).Labels.fence_action }}{{ else }}unknown{{ end }}.
                This alert stays for an hour after the last decision.
              ||| % { sel: sel, fenceActionNow: fenceActionNow }),
              runbook_url: runbook('HbfenceFenceSuppressed'),
            },
          },

          {
            alert: 'HbfenceFencePendingArmed',
            // Armed host whose fence decision has stood this long: the action did not take
            // the host down (failed, hung, or restart-agent left it running).
            // destroy-vms is meant to leave the host up, and a fenced pool stays unmounted,
            // so its decision stands until the pool is back: for it, only a decision that
            // escalated to the host within the hour (HbfenceVmFenceEscalated) counts.
            expr: |||
              max by (instance) (hbfence_fence_pending{%(hbfenceSelector)s}) == 1
              and on (instance)
              max by (instance) (hbfence_fence_armed{%(hbfenceSelector)s}) == 1
              unless on (instance)
              (
                max by (instance) (hbfence_config_info{%(hbfenceSelector)s,fence_action="destroy-vms"})
                unless on (instance)
                sum by (instance) (increase(hbfence_fence_vm_escalations_total{%(hbfenceSelector)s}[1h])) > 0
              )
            ||| % c,
            'for': c.fencePendingArmedFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Fence on {{ $labels.instance }} did not take effect',
              description: fold(|||
                hbfence on {{ $labels.instance }} decided to fence (action
                {{ with printf `%(fenceActionNow)s` $labels.instance | query }}{{ (. | first).Labels.fence_action }}{{ else }}unknown{{ end }})
                more than %(for)s ago and the host is still up with its storage heartbeat failing.
                Its VMs may be running here and elsewhere: fence it by hand.
              ||| % { fenceActionNow: fenceActionNow, 'for': human(c.fencePendingArmedFor) }),
              runbook_url: runbook('HbfenceFencePendingArmed'),
            },
          },

          {
            alert: 'HbfenceFenceActionFailed',
            // The configured action's series start at 0, so increase() sees a first
            // failure; the second branch still catches a series that is new within the
            // window with a count (a step of an action a reload just configured, or an
            // hbfence older than the zeros).
            expr: |||
              (
                sum by (instance, action, result) (
                  increase(hbfence_fence_actions_total{%(hbfenceSelector)s,result=~"failed|timeout|refused"}[10m])
                ) > 0
              )
              or
              (
                sum by (instance, action, result) (
                    hbfence_fence_actions_total{%(hbfenceSelector)s,result=~"failed|timeout|refused"}
                  unless
                    hbfence_fence_actions_total{%(hbfenceSelector)s,result=~"failed|timeout|refused"} offset 10m
                ) > 0
              )
            ||| % c,
            'for': '0s',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Fence action {{ $labels.action }} {{ $labels.result }} on {{ $labels.instance }}',
              description: fold(|||
                A {{ $labels.action }} fence step on {{ $labels.instance }} ended with
                result {{ $labels.result }} in the last 10 minutes. hbfence falls back to
                hard-reboot where it can; if the host is still up, it is not fenced.
              |||),
              runbook_url: runbook('HbfenceFenceActionFailed'),
            },
          },

          {
            alert: 'HbfenceHostFenced',
            // The journal is read at start, so this fires once the fenced host is back.
            expr: |||
              max by (instance) (hbfence_last_fence_timestamp_seconds{%(hbfenceSelector)s}) > 0
              and on (instance)
              time() - max by (instance) (hbfence_last_fence_timestamp_seconds{%(hbfenceSelector)s}) < 3600
            ||| % c,
            'for': '0s',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Host {{ $labels.instance }} was fenced within the last hour',
              description: fold(|||
                hbfence fenced {{ $labels.instance }} at {{ $value | humanizeTimestamp }}
                (newest non-log-only entry of its fence journal). Find out why before the
                storage takes another host.
              |||),
              runbook_url: runbook('HbfenceHostFenced'),
            },
          },

        ] + (if c.fencingDisarmedAlert then [
          {
            alert: 'HbfenceFencingDisarmed',
            // Opt-in (_config.fencingDisarmedAlert, off by default): the package ships
            // log-only, and a fleet that is log-only on purpose would get a ticket per host
            // every day. With fencingDisarmedSelector (e.g. 'fencing="armed"', a target
            // label of the hosts that should be armed), only those hosts.
            expr: 'max by (instance) (hbfence_fence_armed{%(hbfenceSelector)s%(extra)s}) == 0' % (c {
              extra: if c.fencingDisarmedSelector == '' then '' else ',' + c.fencingDisarmedSelector,
            }),
            'for': c.fencingDisarmedFor,
            labels: { severity: 'info' },
            annotations: {
              summary: 'Fencing is disarmed (log-only) on {{ $labels.instance }}',
              description: fold(|||
                hbfence on {{ $labels.instance }} runs with fence action log-only: it will
                not fence the host when its storage fails, it will only page that the host
                should have been fenced. Make sure this is intended.
              |||),
              runbook_url: runbook('HbfenceFencingDisarmed'),
            },
          },
        ] else []) + [

          {
            alert: 'HbfenceFenceJournalErrors',
            expr: 'max by (instance) (increase(hbfence_fence_journal_errors_total{%(hbfenceSelector)s}[10m])) > 0' % c,
            'for': '0s',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Fence journal writes failing on {{ $labels.instance }}',
              description: fold(|||
                hbfence on {{ $labels.instance }} could not append a fence decision to its
                journal in the last 10 minutes (the action still ran). The decision is not on
                record and will not be reported after a reboot.
              |||),
              runbook_url: runbook('HbfenceFenceJournalErrors'),
            },
          },

          // ---------------------------------------------------------------- destroy-vms
          {
            alert: 'HbfenceVmsFenced',
            // fence.action = destroy-vms destroyed the VMs whose storage is on a failed pool
            // (and force-unmounted the pool): they are down until CloudStack restarts the
            // HA-enabled ones or someone starts the others, and the pool stays unmounted on
            // this host until someone mounts it again. One alert per host and pool, for an
            // hour after the last destroy there: time for the page to be routed, for
            // CloudStack's HA to have restarted what it will, and for a human to check the
            // rest (the same hour as the log-only and host fence alerts).
            //
            // The per-target counter starts at 0 with its target, and goes with it: a pool
            // found by [cloudstack] discover_pools stops being a target once unmounted, so
            // its series ends seconds after the destroy. Range-based, like the suppressed
            // fence alert, so that neither that nor a restart ends it early:
            //   1. increase() over the hour: a running process, the series gone since, and
            //      a restart whose reset a scrape saw;
            //   2. the counter of a process that started within the hour (a destroy before
            //      its first scrape, when the count reads the same as before the restart);
            //   3. a series new within the hour, with a count, on a host scraped an hour ago
            //      (a target added and destroyed before its first scrape). Silent on a fresh
            //      Prometheus, so old counts do not page.
            // A destroy that escalated counts no domains here (see the next alert).
            expr: |||
              max by (instance, target) (
                  (
                    max by (instance, target) (increase(hbfence_fence_vm_domains_destroyed_total{%(hbfenceSelector)s}[1h])) > 0
                  )
                or
                  (
                    max by (instance, target) (hbfence_fence_vm_domains_destroyed_total{%(hbfenceSelector)s}) > 0
                    and on (instance)
                    (max by (instance) (process_start_time_seconds{%(hbfenceSelector)s} and on (instance) hbfence_build_info{%(hbfenceSelector)s}) > time() - 3600)
                  )
                or
                  (
                    max by (instance, target) (last_over_time(hbfence_fence_vm_domains_destroyed_total{%(hbfenceSelector)s}[1h])) > 0
                    unless on (instance, target)
                    hbfence_fence_vm_domains_destroyed_total{%(hbfenceSelector)s} offset 1h
                    and on (instance)
                    hbfence_build_info{%(hbfenceSelector)s} offset 1h
                  )
              )
            ||| % c,
            'for': '0s',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'VMs on pool {{ $labels.target }} were destroyed on {{ $labels.instance }}',
              description: fold(|||
                hbfence on {{ $labels.instance }} lost its storage heartbeat to {{ $labels.target }}
                for a full lease and, with fence action destroy-vms, destroyed the VMs whose
                storage is on that pool and force-unmounted it; the host and its other VMs stay
                up. CloudStack sees an out-of-band stop on a host that is up: it restarts the
                HA-enabled VMs (ha.vm.restart.hostup, on by default) and leaves the others
                Stopped until someone starts them. The pool stays unmounted on this host:
                neither hbfence nor the CloudStack agent mounts it again. Mount it by hand once
                the storage is healthy, before restarting the agent. The fence journal names
                every domain.
              |||),
              runbook_url: runbook('HbfenceVmsFenced'),
            },
          },

          {
            alert: 'HbfenceVmFenceEscalated',
            // destroy-vms could not fence a pool's VMs safely (see the reasons in the runbook)
            // and ran fence.destroy_escalation instead: a host reboot by default, or only a log
            // line (destroy_escalation = log-only, or max_fences_per_hour reached), which
            // leaves the pool's VMs running while CloudStack may start them elsewhere. One
            // alert per host and reason, for an hour after the last escalation. The reasons'
            // series start at 0 with the process, so increase() sees the first one, and a
            // reboot (a reset) does not end the hour; the second branch catches an escalation
            // before a new process's first scrape. An escalation to hard-reboot takes the host
            // down within seconds, usually before any scrape sees the count: the host fence
            // alerts cover that one once the host is back.
            expr: |||
              max by (instance, reason) (
                  (
                    max by (instance, reason) (increase(hbfence_fence_vm_escalations_total{%(hbfenceSelector)s}[1h])) > 0
                  )
                or
                  (
                    max by (instance, reason) (hbfence_fence_vm_escalations_total{%(hbfenceSelector)s}) > 0
                    and on (instance)
                    (max by (instance) (process_start_time_seconds{%(hbfenceSelector)s} and on (instance) hbfence_build_info{%(hbfenceSelector)s}) > time() - 3600)
                  )
              )
            ||| % c,
            'for': '0s',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'VM fence escalated to the host on {{ $labels.instance }} ({{ $labels.reason }})',
              description: fold(|||
                destroy-vms on {{ $labels.instance }} could not fence the VMs of a failed pool
                safely (reason {{ $labels.reason }}) and ran its escalation instead.
                {{ with printf `increase(hbfence_fence_actions_total{%(sel)s,instance='%%s',action='log-only',result='logged'}[1h]) > 0` $labels.instance | query }}The escalation only logged (destroy_escalation is log-only, or the hourly reboot limit was reached): the pool's VMs may still be running here while CloudStack starts them elsewhere. Fence the host or stop those VMs by hand now.{{ else }}The escalation ran: a reboot, unless destroy_escalation is a custom script. If the host is still up with that pool failed, fence it by hand.{{ end }}
                The fence journal names the pool and the domains.
              ||| % { sel: sel }),
              runbook_url: runbook('HbfenceVmFenceEscalated'),
            },
          },

          // ---------------------------------------------------------------- storage fleet
          {
            alert: 'HbfenceStorageWideOutage',
            // More than half of the hosts that report this target, and at least 2, lost it
            // (_config.storageWideOutageRatio and storageWideOutageMinHosts). The same
            // condition is the `unless` in HbfenceTargetDown. The text counts the hosts that
            // lost it by whether they are armed: an all-log-only fleet fences nobody.
            expr: storageWide,
            'for': c.storageWideOutageFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Heartbeat target {{ $labels.target }} is down on most hosts',
              description: fold(|||
                {{ $value }} of {{ with printf "target:hbfence_target_up:count{target='%%s'}" $labels.target | query }}{{ . | first | value }}{{ else }}?{{ end }}
                hosts have had no successful heartbeat to {{ $labels.target }} for a full lease.
                This is the storage, not the hosts.{{ with printf `count(%(down)s == 1)` $labels.target | query }} Armed, so fencing themselves: {{ . | first | value }} of them (with destroy-vms, only the VMs on this pool).{{ end }}{{ with printf `count(%(down)s == 0)` $labels.target | query }} Log-only, so not fenced: {{ . | first | value }} of them (their VMs may still run while CloudStack restarts them elsewhere; each pages on its own decision).{{ end }}
              ||| % {
                // hbfence_fence_armed of the hosts that lost the target (then compared).
                down: '(max by (instance) (hbfence_fence_armed{%(sel)s}) and on (instance) (max by (instance) (hbfence_target_up{%(sel)s,target=\'%%s\'}) == 0))' % { sel: sel },
              }),
              runbook_url: runbook('HbfenceStorageWideOutage'),
            },
          },

          {
            alert: 'HbfenceTargetDown',
            // One host (or a minority) lost a target that the rest of the fleet still reaches.
            expr: |||
              max by (instance, target) (hbfence_target_up{%(hbfenceSelector)s}) == 0
              unless on (target)
              (
              %(storageWide)s
              )
            ||| % (c { storageWide: indent(storageWide, 2) }),
            'for': c.targetDownFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Heartbeat target {{ $labels.target }} down on {{ $labels.instance }}',
              description: fold(|||
                {{ $labels.instance }} has had no successful heartbeat write to
                {{ $labels.target }} for a full lease. Most hosts still reach it, so look at
                this host's path to the storage first. The host has failed this target; per
                its fence policy it may be fencing.
              |||),
              runbook_url: runbook('HbfenceTargetDown'),
            },
          },

          // ---------------------------------------------------------------- CloudStack peers
          // Both read the peers' files from a host that itself writes the pool fine: a host
          // that lost the pool sees every peer age (its reads fail too), and the storage
          // alerts above already cover it.
          {
            alert: 'HbfencePoolPeersStale',
            // More than half of the peers this host watches on the pool, and at least 2, are
            // stale (_config.poolPeersStaleRatio and poolPeersStaleMinPeers). The same
            // condition is the `unless` in the single-peer alert.
            expr: |||
              %(poolPeersStale)s
              and on (instance, target)
              max by (instance, target) (hbfence_target_up{%(hbfenceSelector)s}) == 1
            ||| % (c { poolPeersStale: std.rstripChars(poolPeersStale, '\n') }),
            'for': c.poolPeersStaleFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Most peer heartbeats on {{ $labels.target }} are frozen, seen from {{ $labels.instance }}',
              description: fold(|||
                {{ $value }} of {{ with printf "instance_target:hbfence_peer_heartbeats:count{instance='%s',target='%s'}" $labels.instance $labels.target | query }}{{ . | first | value }}{{ else }}?{{ end }}
                other hosts' heartbeat files on {{ $labels.target }} have not advanced for over
                {{ with printf "instance:hbfence_peer_heartbeat_stale_threshold:seconds{instance='%s'}" $labels.instance | query }}{{ . | first | value | humanizeDuration }}{{ else }}the threshold{{ end }},
                while {{ $labels.instance }} still writes its own. Either the other hosts lost
                the pool (a storage or network split) or they are down or stopped writing
                together. CloudStack may declare them all dead and restart their VMs at once.
              |||),
              runbook_url: runbook('HbfencePoolPeersStale'),
            },
          },

          {
            alert: 'HbfencePeerHeartbeatStale',
            // One peer (or a minority) frozen while the rest of the pool is fresh: that host
            // is sick, not the storage. Every healthy host sees it; Alertmanager groups the
            // notifications per peer.
            // The peer is a host id, not an instance, so the alert also names it in
            // _config.hostIdLabel (host_id): when the scrape config gives each host that
            // label, the sidecar-down alert of the peer carries the same one, and
            // Alertmanager mutes this ticket while that page is up (same cause).
            expr: |||
              label_replace(
                max by (instance, target, peer) (hbfence_peer_heartbeat_age_seconds{%(hbfenceSelector)s})
                and on (instance, target, peer)
                instance_target_peer:hbfence_peer_heartbeat_stale:bool == 1
                and on (instance, target)
                max by (instance, target) (hbfence_target_up{%(hbfenceSelector)s}) == 1
                unless on (instance, target)
                (
              %(poolPeersStale)s
                ),
                "%(hostIdLabel)s", "$1", "peer", "(.*)"
              )
            ||| % (c { poolPeersStale: indent(poolPeersStale, 4) }),
            'for': c.peerHeartbeatStaleFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Heartbeat of host {{ $labels.peer }} on {{ $labels.target }} is frozen, seen from {{ $labels.instance }}',
              description: fold(|||
                The heartbeat file hb-{{ $labels.peer }} on {{ $labels.target }} has not advanced
                for {{ $value | humanizeDuration }}, while {{ $labels.instance }} writes its own
                and most other peers on the pool are fresh. That host has lost the pool, is
                down, or its heartbeat writer (hbfence or the CloudStack agent) stopped.
                CloudStack's HA will treat it as dead and may fence it and restart its VMs
                elsewhere.
              |||),
              runbook_url: runbook('HbfencePeerHeartbeatStale'),
            },
          },

          {
            alert: 'HbfenceUnknownFenceAction',
            expr: 'max by (instance) (hbfence_config_unknown_fence_action{%(hbfenceSelector)s}) == 1' % c,
            'for': '0s',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Unknown kvm.heartbeat.fence.action in agent.properties on {{ $labels.instance }}',
              description: fold(|||
                CloudStack's agent.properties on {{ $labels.instance }} sets
                kvm.heartbeat.fence.action to a value hbfence does not know, and hbfence.toml
                sets no fence.action, so hbfence fell back to hard-reboot as CloudStack's shell
                helper does (fence action now:
                {{ with printf `%(fenceActionNow)s` $labels.instance | query }}{{ (. | first).Labels.fence_action }}{{ else }}unknown{{ end }}).
                Whoever set it probably meant another action, perhaps log-only, and the host
                will be fenced when it loses its storage. Fix the property, or set fence.action
                in hbfence.toml (it wins), then reload hbfence.
              ||| % { fenceActionNow: fenceActionNow }),
              runbook_url: runbook('HbfenceUnknownFenceAction'),
            },
          },

          // ---------------------------------------------------------------- heartbeat writes
          {
            alert: 'HbfenceHeartbeatWriteFailures',
            // Heartbeat writes failing often enough to matter. One failure is harmless (a
            // lease spans several attempts) and must not open a ticket: alert when, over
            // _config.writeFailuresWindow (15m), at least writeFailuresMinCount (3) writes
            // to a target failed with an error AND they were more than writeFailuresRatio
            // (5 %) of its attempts. At the default 5 s interval that is 9 of 180 attempts
            // (one every 100 s, or 45 s of failing in a row); at CloudStack's 60 s it is 3
            // of 15. One alert per reason seen in the window, while the target as a whole
            // is over the threshold. Timeouts are the next alert's.
            expr: |||
              sum by (instance, target, reason) (
                increase(hbfence_heartbeat_write_errors_total{%(hbfenceSelector)s}[%(writeFailuresWindow)s])
              ) > 0
              and on (instance, target)
              (
                  sum by (instance, target) (increase(hbfence_heartbeat_write_errors_total{%(hbfenceSelector)s}[%(writeFailuresWindow)s]))
                    >= %(writeFailuresMinCount)d
                and on (instance, target)
                  sum by (instance, target) (increase(hbfence_heartbeat_write_errors_total{%(hbfenceSelector)s}[%(writeFailuresWindow)s]))
                  / sum by (instance, target) (increase(hbfence_heartbeat_writes_total{%(hbfenceSelector)s}[%(writeFailuresWindow)s]))
                    > %(writeFailuresRatio)g
              )
            ||| % c,
            'for': c.writeFailuresFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Heartbeat writes to {{ $labels.target }} failing on {{ $labels.instance }} ({{ $labels.reason }})',
              description: fold(|||
                About {{ $value | humanize }} heartbeat writes from {{ $labels.instance }} to
                {{ $labels.target }} failed with {{ $labels.reason }} in the last %(window)s;
                {{ with printf `sum(increase(hbfence_heartbeat_write_errors_total{%(sel)s,instance='%%s',target='%%s'}[%(windowDuration)s])) / sum(increase(hbfence_heartbeat_writes_total{%(sel)s,instance='%%s',target='%%s'}[%(windowDuration)s]))` $labels.instance $labels.target $labels.instance $labels.target | query }}{{ . | first | value | humanizePercentage }}{{ else }}a share{{ end }}
                of its attempts failed (any reason). If no write succeeds for a lease, the host
                fails this target.
              ||| % { sel: sel, window: human(c.writeFailuresWindow), windowDuration: c.writeFailuresWindow }),
              runbook_url: runbook('HbfenceHeartbeatWriteFailures'),
            },
          },

          {
            alert: 'HbfenceHeartbeatWriteTimeouts',
            expr: |||
              sum by (instance, target) (
                increase(hbfence_heartbeat_write_timeouts_total{%(hbfenceSelector)s}[5m])
              ) > 0
            ||| % c,
            'for': c.writeTimeoutsFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Heartbeat writes to {{ $labels.target }} timing out on {{ $labels.instance }}',
              description: fold(|||
                About {{ $value | humanize }} heartbeat attempts from {{ $labels.instance }} to
                {{ $labels.target }} did not complete within the configured timeout in the
                last 5 minutes. If no write succeeds for a lease, the host fails this target.
              |||),
              runbook_url: runbook('HbfenceHeartbeatWriteTimeouts'),
            },
          },

          {
            alert: 'HbfenceHeartbeatStuckWrites',
            expr: 'max by (instance, target) (hbfence_heartbeat_stuck_writes{%(hbfenceSelector)s}) > 0' % c,
            'for': c.stuckWritesFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Heartbeat write stuck in the kernel on {{ $labels.instance }} ({{ $labels.target }})',
              description: fold(|||
                A heartbeat write from {{ $labels.instance }} to {{ $labels.target }} has been
                outstanding past the timeout for over %(for)s: the storage is hung for this
                host (dead NFS server, blocked DRBD device). Processes touching it, VMs
                included, are likely blocked too.
              ||| % { 'for': human(c.stuckWritesFor) }),
              runbook_url: runbook('HbfenceHeartbeatStuckWrites'),
            },
          },

          {
            alert: 'HbfenceHeartbeatLatencyHigh',
            // Early warning for false fencing (e.g. a DRBD resync slowing every write):
            // p99 at or above 80 % of the host's configured timeout for 10 minutes
            // (_config.latencyHighRatio, latencyHighFor).
            expr: |||
              instance_target:hbfence_heartbeat_write_duration_seconds:p99_5m
                >= on (instance) group_left ()
              %(latencyHighRatio)g * max by (instance) (hbfence_heartbeat_timeout_seconds{%(hbfenceSelector)s})
            ||| % c,
            'for': c.latencyHighFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Heartbeat writes to {{ $labels.target }} on {{ $labels.instance }} are close to the timeout',
              description: fold(|||
                p99 heartbeat write latency from {{ $labels.instance }} to {{ $labels.target }} is
                {{ $value | humanizeDuration }}, at least %(percent)s %% of the configured timeout of
                {{ with printf `hbfence_heartbeat_timeout_seconds{%(sel)s,instance='%%s'}` $labels.instance | query }}{{ . | first | value | humanizeDuration }}{{ else }}?{{ end }}.
                A little more latency and writes time out; a lease of timeouts fences the host.
              ||| % { sel: sel, percent: percent(c.latencyHighRatio) }),
              runbook_url: runbook('HbfenceHeartbeatLatencyHigh'),
            },
          },

          {
            alert: 'HbfenceHeartbeatGapNearLease',
            // Early warning for false fencing, from the lease's side: the longest a target
            // went without a successful write over the last 15 minutes (the daemon's
            // sliding window, the open gap included, measured as the decision engine sees
            // it) reached _config.gapLeaseWarningRatio (50 %) of the host's lease. The
            // storage recovered, or has not failed yet: the next stall a little longer
            // fails the target and, by the fence policy, may fence a host whose storage
            // comes back. Latency alone does not show it: a write that fails fast, or a
            // few stuck ones, leave p99 low.
            //   - Not while the target is down (target_up 0): the target-down, storage-wide
            //     and fence alerts are about that. Once it is back, a gap over the lease
            //     (it did fail) still fires: a failure shorter than the target-down alert's
            //     `for`, under a policy that did not decide, leaves no other trace.
            //   - Only for a gap of two intervals or more (a tick passed without a
            //     renewal): the schedule alone leaves one interval plus the write's
            //     latency, over the share all the time on a lease of a few intervals.
            //   - It resolves by itself 15 minutes after the gap ended (the window).
            // The value is the share of the lease. Routed as one ticket per pool
            // (alertmanager.yml): a slow pool stalls every host on it.
            expr: |||
              (
                max by (instance, target) (hbfence_heartbeat_gap_max_seconds{%(hbfenceSelector)s})
                  / on (instance) group_left ()
                max by (instance) (hbfence_heartbeat_lease_seconds{%(hbfenceSelector)s})
              ) >= %(gapLeaseWarningRatio)g
              and on (instance, target)
              (
                max by (instance, target) (hbfence_heartbeat_gap_max_seconds{%(hbfenceSelector)s})
                  >= on (instance) group_left ()
                2 * max by (instance) (hbfence_heartbeat_interval_seconds{%(hbfenceSelector)s})
              )
              and on (instance, target)
              max by (instance, target) (hbfence_target_up{%(hbfenceSelector)s}) == 1
            ||| % c,
            'for': c.gapNearLeaseFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Heartbeat gap to {{ $labels.target }} on {{ $labels.instance }} reached {{ $value | humanizePercentage }} of the lease',
              description: fold(|||
                In the last 15 minutes {{ $labels.instance }} went
                {{ with printf `max(hbfence_heartbeat_gap_max_seconds{%(sel)s,instance='%%s',target='%%s'})` $labels.instance $labels.target | query }}{{ . | first | value | humanizeDuration }}{{ else }}?{{ end }}
                without a successful heartbeat write to {{ $labels.target }}:
                {{ $value | humanizePercentage }} of its lease of
                {{ with printf `max(hbfence_heartbeat_lease_seconds{%(sel)s,instance='%%s'})` $labels.instance | query }}{{ . | first | value | humanizeDuration }}{{ else }}?{{ end }}
                (this warns from %(percent)s %%).
                {{ if ge $value 1.0 }}That is longer than the lease: the target failed for a while and is back.{{ else }}A stall a little longer fails the target, and by the fence policy may fence the host although the storage comes back.{{ end }}
                Find the stall with hbfence replay and choose a lease from the recorded history
                with hbfence advise. This clears 15 minutes after the gap ended.
              ||| % { sel: sel, percent: percent(c.gapLeaseWarningRatio) }),
              runbook_url: runbook('HbfenceHeartbeatGapNearLease'),
            },
          },

          // ---------------------------------------------------------------- write history
          {
            alert: 'HbfenceHistoryRecordsDropped',
            // The write history (`[history]`, read by hbfence replay and advise) lost
            // records: queue_full, its disk is too slow or hung to keep up (the records are
            // written off the scheduler thread, through a bounded queue); write_error, the
            // disk is full or failing. Heartbeat and fencing do not depend on it, so info:
            // a ticket, reminded daily. The series start at 0 with their target.
            expr: |||
              sum by (instance, target, reason) (
                increase(hbfence_history_records_dropped_total{%(hbfenceSelector)s}[%(historyDroppedWindow)s])
              ) > 0
            ||| % c,
            'for': '0s',
            labels: { severity: 'info' },
            annotations: {
              summary: 'Write history of {{ $labels.target }} on {{ $labels.instance }} is losing records ({{ $labels.reason }})',
              description: fold(|||
                About {{ $value | humanize }} write history records of {{ $labels.target }}
                were dropped on {{ $labels.instance }} in the last %(window)s
                ({{ if eq $labels.reason "queue_full" }}the history disk is too slow or hung to keep up{{ else }}writing them failed: disk full or I/O errors{{ end }}).
                hbfence replay and hbfence advise will be incomplete for this time; heartbeat
                writes and fencing are not affected.
              ||| % { window: human(c.historyDroppedWindow) }),
              runbook_url: runbook('HbfenceHistoryRecordsDropped'),
            },
          },

          // ---------------------------------------------------------------- the sidecar itself
          {
            alert: 'HbfenceSidecarDown',
            expr: 'up{%(hbfenceSelector)s} == 0' % c,
            'for': c.sidecarDownFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'hbfence on {{ $labels.instance }} cannot be scraped',
              description: fold(|||
                Prometheus has failed to scrape hbfence on {{ $labels.instance }} for %(for)s.
                Either the host is down (possibly fenced) or the sidecar is not running, in
                which case the host has no storage heartbeat and no fencing.
              ||| % { 'for': human(c.sidecarDownFor) }),
              runbook_url: runbook('HbfenceSidecarDown'),
            },
          },

          {
            alert: 'HbfenceSidecarAbsent',
            expr: 'absent(up{%(hbfenceSelector)s})' % c,
            'for': c.sidecarAbsentFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'No hbfence scrape target at all',
              description: fold(|||
                Prometheus has had no target matching up{%(sel)s} for %(for)s: every hbfence
                alert is blind. Check the scrape configuration and service discovery.
              ||| % { sel: sel, 'for': human(c.sidecarAbsentFor) }),
              runbook_url: runbook('HbfenceSidecarAbsent'),
            },
          },

          {
            alert: 'HbfenceConfigReloadFailed',
            expr: 'max by (instance) (hbfence_config_last_reload_successful{%(hbfenceSelector)s}) == 0' % c,
            'for': c.configReloadFailedFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'hbfence config reload failed on {{ $labels.instance }}',
              description: fold(|||
                The last SIGHUP reload of hbfence on {{ $labels.instance }} was rejected; the
                previous configuration is still running. The file on disk is invalid, so the
                next restart (or reboot) of hbfence will fail to start.
              |||),
              runbook_url: runbook('HbfenceConfigReloadFailed'),
            },
          },
        ],
      },
    ],
  },
}
