#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian package and checks it end to end on this machine:
#   cpack -G DEB -> contents, conffiles, control fields, maintainer scripts ->
#   dpkg -i -> hbfence --version / check-config (log-only, DISARMED) ->
#   systemd-analyze verify on the installed unit -> reinstall keeps a changed
#   conffile -> dpkg -r -> dpkg --purge -> nothing left.
#
# Usage: package_test.sh BUILD_DIR SOURCE_DIR
#   BUILD_DIR must be configured with cmake/Packaging.cmake (it has CPackConfig.cmake)
#   and built. Needs root (dpkg -i); exits 77 (skipped) otherwise.
# Environment: CPACK (default: cpack), HBFENCE_TRIPWIRE (nofence preload for every
#   hbfence started here; it never fences anyway: only --version and check-config).
#
# Safety: never starts, enables or runs the daemon. An hbfence package that this test
# did not install (no marker file) is never touched: the test fails instead. A
# leftover from an interrupted run (marker present) is purged first; the trap purges
# at the end, whatever happens.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
SOURCE_DIR=$(cd "$2" && pwd)
CPACK=${CPACK:-cpack}
PKG=hbfence
MARKER=/var/tmp/hbfence-package-test.installed

step() { echo "== $*"; }
indent() { sed 's/^/  | /'; }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root for dpkg -i (CI runs as root)"
for tool in dpkg dpkg-deb dpkg-query "$CPACK" systemd-analyze; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ -f "$BUILD_DIR/CPackConfig.cmake" ] ||
  fail "$BUILD_DIR has no CPackConfig.cmake: add include(cmake/Packaging.cmake) to CMakeLists.txt and re-run cmake"

# Runs the installed hbfence with the tripwire preloaded, when there is one.
hbfence() {
  if [ -n "${HBFENCE_TRIPWIRE:-}" ] && [ -f "$HBFENCE_TRIPWIRE" ]; then
    LD_PRELOAD="$HBFENCE_TRIPWIRE" /usr/sbin/hbfence "$@"
  else
    /usr/sbin/hbfence "$@"
  fi
}

pkg_status() { dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null || true; }

purge_ours() {
  if [ -n "$(pkg_status)" ] && [ "$(pkg_status)" != "not-installed" ]; then
    dpkg --purge "$PKG" </dev/null >/dev/null 2>&1 || dpkg --purge --force-all "$PKG" </dev/null >/dev/null 2>&1 || true
  fi
  rm -f "$MARKER"
}

# Nothing of a real installation may be clobbered.
state=$(pkg_status)
if [ -n "$state" ] && [ "$state" != "not-installed" ]; then
  if [ -f "$MARKER" ]; then
    step "purging the leftover of an interrupted run ($state)"
    purge_ours
  else
    fail "package $PKG is installed ($state) and was not installed by this test; refusing to purge it"
  fi
fi
if [ -e /etc/hbfence ] || [ -e /usr/sbin/hbfence ]; then
  fail "/etc/hbfence or /usr/sbin/hbfence exists outside the package manager; refusing to overwrite it"
fi

installed=0
cleanup() {
  local rc=$?
  if [ "$installed" -eq 1 ]; then purge_ours; fi
  rm -rf "${WORK:-}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
WORK=$(mktemp -d /tmp/hbfence-package-test.XXXXXX)

# --- Build ---------------------------------------------------------------------------
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$BUILD_DIR/CPackConfig.cmake")
[ -n "$version" ] || fail "no CPACK_PACKAGE_VERSION in $BUILD_DIR/CPackConfig.cmake"
arch=$(dpkg --print-architecture)
deb="$BUILD_DIR/${PKG}_${version}_${arch}.deb"
step "cpack -G DEB in $BUILD_DIR"
rm -f "$deb"
(cd "$BUILD_DIR" && "$CPACK" -G DEB) >"$WORK/cpack.log" 2>&1 || { cat "$WORK/cpack.log"; fail "cpack failed"; }
[ -f "$deb" ] || { cat "$WORK/cpack.log"; fail "cpack did not produce $deb"; }
echo "built $deb ($(stat -c %s "$deb") bytes)"

# --- Contents ------------------------------------------------------------------------
step "contents (dpkg-deb -c)"
dpkg-deb -c "$deb" >"$WORK/contents"
# "mode owner path" per entry, without the leading "." of the path.
awk '{ p = $6; sub(/^\./, "", p); print $1, $2, p }' "$WORK/contents" >"$WORK/entries"
expect_entry() {  # PATH [MODE]
  local line
  line=$(awk -v p="$1" '$3 == p' "$WORK/entries")
  [ -n "$line" ] || { cat "$WORK/contents"; fail "missing from the package: $1"; }
  if [ $# -eq 2 ] && [ "${line%% *}" != "$2" ]; then fail "$1 has mode ${line%% *}, expected $2"; fi
  echo "  ok $line"
}
expect_entry /usr/sbin/hbfence -rwxr-xr-x
expect_entry /lib/systemd/system/hbfence.service -rw-r--r--
expect_entry /etc/hbfence/hbfence.toml -rw-r--r--
expect_entry /var/lib/hbfence/ drwxr-xr-x
expect_entry /usr/share/man/man8/hbfence.8.gz -rw-r--r--
expect_entry /usr/share/doc/hbfence/README.md
expect_entry /usr/share/doc/hbfence/copyright -rw-r--r--
expect_entry /usr/share/doc/hbfence/changelog.gz -rw-r--r--
expect_entry /usr/share/hbfence/alerts/
expect_entry /usr/share/hbfence/dashboards/
# Whatever monitoring content and docs the source tree has right now must be shipped.
shopt -s nullglob
for f in "$SOURCE_DIR"/alerts/*.yml; do expect_entry "/usr/share/hbfence/alerts/$(basename "$f")" -rw-r--r--; done
for f in "$SOURCE_DIR"/dashboards/*.json; do expect_entry "/usr/share/hbfence/dashboards/$(basename "$f")" -rw-r--r--; done
# The monitoring mixin, importable where it is installed (alerts/README.md).
for f in "$SOURCE_DIR"/alerts/*.libsonnet "$SOURCE_DIR"/alerts/lib/*.*sonnet "$SOURCE_DIR"/dashboards/*.libsonnet \
  "$SOURCE_DIR"/dashboards/lib/*.libsonnet; do
  expect_entry "/usr/share/hbfence/${f#"$SOURCE_DIR"/}" -rw-r--r--
done
for f in "$SOURCE_DIR"/packaging/cloudstack/*.sh; do expect_entry "/usr/share/hbfence/cloudstack/$(basename "$f")" -rwxr-xr-x; done
for f in "$SOURCE_DIR"/docs/*.md; do expect_entry "/usr/share/doc/hbfence/$(basename "$f")"; done
shopt -u nullglob
if awk '{print $3}' "$WORK/entries" | grep -E '^/usr/local/|/alerts/tests/|/alerts/(check|generate)$|/dashboards/tests/|/dashboards/(check|render)$|/tmp/|^/home/'; then
  fail "the package ships files it must not (above)"
fi
awk '$2 != "root/root" { print; bad = 1 } END { exit bad }' "$WORK/entries" || fail "files not owned by root/root"

# --- Control -------------------------------------------------------------------------
step "control (dpkg-deb -I / -e)"
dpkg-deb -e "$deb" "$WORK/control"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = "$PKG" ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', expected $version"
[ "$(field Section)" = admin ] || fail "Section is '$(field Section)'"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
depends=$(field Depends)
[ -n "$depends" ] || fail "Depends is empty"
echo "  Depends: $depends"
# Package names only, one per line ("libfoo1 (>= 1.0) | libbar" -> libfoo1, libbar).
awk -v RS='[,|]' 'NF { print $1 }' <<<"$depends" >"$WORK/depends"
for dep in libc6 libstdc++6 libfmt9; do
  grep -qxF "$dep" "$WORK/depends" || fail "Depends lacks $dep"
done
[ "$(cat "$WORK/control/conffiles")" = /etc/hbfence/hbfence.toml ] ||
  fail "conffiles is '$(cat "$WORK/control/conffiles" 2>/dev/null)', expected /etc/hbfence/hbfence.toml"
echo "  conffiles: /etc/hbfence/hbfence.toml"
for s in postinst prerm postrm; do
  [ -x "$WORK/control/$s" ] || fail "maintainer script $s missing or not executable"
  sh -n "$WORK/control/$s" || fail "$s: syntax error"
  # The package must never enable or start the daemon, whatever the action.
  # (echo lines are messages to the administrator, not commands)
  if grep -nE '(systemctl|deb-systemd-invoke|deb-systemd-helper|invoke-rc\.d|service)[^#]*[[:space:]](enable|start|restart|reload-or-restart|try-restart)([[:space:]]|$)' \
      "$WORK/control/$s" | grep -vE '^[0-9]+:[[:space:]]*(echo|#)'; then
    fail "$s enables or starts the service (above)"
  fi
  # systemctl for daemon-reload only; stop through deb-systemd-invoke (policy-rc.d),
  # the rest through deb-systemd-helper (lintian: maintainer-script-calls-systemctl).
  if grep -nE '(^|[;&|[:space:]])systemctl[[:space:]]' "$WORK/control/$s" | grep -vE '^[0-9]+:[[:space:]]*(echo|#)' |
      grep -v 'daemon-reload'; then
    fail "$s calls systemctl for more than daemon-reload (above)"
  fi
done
echo "  maintainer scripts: executable, valid sh, never enable/start, systemctl only for daemon-reload"
if command -v groff >/dev/null; then
  warnings=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/man/man8/hbfence.8.gz | gzip -dc |
             groff -man -ww -z 2>&1) || true
  [ -z "$warnings" ] || fail "man page warnings: $warnings"
  echo "  man page: renders without warnings"
fi

# --- Install ---------------------------------------------------------------------------
step "dpkg -i"
echo "$deb" >"$MARKER"
installed=1
if ! dpkg -i "$deb" </dev/null >"$WORK/install.log" 2>&1; then
  cat "$WORK/install.log"
  fail "dpkg -i failed (runtime libraries missing? Depends: $depends)"
fi
indent <"$WORK/install.log"
[ "$(pkg_status)" = installed ] || fail "status after dpkg -i: $(pkg_status)"
for p in /usr/sbin/hbfence /lib/systemd/system/hbfence.service /etc/hbfence/hbfence.toml \
         /usr/share/man/man8/hbfence.8.gz /usr/share/doc/hbfence/README.md; do
  [ -f "$p" ] || fail "$p not installed"
done
[ -d /var/lib/hbfence ] || fail "/var/lib/hbfence not created"
if ldd /usr/sbin/hbfence | grep -q 'not found'; then ldd /usr/sbin/hbfence; fail "unresolved libraries"; fi

step "never enabled, never started"
if ls /etc/systemd/system/*.wants/hbfence.service >/dev/null 2>&1; then
  fail "the package enabled hbfence.service"
fi
for exe in /proc/[0-9]*/exe; do
  if [ "$(readlink "$exe" 2>/dev/null)" = /usr/sbin/hbfence ]; then
    fail "an hbfence from the package is running (${exe%/exe})"
  fi
done
if [ -d /run/systemd/system ] && systemctl is-active --quiet hbfence.service; then
  fail "hbfence.service is active"
fi
echo "  ok: no enablement symlink, no process"

step "/usr/sbin/hbfence --version"
out=$(hbfence --version) || fail "--version failed"
echo "  $out"
grep -q "^hbfence $version " <<<"$out" || fail "--version does not print version $version"

step "/usr/sbin/hbfence check-config --config /etc/hbfence/hbfence.toml"
# As installed, the conffile holds REPLACE-ME placeholders (host.id, the pool's
# mount): refused with exit 2, naming host.id; filled in, it is valid and log-only.
set +e
out=$(hbfence check-config --config /etc/hbfence/hbfence.toml 2>&1)
rc=$?
set -e
indent <<<"$out"
[ "$rc" -eq 2 ] || fail "check-config exited $rc on the installed placeholders, expected 2"
grep -q '^/etc/hbfence/hbfence.toml:[0-9]*:[0-9]*: host.id "REPLACE-ME" is a placeholder' <<<"$out" ||
  fail "check-config does not name host.id's placeholder"
# The default path is the packaged file.
set +e
default_out=$(hbfence check-config 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] && [ "$default_out" = "$out" ] || fail "check-config with the default --config: exit $rc, $default_out"
sed -e 's/^id = "REPLACE-ME"$/id = "10.1.34.125"/' -e 's|^mount = "/mnt/REPLACE-ME"$|mount = "/mnt/pool1"|' \
  /etc/hbfence/hbfence.toml >"$WORK/filled.toml"
set +e
out=$(hbfence check-config --config "$WORK/filled.toml" 2>&1)
rc=$?
set -e
indent <<<"$out"
[ "$rc" -eq 0 ] || fail "check-config exited $rc with the placeholders filled in"
grep -q '^action = "log-only"' <<<"$out" || fail "the packaged config is not log-only"
grep -q 'DISARMED' <<<"$out" || fail "check-config does not report fencing DISARMED"

step "systemd-analyze verify /lib/systemd/system/hbfence.service"
# verify exits 0 on unknown keys and other warnings: any output is a failure.
set +e
out=$(systemd-analyze verify /lib/systemd/system/hbfence.service 2>&1)
rc=$?
set -e
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
  echo "$out"
  fail "systemd-analyze verify: exit $rc"
fi
echo "  ok (no warnings; ExecStart and man:hbfence(8) resolve)"
# The same bound as package_unit_verify (tests/packaging/CMakeLists.txt), on the
# installed file.
max=${HBFENCE_MAX_EXPOSURE:-3.0}
exposure=$(systemd-analyze security --offline=true /lib/systemd/system/hbfence.service 2>/dev/null |
           sed -n 's/.*Overall exposure level for hbfence.service: \([0-9.]*\).*/\1/p') || true
[ -n "$exposure" ] || fail "systemd-analyze security printed no exposure level for the installed unit"
echo "  systemd-analyze security: exposure $exposure (at most $max)"
if awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e > m) }'; then
  fail "exposure $exposure > $max: hardening was lost"
fi

step "reinstall keeps an edited conffile"
echo '# edited by package_test' >>/etc/hbfence/hbfence.toml
dpkg -i "$deb" </dev/null >"$WORK/reinstall.log" 2>&1 || { cat "$WORK/reinstall.log"; fail "reinstall failed"; }
grep -q '^# edited by package_test$' /etc/hbfence/hbfence.toml || fail "reinstall overwrote the edited conffile"
echo "  ok"

step "dpkg -r (config and state stay)"
dpkg -r "$PKG" </dev/null >"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log"; fail "dpkg -r failed"; }
[ "$(pkg_status)" = config-files ] || fail "status after dpkg -r: $(pkg_status)"
[ ! -e /usr/sbin/hbfence ] || fail "/usr/sbin/hbfence left after dpkg -r"
[ -f /etc/hbfence/hbfence.toml ] || fail "dpkg -r removed the conffile"
echo "  ok"

step "dpkg --purge (nothing left)"
# An administrator enabled it meanwhile (what `systemctl enable hbfence` creates):
# purge forgets that too.
wants_made=0
[ -d /etc/systemd/system/multi-user.target.wants ] || { mkdir -p /etc/systemd/system/multi-user.target.wants; wants_made=1; }
ln -sfn /lib/systemd/system/hbfence.service /etc/systemd/system/multi-user.target.wants/hbfence.service
dpkg --purge "$PKG" </dev/null >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "dpkg --purge failed"; }
rm -f "$MARKER"
installed=0
state=$(pkg_status)
[ -z "$state" ] || [ "$state" = not-installed ] || fail "status after purge: $state"
for p in /usr/sbin/hbfence /lib/systemd/system/hbfence.service /etc/hbfence /var/lib/hbfence \
         /usr/share/man/man8/hbfence.8.gz /usr/share/hbfence /usr/share/doc/hbfence \
         /etc/systemd/system/multi-user.target.wants/hbfence.service \
         /var/lib/systemd/deb-systemd-helper-enabled/hbfence.service.dsh-also; do
  [ ! -e "$p" ] && [ ! -L "$p" ] || fail "$p left after purge"
done
[ "$wants_made" -eq 0 ] || rmdir /etc/systemd/system/multi-user.target.wants 2>/dev/null || true
echo "  ok"
echo "PASS: $deb"
