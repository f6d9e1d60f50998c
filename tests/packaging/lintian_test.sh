#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian package into a scratch directory (cpack -B, so package_deb's .deb
# in the build directory is not touched) and runs lintian on it:
#  - any E: or W: tag fails (lintian's default level);
#  - so does any hardening-* tag, at any level (lintian reports a missing bindnow or
#    fortify only as I:, and cmake/DebianBuildFlags.cmake is there to avoid them);
#  - the changelog's latest version must be the package's, and the copyright file
#    must name the license (lintian parses both, but does not compare them to us).
# Overrides, if ever needed, belong in packaging/debian/lintian-overrides with the
# reason beside each; there are none.
#
# Usage: lintian_test.sh BUILD_DIR
# Environment: CPACK (default: cpack). No root needed: nothing is installed.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD_DIR=$(cd "$1" && pwd)
CPACK=${CPACK:-cpack}
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
for tool in lintian dpkg-deb "$CPACK"; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/test installs lintian)"
done

WORK=$(mktemp -d /tmp/hbfence-lintian.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "== cpack -G DEB -B $WORK"
(cd "$BUILD_DIR" && "$CPACK" -G DEB -B "$WORK") >"$WORK/cpack.log" 2>&1 || { cat "$WORK/cpack.log"; fail "cpack failed"; }
deb=$(ls "$WORK"/hbfence_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { cat "$WORK/cpack.log"; fail "cpack made no .deb"; }
version=$(dpkg-deb -f "$deb" Version)
echo "  $(basename "$deb")"

echo "== lintian (every tag, info included)"
# lintian warns on stderr that it runs as root; tags go to stdout.
lintian --display-info --tag-display-limit 0 "$deb" >"$WORK/lintian.txt" 2>"$WORK/lintian.err" || true
sed 's/^/  | /' "$WORK/lintian.txt"
if grep -vE '^running with root privileges is not recommended!$' "$WORK/lintian.err" | grep -q .; then
  cat "$WORK/lintian.err"
  fail "lintian reported an error of its own (above)"
fi
bad=$(grep -E '^[EW]: ' "$WORK/lintian.txt" || true)
[ -z "$bad" ] || fail "lintian errors or warnings (default level): $(printf '\n%s' "$bad")"
hardening=$(grep -E '^[A-Z]: [^ ]+: hardening-' "$WORK/lintian.txt" || true)
[ -z "$hardening" ] || fail "hardening tags (build flags lost?): $(printf '\n%s' "$hardening")"
echo "  ok: no E:/W: tags, no hardening tags ($(grep -c '^[A-Z]: ' "$WORK/lintian.txt" || true) tag(s) in all)"

echo "== changelog and copyright"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$WORK" ./usr/share/doc/hbfence/changelog.gz ./usr/share/doc/hbfence/copyright
top=$(gzip -dc "$WORK/usr/share/doc/hbfence/changelog.gz" | head -n 1)
[[ $top == "hbfence ($version) "* ]] || fail "changelog starts with '$top', not version $version"
grep -qx 'License: Apache-2.0' "$WORK/usr/share/doc/hbfence/copyright" || fail "copyright has no 'License: Apache-2.0'"
echo "  ok: changelog.gz is at $version; copyright names Apache-2.0"
echo PASS
