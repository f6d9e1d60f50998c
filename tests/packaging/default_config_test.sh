#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The packaged default config (packaging/hbfence.toml) stays safe and documented:
#  1. `hbfence check-config` refuses it as shipped, naming the first REPLACE-ME
#     placeholder (host.id) at file:line:column with exit 2, and the next one
#     (the target's mount) once host.id is set: a host never runs on the
#     placeholders;
#  2. with the placeholders filled in, check-config accepts it, and it is log-only
#     (DISARMED);
#  3. every key check-config prints (i.e. every key the parser knows) is documented
#     in it, as a setting or a commented-out `#key = default` line, per section;
#  4. the documented defaults are the real ones: uncommenting every `#key = value`
#     line (except the watchdog device, which has no default) changes no effective
#     value.
# No root, no install; runs only check-config. Usage: default_config_test.sh HBFENCE SOURCE_DIR
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 HBFENCE_BINARY SOURCE_DIR" >&2; exit 2; }
HBFENCE=$1
TOML=$2/packaging/hbfence.toml
WORK=$(mktemp -d /tmp/hbfence-default-config.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# check-config output without sources and the header line: "section.key = value".
effective() {
  awk '/^# / { next }
       /^\[\[/ { s = substr($0, 3, length($0) - 4); next }
       /^\[/   { s = substr($0, 2, length($0) - 2); next }
       /^[a-z_.]+ = / { sub(/  # .*$/, ""); print s "." $0 }' "$1"
}

# check_config FILE OUT: runs check-config on FILE into OUT; prints the exit status.
check_config() {
  set +e
  "$HBFENCE" check-config --config "$1" >"$2" 2>&1
  echo $?
  set -e
}

echo "== check-config $TOML refuses the placeholders"
id_line=$(grep -n '^id = "REPLACE-ME"$' "$TOML" | cut -d: -f1)
mount_line=$(grep -n '^mount = "/mnt/REPLACE-ME"$' "$TOML" | cut -d: -f1)
[ -n "$id_line" ] || fail 'the shipped host.id is not the "REPLACE-ME" placeholder'
[ -n "$mount_line" ] || fail 'the shipped target mount is not the "/mnt/REPLACE-ME" placeholder'
rc=$(check_config "$TOML" "$WORK/shipped.out")
cat "$WORK/shipped.out"
[ "$rc" -eq 2 ] || fail "check-config exited $rc on the placeholders, expected 2"
grep -qxF "$TOML:$id_line:6: host.id \"REPLACE-ME\" is a placeholder of the shipped configuration (REPLACE-ME): set this host's identifier (CloudStack: its private IP address, which names its heartbeat file)" \
  "$WORK/shipped.out" || fail "check-config does not name host.id's placeholder at $TOML:$id_line:6"
sed 's/^id = "REPLACE-ME"$/id = "10.1.34.125"/' "$TOML" >"$WORK/id-set.toml"
rc=$(check_config "$WORK/id-set.toml" "$WORK/id-set.out")
cat "$WORK/id-set.out"
[ "$rc" -eq 2 ] || fail "check-config exited $rc with host.id set and the mount a placeholder, expected 2"
grep -q "^$WORK/id-set.toml:$mount_line:9: target.mount \"/mnt/REPLACE-ME\" is a placeholder" "$WORK/id-set.out" ||
  fail "check-config does not name the mount's placeholder at line $mount_line"

echo "== check-config with the placeholders filled in"
sed 's|^mount = "/mnt/REPLACE-ME"$|mount = "/mnt/pool1"|' "$WORK/id-set.toml" >"$WORK/filled.toml"
if grep -v '^#' "$WORK/filled.toml" | grep -q REPLACE-ME; then
  fail "a placeholder this test does not fill in: $(grep -n REPLACE-ME "$WORK/filled.toml" | grep -v ':#')"
fi
rc=$(check_config "$WORK/filled.toml" "$WORK/shipped.out")
cat "$WORK/shipped.out"
[ "$rc" -eq 0 ] || fail "check-config exited $rc"
grep -q '^action = "log-only"' "$WORK/shipped.out" || fail "not log-only"
grep -q 'fencing is DISARMED' "$WORK/shipped.out" || fail "not DISARMED"
effective "$WORK/shipped.out" >"$WORK/shipped.eff"

echo "== every key is documented"
# section.key for every key line, commented out or not, in the TOML file.
awk '/^\[\[[a-z_.]+\]\]/ { s = substr($1, 3, length($1) - 4); next }
     /^#?\[[a-z_.]+\]/ { h = $1; sub(/^#/, "", h); s = substr(h, 2, length(h) - 2); next }
     /^#?[a-z_]+ = / { k = $1; sub(/^#/, "", k); print s "." k }' "$TOML" | sort -u >"$WORK/documented"
missing=0
while IFS= read -r line; do
  key=${line%% = *}
  case $key in
    web.basic_auth_users.*) key=web.basic_auth_users ;;
  esac
  if [ "$key" = web.basic_auth_users ]; then
    grep -q '^#\?\[web.basic_auth_users\]' "$TOML" || { echo "undocumented: $key"; missing=1; }
  elif ! grep -qxF "$key" "$WORK/documented"; then
    echo "undocumented: $key"
    missing=1
  fi
done <"$WORK/shipped.eff"
[ "$missing" -eq 0 ] || fail "packaging/hbfence.toml does not document every key (above)"
echo "  ok: $(wc -l <"$WORK/shipped.eff") keys"

echo "== documented defaults are the built-in defaults"
# Uncomment "#key = value" lines, but not the examples without a default: the
# watchdog device (setting it arms a watchdog), agent_properties (setting it reads
# the file), a plain target's path (the shipped target derives it) and entries of
# [web.basic_auth_users].
awk '/^#?\[/ { h = $1; sub(/^#/, "", h) }
     /^#[a-z_]+ = / && h != "[web.basic_auth_users]" && $1 != "#device" && $1 != "#agent_properties" &&
       $1 != "#path" { sub(/^#/, "") }
     { print }' "$WORK/filled.toml" >"$WORK/uncommented.toml"
rc=$(check_config "$WORK/uncommented.toml" "$WORK/uncommented.out")
[ "$rc" -eq 0 ] || { cat "$WORK/uncommented.out"; fail "the uncommented defaults do not validate"; }
effective "$WORK/uncommented.out" >"$WORK/uncommented.eff"
if ! diff -u "$WORK/shipped.eff" "$WORK/uncommented.eff"; then
  fail "a documented default differs from the built-in one (diff above: - shipped, + uncommented)"
fi
n=$(grep -c '^#[a-z_]* = ' "$TOML")
echo "  ok: $n commented defaults match"
echo PASS
