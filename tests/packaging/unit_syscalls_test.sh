#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Traces the daemon (strace -f, its fence scripts included) through what it does
# under hbfence.service and fails if any system call or socket family falls outside
# the unit's SystemCallFilter= / RestrictAddressFamilies= (unit_syscalls.py).
#
#   1. hard-reboot: start (getifaddrs, control socket, HTTP server, a regular file as
#      the watchdog device), heartbeats, a scrape, SIGHUP reload, the target breaks,
#      the lease runs out, sync, the byte to the sysrq trigger (a temp file), SIGTERM.
#   2. graceful-reboot: the same, fencing through `systemctl reboot` (a recorder
#      script, as an operator's custom script would be), escalating to sysrq.
# Not traced here: destroy-vms against a real libvirtd (tests/e2e/vm_fence_e2e_test
# drives it; its calls -- AF_UNIX to libvirtd, kill, pidfd_open, umount2 -- are in
# the unit's set, see the unit's comments).
#
# Every path is a temp file: the real sysrq trigger, reboot(2) and watchdog are never
# touched, and the nofence tripwire is preloaded (HBFENCE_TRIPWIRE) as in every test.
#
# Usage: unit_syscalls_test.sh HBFENCE_BINARY SOURCE_DIR
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 HBFENCE_BINARY SOURCE_DIR" >&2; exit 2; }
HBFENCE=$(realpath "$1")
UNIT=$2/packaging/hbfence.service
CHECK=$(dirname "$(realpath "$0")")/unit_syscalls.py
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
for tool in strace systemd-analyze python3 curl; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/test installs it)"
done
[ -n "${HBFENCE_TRIPWIRE:-}" ] && [ -f "$HBFENCE_TRIPWIRE" ] || skip "no nofence tripwire (HBFENCE_TRIPWIRE)"
# strace needs ptrace; a container may forbid it.
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace not permitted)"

W=$(mktemp -d /tmp/hbfence-unit-syscalls.XXXXXX)
pid= spid=
cleanup() {
  local rc=$?
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  if [ -n "$spid" ]; then wait "$spid" 2>/dev/null || true; fi
  rm -rf "$W"
  exit "$rc"
}
trap cleanup EXIT

wait_for() {  # SECONDS DESCRIPTION COMMAND...: polls COMMAND every 50 ms
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || { sed 's/^/  | /' "$W/$name/daemon.log" >&2; fail "$name: timed out waiting for $what"; }
    sleep 0.05
  done
}

# scenario NAME ACTION: runs the daemon under strace through one fence.
scenario() {
  name=$1
  local action=$2 d=$W/$1
  mkdir -p "$d/pool" "$d/run"
  chmod 0700 "$d/run"
  : >"$d/sysrq"
  : >"$d/watchdog"
  printf '#!/bin/sh\necho "$*" >> %s/systemctl.record\n' "$d" >"$d/systemctl"
  chmod 0755 "$d/systemctl"
  cat >"$d/hbfence.toml" <<EOF
[host]
id = "10.1.34.125"
[web]
listen_address = "127.0.0.1:0"
[heartbeat]
interval_seconds = 0.1
timeout_seconds = 0.3
lease_seconds = 1.0
[fence]
action = "$action"
journal_path = "$d/state/fence-journal.jsonl"
runtime_directory = "$d/run/hbfence"
sysrq_trigger_path = "$d/sysrq"
systemctl_path = "$d/systemctl"
sync_grace_seconds = 0.1
graceful_escalation_seconds = 1.0
[watchdog]
device = "$d/watchdog"
timeout_seconds = 60
[control]
socket_path = "$d/run/control.sock"
[[target]]
name = "primary"
path = "$d/pool/KVMHA/hb-10.1.34.125"
EOF
  echo "== $name: hbfence run ($action) under strace"
  # strace starts hbfence (env execs it, keeping the pid) as its only child and
  # exits with its status; the signals below go to hbfence itself.
  strace -f -qq -s 0 -o "$d/strace.log" env LD_PRELOAD="$HBFENCE_TRIPWIRE" \
    "$HBFENCE" run --config "$d/hbfence.toml" >"$d/daemon.log" 2>&1 &
  spid=$!
  wait_for 20 "hbfence to start" pgrep -P "$spid" >/dev/null
  pid=$(pgrep -P "$spid")
  wait_for 20 "the HTTP port" grep -q '(port [0-9]*)' "$d/daemon.log"
  local port
  port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$d/daemon.log" | head -n 1)
  wait_for 20 "a heartbeat" test -s "$d/pool/KVMHA/hb-10.1.34.125"
  curl -fsS "http://127.0.0.1:$port/metrics" >"$d/metrics" || fail "$name: scrape failed"
  kill -HUP "$pid"
  wait_for 20 "the reload" grep -q 'SIGHUP: configuration .* reloaded' "$d/daemon.log"
  # The pool dies the way it does for a writer: its directory is gone for good. One
  # atomic exchange (renameat2 RENAME_EXCHANGE) puts a file in its place: removing the
  # directory first let the daemon's next write create it again before the file came.
  echo 'not a directory' >"$d/pool/KVMHA.file"
  python3 -c 'import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
sys.exit(0 if libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 2) == 0 else ctypes.get_errno())' \
    "$d/pool/KVMHA.file" "$d/pool/KVMHA" || fail "$name: cannot put a file where the pool directory was"
  rm -rf "$d/pool/KVMHA.file"
  wait_for 30 "the sysrq byte" grep -q b "$d/sysrq"
  if [ "$action" = graceful-reboot ]; then
    grep -qx reboot "$d/systemctl.record" || fail "$name: systemctl reboot was not run"
  fi
  kill -TERM "$pid"
  local rc=0
  wait "$spid" || rc=$?
  pid=
  [ "$rc" -eq 0 ] || { sed 's/^/  | /' "$d/daemon.log"; fail "$name: hbfence exited $rc after SIGTERM"; }
  echo "  fenced (sysrq byte written), stopped cleanly"
}

scenario hard hard-reboot
scenario graceful graceful-reboot

echo "== against $UNIT"
python3 "$CHECK" "$UNIT" "$W/hard/strace.log" "$W/graceful/strace.log" || fail "the daemon needs calls the unit denies (above)"
echo PASS
