# Shell helpers shared by scripts/test, scripts/demo and scripts/topo. Source it; do not run it.
# shellcheck shell=bash

DLBA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Debian packages the project needs to build, test, run the demo and the benchmarks.
DLBA_PACKAGES=(
    meson ninja-build pkg-config g++ clang libclang-rt-14-dev
    libdpdk-dev dpdk dpdk-dev libconfig++-dev catch2 libssl-dev nlohmann-json3-dev libpcap-dev
    nginx-light curl iproute2 tcpdump ethtool nftables python3-scapy haproxy wrk nghttp2-client openssl
    chromium libnss3-tools testssl.sh slowhttptest
    libnghttp2-dev python3-websockets python3-prometheus-client scdoc debhelper dpkg-dev lintian fakeroot systemd-container
)

# Debian's own interpreter: it has python3-scapy (a python3 earlier on PATH may be another one without it).
DLBA_PYTHON=/usr/bin/python3

log() { printf '%s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, DPDK, apt-get)"
}

# Install whatever of the given packages (default: all of DLBA_PACKAGES) dpkg does not report as installed.
# Silent when nothing is missing; never reads stdin.
ensure_packages() {
    local pkgs=("$@") missing=() p
    [ ${#pkgs[@]} -gt 0 ] || pkgs=("${DLBA_PACKAGES[@]}")
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}); run as root to install them"
    log "installing missing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null >/dev/null || die "apt-get update failed"
    apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        --no-install-recommends "${missing[@]}" </dev/null >/dev/null || die "apt-get install ${missing[*]} failed"
}

# meson setup (or reconfigure) DIR, then ninja. Extra arguments go to meson setup.
build_tree() {
    local dir="$1"; shift
    if [ -f "$DLBA_ROOT/$dir/build.ninja" ]; then
        meson setup --reconfigure "$DLBA_ROOT/$dir" "$DLBA_ROOT" "$@" >/dev/null || return 1
    else
        meson setup "$DLBA_ROOT/$dir" "$DLBA_ROOT" "$@" >/dev/null || return 1
    fi
    ninja -C "$DLBA_ROOT/$dir" || return 1
}
