# SPDX-License-Identifier: Apache-2.0
# A synthetic fleet for dashboards/check's live step, in OpenMetrics (for `promtool tsdb
# create-blocks-from openmetrics`): every 30 s for the 3 h before `end` (unix seconds: awk -v end=...).
#
# Three groups of three hosts, scraped by job "hbfence":
#   cluster="a":      hv1:19746 hv2:19746 hv3:19746
#   cluster="b":      hv1:19746 hv2:19746 hv3:19746   (the same host names as in a)
#   no cluster label: hv4:19746 hv5:19746 hv6:19746
# The first, second and third host of each group (t: seconds before `end`):
#   1. armed, destroy-vms, pools nfs1 and nfs2; restarted at -30m; nfs2 down from -10m, its
#      3 VMs destroyed at -8m, after which nfs2's VM counter ends (the pool left the
#      targets); a VM fence escalation (unmount_failed) at -5m;
#   2. log-only, pool nfs1 down from -20m: a log-only decision then, pending since; its
#      CloudStack peers stale from then on; unknown agent.properties fence action; a failed
#      reload at -40m; a journal error every 10 minutes;
#   3. hard-reboot, pool nfs1; the sidecar is down from -15m (up 0, its series end).
# Heartbeat gaps (the 15-minute maximum): 5.1 s, the open gap while a target is down,
# and a 35 s stall on host 1's nfs1 at -60m (held for 15 minutes). Write history records
# dropped: 50 on host 1's nfs1 at -70m (queue_full), and one every 10 minutes from -60m
# on host 2 (write_error).
# Every metric the dashboards query has series; counters do not reset.

# Samples are kept per metric and printed family by family at the end.
function emit(name, labels, v) {
  if (!(name in count)) names[nnames++] = name
  lines[name, count[name]++] = sprintf("%s{%s} %s %d", name, labels, v, end + t)
}
# A host's labels: job, instance and, in the labelled groups, cluster.
function hostLabels(g, h) {
  return "job=\"hbfence\"," (cluster[g] == "" ? "" : "cluster=\"" cluster[g] "\",") \
    "instance=\"hv" (g == 3 ? h + 3 : h) ":19746\""
}
# Series of one metric for every host, every step; value(m, host, labels) decides, "" = no
# sample (the series has ended or not started).
function series(m, h, extra,    g, v) {
  for (g = 1; g <= 3; g++) {
    for (t = -SPAN; t <= 0; t += STEP) {
      v = value(m, h, extra)
      if (v != "") emit(m, hostLabels(g, h) (extra == "" ? "" : "," extra), v)
    }
  }
}
function alive(h) { return h != 3 || t < -900 }
function down(h, target) { return (h == 1 && target == "nfs2" && t >= -600) || (h == 2 && t >= -1200) }
function downSince(h) { return h == 1 ? -600 : -1200 }

function value(m, h, extra,    target, n, up) {
  if (m == "up") return alive(h) ? 1 : 0
  if (!alive(h)) return ""
  target = extra; sub(/^target="/, "", target); sub(/".*/, "", target)
  if (m == "hbfence_build_info") return 1
  if (m == "process_start_time_seconds") return end + (h == 1 && t >= -1800 ? -1800 : -4 * 3600)
  if (m == "process_cpu_seconds_total") return (t + SPAN) * 0.002
  if (m == "process_resident_memory_bytes") return 8e6
  if (m == "process_virtual_memory_bytes") return 1.2e8
  if (m == "process_open_fds") return 20
  if (m == "process_max_fds") return 1024
  if (m == "hbfence_fence_armed") return h == 2 ? 0 : 1
  if (m == "hbfence_fence_pending") return h == 2 && t >= -1200 ? 1 : 0
  if (m == "hbfence_config_info") return 1
  if (m == "hbfence_config_last_reload_successful") return h == 2 && t >= -2400 ? 0 : 1
  if (m == "hbfence_config_reloads_total") return extra ~ /failure/ && h == 2 && t >= -2400 ? 1 : 0
  if (m == "hbfence_config_unknown_fence_action") return h == 2 ? 1 : 0
  if (m == "hbfence_fence_journal_errors_total") return h == 2 ? int((t + SPAN) / 600) : 0
  if (m == "hbfence_fence_decisions_total") return (h == 1 && t >= -480) || (h == 2 && t >= -1200) ? 1 : 0
  if (m == "hbfence_fence_actions_total") return (h == 1 && t >= -480) || (h == 2 && t >= -1200) ? 1 : 0
  if (m == "hbfence_last_fence_timestamp_seconds") return h == 1 && t >= -480 ? end - 480 : 0
  if (m == "hbfence_heartbeat_interval_seconds") return 5
  if (m == "hbfence_heartbeat_timeout_seconds") return 10
  if (m == "hbfence_heartbeat_lease_seconds") return 60
  # Per target: writes every 5 s; while down, every attempt times out.
  up = !down(h, target)
  n = int(((up ? t : downSince(h)) + SPAN) / 5)
  if (m == "hbfence_target_up") return up ? 1 : 0
  if (m == "hbfence_heartbeat_last_success_timestamp_seconds") return end + (up ? t : downSince(h)) - 2
  if (m == "hbfence_heartbeat_consecutive_failures") return up ? 0 : int((t - downSince(h)) / 5)
  if (m == "hbfence_heartbeat_stuck_writes") return up ? 0 : 1
  if (m == "hbfence_heartbeat_gap_max_seconds")
    return !up ? t - downSince(h) + 2 : h == 1 && target == "nfs1" && t >= -3600 && t < -2700 ? 35 : 5.1
  if (m == "hbfence_history_records_dropped_total") {
    if (extra ~ /queue_full/) return h == 1 && target == "nfs1" && t >= -4200 ? 50 : 0
    return h == 2 && t >= -3600 ? int((t + 3600) / 600) + 1 : 0
  }
  if (m == "hbfence_heartbeat_writes_total") return int((t + SPAN) / 5)
  if (m == "hbfence_heartbeat_write_timeouts_total") return up ? 0 : int((t - downSince(h)) / 5)
  if (m == "hbfence_heartbeat_write_errors_total") return extra ~ /io_error/ ? int((t + SPAN) / 1800) : 0
  if (m == "hbfence_heartbeat_write_duration_seconds_bucket")
    return extra ~ /le="0.01"/ ? int(n * 0.9) : extra ~ /le="0.05"/ ? int(n * 0.98) : n
  if (m == "hbfence_heartbeat_write_duration_seconds_count") return n
  if (m == "hbfence_heartbeat_write_duration_seconds_sum") return n * 0.006
  # CloudStack peers: written every 60 s; host 2's stand still from -20m.
  if (m == "hbfence_peer_heartbeat_age_seconds") return h == 2 && t >= -1200 ? t + 1200 + 30 : (t + SPAN) % 60
  # destroy-vms, host 1 only.
  if (h != 1) return ""
  if (m == "hbfence_fence_vm_domains_destroyed_total") return target == "nfs1" ? 0 : t < -480 ? 0 : t <= -420 ? 3 : ""
  if (m == "hbfence_fence_vm_escalations_total") return extra ~ /unmount_failed/ && t >= -300 ? 1 : 0
  if (m ~ /^hbfence_fence_vm_step_duration_seconds/) return t < -480 ? 0 : stepValue(m, extra)
  return ""
}
# One observation per step at -8m: select 0.02 s, destroy 0.5 s, unmount 2 s.
function stepValue(m, extra,    d, le) {
  d = extra ~ /select/ ? 0.02 : extra ~ /destroy/ ? 0.5 : 2
  if (m ~ /_sum$/) return d
  if (m ~ /_count$/) return 1
  le = extra; sub(/.*le="/, "", le); sub(/".*/, "", le)
  return le == "+Inf" || d <= le + 0 ? 1 : 0
}

BEGIN {
  if (end == "") { print "fleet.awk: -v end=<unix seconds> needed" > "/dev/stderr"; exit 2 }
  SPAN = 3 * 3600; STEP = 30
  cluster[1] = "a"; cluster[2] = "b"; cluster[3] = ""

  for (h = 1; h <= 3; h++) {
    series("up", h)
    series("hbfence_build_info", h, "version=\"1.0.0\",revision=\"abc\"")
    series("process_start_time_seconds", h)
    series("process_cpu_seconds_total", h)
    series("process_resident_memory_bytes", h)
    series("process_virtual_memory_bytes", h)
    series("process_open_fds", h)
    series("process_max_fds", h)
    series("hbfence_fence_armed", h)
    series("hbfence_fence_pending", h)
    action = h == 1 ? "destroy-vms" : h == 2 ? "log-only" : "hard-reboot"
    series("hbfence_config_info", h, "fence_action=\"" action "\",policy=\"any\"")
    series("hbfence_config_last_reload_successful", h)
    series("hbfence_config_reloads_total", h, "result=\"success\"")
    series("hbfence_config_reloads_total", h, "result=\"failure\"")
    series("hbfence_config_unknown_fence_action", h)
    series("hbfence_fence_journal_errors_total", h)
    series("hbfence_fence_decisions_total", h, "action=\"" action "\"")
    series("hbfence_fence_actions_total", h, "action=\"" action "\",result=\"" (h == 2 ? "logged" : "success") "\"")
    series("hbfence_last_fence_timestamp_seconds", h)
    series("hbfence_heartbeat_interval_seconds", h)
    series("hbfence_heartbeat_timeout_seconds", h)
    series("hbfence_heartbeat_lease_seconds", h)
    ntargets = h == 1 ? 2 : 1
    for (i = 1; i <= ntargets; i++) {
      tl = "target=\"nfs" i "\""
      series("hbfence_target_up", h, tl)
      series("hbfence_heartbeat_last_success_timestamp_seconds", h, tl)
      series("hbfence_heartbeat_consecutive_failures", h, tl)
      series("hbfence_heartbeat_stuck_writes", h, tl)
      series("hbfence_heartbeat_gap_max_seconds", h, tl)
      series("hbfence_history_records_dropped_total", h, tl ",reason=\"queue_full\"")
      series("hbfence_history_records_dropped_total", h, tl ",reason=\"write_error\"")
      series("hbfence_heartbeat_writes_total", h, tl)
      series("hbfence_heartbeat_write_timeouts_total", h, tl)
      series("hbfence_heartbeat_write_errors_total", h, tl ",reason=\"io_error\"")
      series("hbfence_heartbeat_write_errors_total", h, tl ",reason=\"no_space\"")
      split("0.01 0.05 0.5 2.5 10 +Inf", les, " ")
      for (j = 1; j <= 6; j++) series("hbfence_heartbeat_write_duration_seconds_bucket", h, tl ",le=\"" les[j] "\"")
      series("hbfence_heartbeat_write_duration_seconds_count", h, tl)
      series("hbfence_heartbeat_write_duration_seconds_sum", h, tl)
      if (i == 1) for (p = 1; p <= 3; p++) series("hbfence_peer_heartbeat_age_seconds", h, tl ",peer=\"10.0.0." p "\"")
      series("hbfence_fence_vm_domains_destroyed_total", h, tl)
    }
    split("no_mount libvirt_error host_page_cache unknown_source processes_survived unmount_failed", reasons, " ")
    for (j = 1; j <= 6; j++) series("hbfence_fence_vm_escalations_total", h, "reason=\"" reasons[j] "\"")
    split("select destroy unmount", steps, " ")
    split("0.01 0.1 1 10 60 +Inf", les, " ")
    for (s = 1; s <= 3; s++) {
      sl = "step=\"" steps[s] "\""
      for (j = 1; j <= 6; j++) series("hbfence_fence_vm_step_duration_seconds_bucket", h, sl ",le=\"" les[j] "\"")
      series("hbfence_fence_vm_step_duration_seconds_count", h, sl)
      series("hbfence_fence_vm_step_duration_seconds_sum", h, sl)
    }
  }
  # OpenMetrics: the samples of a metric family together.
  for (i = 0; i < nnames; i++) for (j = 0; j < count[names[i]]; j++) print lines[names[i], j]
  print "# EOF"
}
