#!/usr/bin/env bash
# Installs the real proxies the proxy tests run against (test/support/proxyLab.ts): dante-server
# (danted: SOCKS5 with CONNECT and BIND) and tinyproxy (HTTP CONNECT). The tests run each in the
# foreground with their own configuration; the system services Debian sets up are stopped.
#
# Idempotent; as a non-root user it only checks.
set -euo pipefail

PACKAGES=(dante-server tinyproxy iptables iproute2)
log() { echo "[install-proxies] $*"; }
die() { echo "[install-proxies] ERROR: $*" >&2; exit 1; }
is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
for p in "${PACKAGES[@]}"; do is_installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  log "proxies present"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "missing: ${missing[*]} — run this script as root (sudo $0)"

log "apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
  log "install failed; running apt-get update and retrying"
  apt-get update || die "apt-get update failed"
  apt-get install -y --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed"
fi
# Where the package started them as services, they would hold their default ports.
for service in danted tinyproxy; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
    systemctl disable "$service" >/dev/null 2>&1 || true
  fi
done
for bin in /usr/sbin/danted /usr/bin/tinyproxy; do [ -x "$bin" ] || die "$bin is missing after install"; done
log "ready: dante-server $(dpkg-query -W -f='${Version}' dante-server), tinyproxy $(dpkg-query -W -f='${Version}' tinyproxy)"
