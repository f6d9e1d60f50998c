#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# hbfence's drop-in for CloudStack's KVM heartbeat scripts (kvmheartbeat.sh for NFS,
# kvmsmpheartbeat.sh for SharedMountPoint, kvmspheartbeat.sh for StorPool/LINSTOR):
# the same flags, but hbfence writes the heartbeat and decides on fencing, so this
# script only asks it (docs/cloudstack.md).
#
#   (no -r, no -c)  report hbfence's verdict on the heartbeat CloudStack expects
#                   for this host, <-m>/KVMHA/hb-<-h> (the pool at -m without -h);
#                   exit 0 while its lease holds, and for a pool hbfence does not
#                   watch (with a warning): hbfence cannot judge it, so the agent
#                   must not fence for it. Non-zero when hbfence writes another file
#                   on that pool (its host.id is not the -h the agent passes: the
#                   neighbours, who read hb-<-h>, would find this host dead), and
#                   when hbfence is unreachable (not running: the agent's own
#                   judgement applies). Never writes a heartbeat itself.
#   -r              peer check: is host -h still writing <mount>/KVMHA/hb-<host>?
#                   Prints "=====> ALIVE <=====" or "=====> DEAD <======
#                   Considering host as DEAD because ..."; -t is the window in
#                   seconds.
#   -c              fence this host through hbfence's configured action: `hbfence
#                   fence` asks the daemon, whose verdict stands (refused on a host
#                   whose leases hold); when the daemon does not answer (down,
#                   wedged) it runs the action itself, journaled and limited as the
#                   daemon would. Only when even that cannot fence (no usable
#                   configuration, no binary, a reboot that did not happen) does
#                   CloudStack's own -c run: sync, then 'b' to the sysrq trigger.
# -i and -p (the NFS server and export) are accepted and ignored: hbfence never
# mounts anything; CloudStack's agent keeps the pool mounted.
#
# Environment: HBFENCE_BIN (default /usr/sbin/hbfence), HBFENCE_CONTROL_SOCKET
# (default: the configuration's [control] socket_path for -c, hbfence's default
# /run/hbfence/control.sock otherwise), HBFENCE_CONFIG (default
# /etc/hbfence/hbfence.toml), HBFENCE_FALLBACK_SYSRQ (the sysrq trigger of the last
# resort, default /proc/sysrq-trigger; tests point it at a stand-in),
# HBFENCE_CALLED_AS (the CloudStack script name, for messages; set by the thin
# wrappers).
set -eu

hbfence=${HBFENCE_BIN:-/usr/sbin/hbfence}
called_as=${HBFENCE_CALLED_AS:-$(basename "$0")}

# CloudStack's own -c, for when hbfence cannot fence at all: the host must not stay
# up with VMs that may be started elsewhere. Log, sync for at most 5 s, reboot.
cloudstack_reboot() {
  sysrq=${HBFENCE_FALLBACK_SYSRQ:-/proc/sysrq-trigger}
  printf '%s: hbfence could not fence (%s): falling back to CloudStack'"'"'s own reboot (sync, then b to %s)\n' \
    "$called_as" "$1" "$sysrq" >&2
  # In the background: a syslog that does not answer must not hold the reboot back.
  logger -t heartbeat "$called_as will reboot system because it was unable to write the heartbeat to the storage (hbfence could not fence: $1)" 2>/dev/null &
  sync &
  sync_pid=$!
  tenths=0
  while [ "$tenths" -lt 50 ] && kill -0 "$sync_pid" 2>/dev/null; do
    sleep 0.1
    tenths=$((tenths + 1))
  done
  echo b > "$sysrq"
  exit 0
}

usage() {
  printf 'Usage: %s -m MOUNT_POINT [-h HOST] [-r] [-c] [-t SECONDS] [-i NFS_SERVER] [-p NFS_PATH]\n' "$called_as" >&2
  exit 2
}

mount_point=
host=
window=
check_peer=0
fence=0
while getopts 'i:p:m:h:t:rc' option; do
  case $option in
    i | p) ;;
    m) mount_point=$OPTARG ;;
    h) host=$OPTARG ;;
    t) window=$OPTARG ;;
    r) check_peer=1 ;;
    c) fence=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
if [ -n "$window" ]; then
  case $window in
    '' | *[!0-9]*) printf '%s: -t must be a whole number of seconds, not %s\n' "$called_as" "$window" >&2; exit 2 ;;
  esac
fi

if [ "$fence" -eq 1 ]; then
  # The socket only when overridden: by default `hbfence fence` uses the configuration's.
  set -- fence --config "${HBFENCE_CONFIG:-/etc/hbfence/hbfence.toml}" --target "$mount_point"
  if [ -n "${HBFENCE_CONTROL_SOCKET:-}" ]; then
    set -- "$@" --socket "$HBFENCE_CONTROL_SOCKET"
  fi
  status=0
  "$hbfence" "$@" -- "cloudstack agent: $called_as -c${mount_point:+ for $mount_point}" || status=$?
  case $status in
    # 0: the daemon accepted, or the configured action ran (log-only and hourly-limited
    # ones too); 1: the daemon refused (its leases hold), or restart-agent failed.
    0 | 1) exit "$status" ;;
  esac
  cloudstack_reboot "hbfence fence exited $status"
fi

# argv for `hbfence control`, with the socket only when overridden.
set -- control
if [ -n "${HBFENCE_CONTROL_SOCKET:-}" ]; then
  set -- control --socket "$HBFENCE_CONTROL_SOCKET"
fi

[ -n "$mount_point" ] || { printf '%s: -m MOUNT_POINT is required\n' "$called_as" >&2; usage; }

case $host in
  */*) printf '%s: -h must not contain /\n' "$called_as" >&2; exit 2 ;;
esac

if [ "$check_peer" -eq 1 ]; then
  [ -n "$host" ] || { printf '%s: -r needs -h HOST\n' "$called_as" >&2; usage; }
  if [ -n "$window" ]; then
    exec "$hbfence" peer-check --path "$mount_point/KVMHA/hb-$host" --window "$window"
  fi
  exec "$hbfence" peer-check --path "$mount_point/KVMHA/hb-$host"
fi

# KVMHAMonitor passes the host's private IP as -h and writes <mount>/KVMHA/hb-<-h>,
# the file its neighbours read: ask about exactly that file, so that a host.id
# other than -h is an error here rather than a heartbeat nobody sees.
heartbeat=$mount_point
[ -z "$host" ] || heartbeat="$mount_point/KVMHA/hb-$host"
status=0
reply=$("$hbfence" "$@" status "$heartbeat") || status=$?
[ -z "$reply" ] || printf '%s\n' "$reply"
case $reply in
  'mismatch '*)
    printf '%s: ERROR: the agent names this host "%s" (-h) and its neighbours read %s, which hbfence does not write (above): %s\n' \
      "$called_as" "$host" "$heartbeat" \
      'they would find this host dead. Set [host] id to the agent'"'"'s -h in hbfence.toml (docs/cloudstack.md), then systemctl reload hbfence' >&2
    exit 1
    ;;
  'unknown '*)
    printf '%s: warning: hbfence does not watch the pool at %s, so it cannot judge it; %s\n' "$called_as" \
      "$mount_point" 'exiting 0: the agent will not fence this host for that pool' >&2
    exit 0
    ;;
esac
exit "$status"
