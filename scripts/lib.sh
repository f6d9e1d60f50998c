# Shared by scripts/test and scripts/demo: install what the build needs, then build.
# Sourced, not executed.

HBFENCE_PACKAGES=(
  build-essential cmake pkg-config git
  prometheus-cpp-dev libcivetweb-dev libtomlplusplus-dev libspdlog-dev libgtest-dev libgmock-dev
  libfuse3-dev fuse3
  libvirt-dev libxml2-dev libyaml-cpp-dev
  prometheus prometheus-alertmanager
  curl jq systemd man-db
)

# Installs only what is missing; apt-get update runs once, and only when needed.
hbfence_install_packages() {
  local missing=()
  for p in "${HBFENCE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: need root to install packages (run as root, or install: ${missing[*]})" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's prometheus packages enable their services; nothing here starts them.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
