# SPDX-License-Identifier: Apache-2.0
# Shared by scripts/test and scripts/demo: install what the build needs, then build.
# Sourced, not executed.

HBFENCE_PACKAGES=(
  build-essential cmake pkg-config git
  prometheus-cpp-dev libcivetweb-dev libtomlplusplus-dev libspdlog-dev libgtest-dev libgmock-dev
  libfuse3-dev fuse3
  libvirt-dev libxml2-dev libyaml-cpp-dev
  curl jq systemd man-db
)

# Only scripts/test needs these: the real Prometheus and Alertmanager the alert and
# scrape tests run (their binaries, started and stopped by the tests themselves), the
# mixin's renderer, and the package checks' tools. Debian's Prometheus and Alertmanager packages enable and start a
# service each; see hbfence_install_test_packages.
HBFENCE_TEST_PACKAGES=(
  prometheus prometheus-alertmanager
  jsonnet python3-yaml  # alerts/generate --check
  # tests/packaging: lintian on the .deb, strace and python3 for the unit's system
  # call check (package_unit_syscalls), scripts/spdx.
  lintian strace python3
)

# The packages among "$@" that are not installed, one per line.
hbfence_missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

# Installs the packages given that are missing; apt-get update runs once, and only
# when needed.
hbfence_apt_install() {
  [ $# -eq 0 ] && return 0
  echo "installing: $*"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: need root to install packages (run as root, or install: $*)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Explicit returns: callers test the status, which switches `set -e` off in here.
  apt-get update -qq || return
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null || return
}

# What the build and the demo need. Idempotent.
hbfence_install_packages() {
  local missing
  mapfile -t missing < <(hbfence_missing_packages "${HBFENCE_PACKAGES[@]}")
  hbfence_apt_install "${missing[@]}"
}

# The test-only servers, installed so that none of them runs as a service: while
# they install, a policy-rc.d (unless the machine has one) forbids starting any
# service, and the units of the packages installed here are disabled afterwards, so
# a reboot does not start them either. Packages that were already installed are left
# as their owner set them up.
hbfence_install_test_packages() {
  local missing placed_policy=0 policy=/usr/sbin/policy-rc.d
  mapfile -t missing < <(hbfence_missing_packages "${HBFENCE_TEST_PACKAGES[@]}")
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# hbfence scripts/test: test-only packages are installing; start nothing.\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    placed_policy=1
  fi
  local status=0
  hbfence_apt_install "${missing[@]}" || status=$?
  [ "$placed_policy" -eq 1 ] && rm -f "$policy"
  [ "$status" -eq 0 ] || return "$status"
  local pkg unit
  for pkg in "${missing[@]}"; do
    for unit in $(dpkg-query -L "$pkg" | grep -E '^/lib/systemd/system/[^/]+\.service$' | xargs -r -n1 basename); do
      # Works without a running systemd too (it edits the .wants links).
      systemctl disable --quiet "$unit" >/dev/null 2>&1 || true
      if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
        echo "error: $unit (from $pkg, installed for the tests) is still enabled" >&2
        return 1
      fi
      echo "installed $pkg for the tests only: $unit disabled, not started"
    done
  done
}

# Configures and builds into $HBFENCE_BUILD (default build/), warnings as errors
# (a development build; a packager's build leaves HBFENCE_WERROR off).
hbfence_build() {
  local root build
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  build=${HBFENCE_BUILD:-$root/build}
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHBFENCE_WERROR=ON >/dev/null
  cmake --build "$build" -j "$(nproc)"
}

# The daemon in the other modes users and packagers build, warnings as errors:
# Release with gcc (-O3 warns about more) and RelWithDebInfo with clang. Without
# the tests, which the main build ran. Builds into build-release/ and build-clang/.
hbfence_build_modes() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local mode compiler dir
  for spec in "Release gcc release" "RelWithDebInfo clang clang"; do
    read -r mode compiler dir <<<"$spec"
    echo "== build: $mode with $compiler"
    if [ "$compiler" = clang ]; then
      CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-$dir" -DCMAKE_BUILD_TYPE="$mode" -DHBFENCE_WERROR=ON \
        -DBUILD_TESTING=OFF >/dev/null
    else
      CC=gcc CXX=g++ cmake -S "$root" -B "$root/build-$dir" -DCMAKE_BUILD_TYPE="$mode" -DHBFENCE_WERROR=ON \
        -DBUILD_TESTING=OFF >/dev/null
    fi
    cmake --build "$root/build-$dir" -j "$(nproc)" --target hbfence
  done
}

# What libvirtd's QEMU driver needs and libvirt-daemon-system (not installed: it would
# enable and start libvirtd on a systemd host) would create: the libvirt-qemu user
# and group, the kvm group, and its state and log directories. Idempotent.
hbfence_prepare_libvirt() {
  [ "$(id -u)" -eq 0 ] || return 0
  getent group kvm >/dev/null || groupadd -r kvm
  getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  mkdir -p /var/log/libvirt /var/lib/libvirt/qemu
}
