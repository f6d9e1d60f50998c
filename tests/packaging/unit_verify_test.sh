#!/usr/bin/env bash
# packaging/hbfence.service without installing anything (no root needed):
#  1. `systemd-analyze verify` on a copy whose ExecStart= points at the built binary
#     (verify insists that the binary exists), with no warning at all;
#  2. the settings hbfence depends on are there, and the ones that would break
#     fencing are not.
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
require "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"
require "LockPersonality=yes"
require "MemoryDenyWriteExecute=yes"
require "SystemCallArchitectures=native"
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
# PrivateDevices=/DevicePolicy=/ProtectClock= would hide /dev/watchdog.
for bad in '^ProtectKernelTunables=(yes|true|on|1)' '^PrivateDevices=(yes|true|on|1)' '^DevicePolicy=(closed|strict)' \
           '^ProtectClock=(yes|true|on|1)' '^ReadOnlyPaths=.*/proc/sysrq-trigger' '^InaccessiblePaths=.*/proc'; do
  if grep -Eq "$bad" "$UNIT"; then fail "the unit sets $(grep -E "$bad" "$UNIT")"; fi
done
echo "  ok"
echo PASS
