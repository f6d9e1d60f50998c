#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# packaging/hbfence.service without installing anything (no root needed):
#  1. `systemd-analyze verify` on a copy whose ExecStart= points at the built binary
#     (verify insists that the binary exists), with no warning at all;
#  2. the settings hbfence depends on are there, and the ones that would break
#     fencing are not;
#  3. `systemd-analyze security` rates its exposure at most HBFENCE_MAX_EXPOSURE
#     (tests/packaging/CMakeLists.txt), so hardening is not lost unnoticed.
# Usage: unit_verify_test.sh HBFENCE_BINARY SOURCE_DIR
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 HBFENCE_BINARY SOURCE_DIR" >&2; exit 2; }
HBFENCE=$(realpath "$1")
UNIT=$2/packaging/hbfence.service
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }

WORK=$(mktemp -d /tmp/hbfence-unit-verify.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
sed "s|^ExecStart=/usr/sbin/hbfence |ExecStart=$HBFENCE |" "$UNIT" >"$WORK/hbfence.service"
grep -q "^ExecStart=$HBFENCE run " "$WORK/hbfence.service" || fail "could not retarget ExecStart="

echo "== systemd-analyze verify (ExecStart -> $HBFENCE)"
# The man page is not installed here; the package test verifies man:hbfence(8).
set +e
out=$(systemd-analyze verify --man=no "$WORK/hbfence.service" 2>&1)
rc=$?
set -e
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
  echo "$out"
  fail "systemd-analyze verify: exit $rc (any warning counts)"
fi
echo "  ok"

echo "== required settings"
require() {  # EXACT_LINE
  grep -qxF "$1" "$UNIT" || fail "missing: $1"
  echo "  ok $1"
}
require "Type=notify"
require "NotifyAccess=main"
require "ExecStart=/usr/sbin/hbfence run --config /etc/hbfence/hbfence.toml"
# shellcheck disable=SC2016 # a literal $MAINPID
require 'ExecReload=/bin/kill -HUP $MAINPID'
require "WatchdogSec=30s"
require "Restart=always"
require "RestartSec=5s"
require "ProtectSystem=strict"
require "StateDirectory=hbfence"
require "ProtectHome=yes"
require "PrivateTmp=yes"
require "NoNewPrivileges=yes"
require "ProtectKernelModules=yes"
require "ProtectControlGroups=yes"
require "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK"
require "LockPersonality=yes"
require "MemoryDenyWriteExecute=yes"
require "SystemCallArchitectures=native"
require "ProtectHostname=yes"
require "ProtectProc=invisible"
require "UMask=0022"
# A call outside the filter must fail, not kill the daemon with SIGSYS while it fences.
require "SystemCallErrorNumber=EPERM"
require "SystemCallFilter=@system-service"
# reboot(2), hard-reboot's fallback; umount2, destroy-vms' forced unmount.
require "SystemCallFilter=reboot umount2"
require "WantedBy=multi-user.target"
rw=$(sed -n 's/^ReadWritePaths=//p' "$UNIT")
for p in /var/lib/hbfence /mnt /proc/sysrq-trigger; do
  grep -qE "(^| )-?$p( |$)" <<<"$rw" || fail "ReadWritePaths= lacks $p"
done
echo "  ok ReadWritePaths=$rw"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
grep -qw CAP_SYS_BOOT <<<"$caps" || fail "CapabilityBoundingSet= lacks CAP_SYS_BOOT (reboot(2) fallback)"
echo "  ok CapabilityBoundingSet=$caps"

echo "== settings that would break fencing"
# ProtectKernelTunables= makes /proc/sysrq-trigger read-only (systemd >= 242);
# PrivateDevices=/DevicePolicy=/ProtectClock= would hide /dev/watchdog and block
# targets' devices; ProcSubset=pid hides /proc/sysrq-trigger; ProtectProc=invisible
# shows hbfence the QEMU processes destroy-vms kills only while it runs in group 0
# (the proc mount's group), so no User=/Group=/DynamicUser=/SupplementaryGroups=;
# a "~" filter after @system-service must not take reboot, umount2, kill, ioctl or
# the sync calls away (@privileged, @reboot, @mount, @signal, @sync, ...).
for bad in '^ProtectKernelTunables=(yes|true|on|1)' '^PrivateDevices=(yes|true|on|1)' '^DevicePolicy=(closed|strict)' \
           '^ProtectClock=(yes|true|on|1)' '^ReadOnlyPaths=.*/proc/sysrq-trigger' '^InaccessiblePaths=.*/proc' \
           '^ProcSubset=pid' '^(User|Group|DynamicUser|SupplementaryGroups)=' \
           '^SystemCallFilter=~.*@(privileged|reboot|mount|signal|sync|basic-io|file-system|process|ipc|network-io)'; do
  if grep -Eq "$bad" "$UNIT"; then fail "the unit sets $(grep -E "$bad" "$UNIT")"; fi
done
echo "  ok"

echo "== systemd-analyze security (offline)"
max=${HBFENCE_MAX_EXPOSURE:-}
[ -n "$max" ] || fail "HBFENCE_MAX_EXPOSURE is not set (tests/packaging/CMakeLists.txt sets it)"
set +e
out=$(systemd-analyze security --offline=true --no-pager "$WORK/hbfence.service" 2>&1)
rc=$?
set -e
exposure=$(sed -n 's/.*Overall exposure level for hbfence.service: \([0-9.]*\).*/\1/p' <<<"$out")
[ -n "$exposure" ] || { echo "$out"; fail "no exposure level in systemd-analyze security's output (exit $rc)"; }
if awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e > m) }'; then
  grep -F '✗' <<<"$out" || true
  fail "exposure $exposure is above $max: hardening was lost (the failing checks above)"
fi
echo "  ok: exposure $exposure (at most $max)"
echo PASS
