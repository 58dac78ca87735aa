#!/usr/bin/env bash
# Installs the real FTP servers the integration tests and benchmarks run against.
#
# vsftpd, proftpd-core and pure-ftpd all conflict in Debian ("ftp-server"), so only vsftpd is
# installed with apt; the other two are fetched with `apt-get download` and unpacked into a cache
# folder, with their shared-library dependencies installed by apt. Nothing is started as a service.
#
# Idempotent: a second run only checks and returns in a second or two.
# As a non-root user it only checks, and fails with a hint to run it as root if something is missing.
set -euo pipefail

CACHE_ROOT="${FTPW_CACHE:-$HOME/.cache/ftp-workspace}"
SERVERS_DIR="$CACHE_ROOT/ftp-servers"

# Binaries the harness calls, and the packages that provide them.
APT_PACKAGES=(vsftpd openssl lftp curl iproute2 iptables iputils-ping python3)
# Shared libraries of proftpd-core and pure-ftpd (from `apt-cache depends`), needed to run the
# unpacked binaries; libpam-modules for vsftpd's pam_unix service file.
LIB_PACKAGES=(libacl1 libcap2 libcrypt1 libhiredis0.14 libidn2-0 libmemcached11 libmemcachedutil2
  libncursesw6 libpam0g libpam-modules libpcre2-8-0 libpcre2-posix3 libssl3 libtinfo6 zlib1g libsodium23)
# Unpacked trees and the packages that go into each: mod_tls for proftpd lives in proftpd-mod-crypto.
UNPACKED=(proftpd pure-ftpd)
packages_of() {
  case "$1" in
    proftpd) echo "proftpd-core proftpd-mod-crypto" ;;
    pure-ftpd) echo "pure-ftpd" ;;
  esac
}

log() { echo "[install-ftp-servers] $*"; }
die() { printf '[install-ftp-servers] ERROR: %b\n' "$*" >&2; exit 1; }

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

# The last file unpacked into a tree, so its presence proves the tree is complete.
unpacked_marker() {
  case "$1" in
    proftpd) echo "$SERVERS_DIR/proftpd/usr/lib/proftpd/mod_tls.so" ;;
    pure-ftpd) echo "$SERVERS_DIR/pure-ftpd/usr/bin/pure-pw" ;;
  esac
}

# An unpacked binary whose libraries are missing would only fail later, inside a test.
check_runs() {
  local bin="$1" missing
  missing="$(ldd "$bin" 2>&1 | grep 'not found' || true)"
  [ -z "$missing" ] || die "$bin is missing shared libraries:\n$missing"
}

missing_packages=()
for p in "${APT_PACKAGES[@]}" "${LIB_PACKAGES[@]}"; do
  is_installed "$p" || missing_packages+=("$p")
done
missing_unpacked=()
for p in "${UNPACKED[@]}"; do
  [ -e "$(unpacked_marker "$p")" ] || missing_unpacked+=("$p")
done

if [ "$(id -u)" -ne 0 ]; then
  if [ ${#missing_packages[@]} -gt 0 ] || [ ${#missing_unpacked[@]} -gt 0 ]; then
    missing=("${missing_packages[@]}" "${missing_unpacked[@]}")
    die "missing: ${missing[*]} — run this script as root (sudo $0)"
  fi
  log "all FTP servers present (not root: checked only)"
  exit 0
fi

if [ ${#missing_packages[@]} -gt 0 ]; then
  log "apt-get install ${missing_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be absent on a fresh machine or container image.
  if ! apt-get install -y --no-install-recommends "${missing_packages[@]}"; then
    log "install failed; running apt-get update and retrying"
    apt-get update || die "apt-get update failed"
    apt-get install -y --no-install-recommends "${missing_packages[@]}" \
      || die "apt-get install ${missing_packages[*]} failed"
  fi
  # Debian starts vsftpd as a service on port 21 after install; the tests run their own instances.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet vsftpd 2>/dev/null; then
    log "stopping the vsftpd system service (tests run their own)"
    systemctl stop vsftpd || true
    systemctl disable vsftpd >/dev/null 2>&1 || true
  fi
else
  log "apt packages already installed"
fi

mkdir -p "$SERVERS_DIR"
for p in "${missing_unpacked[@]}"; do
  pkgs="$(packages_of "$p")"
  log "apt-get download $pkgs and unpack into $SERVERS_DIR/$p"
  tmp="$(mktemp -d)"
  # apt's download sandbox user (_apt) must be able to write here.
  chmod 0777 "$tmp"
  # shellcheck disable=SC2086 # $pkgs is a list of package names
  if ! (cd "$tmp" && apt-get download $pkgs); then
    apt-get update || die "apt-get update failed"
    # shellcheck disable=SC2086
    (cd "$tmp" && apt-get download $pkgs) || die "apt-get download $pkgs failed"
  fi
  rm -rf "$SERVERS_DIR/$p.partial"
  for pkg in $pkgs; do
    deb="$(ls "$tmp/${pkg}_"*.deb 2>/dev/null | head -n1)"
    [ -n "$deb" ] || die "apt-get download $pkg produced no .deb"
    dpkg-deb -x "$deb" "$SERVERS_DIR/$p.partial" || die "dpkg-deb -x $deb failed"
  done
  rm -rf "$SERVERS_DIR/$p" "$tmp"
  mv "$SERVERS_DIR/$p.partial" "$SERVERS_DIR/$p"
  [ -e "$(unpacked_marker "$p")" ] || die "$(unpacked_marker "$p") not found after unpacking $pkgs"
done
[ ${#missing_unpacked[@]} -gt 0 ] || log "proftpd and pure-ftpd already unpacked in $SERVERS_DIR"

for bin in /usr/sbin/vsftpd "$SERVERS_DIR/proftpd/usr/sbin/proftpd" "$SERVERS_DIR/proftpd/usr/lib/proftpd/mod_tls.so" \
  "$SERVERS_DIR/pure-ftpd/usr/sbin/pure-ftpd" "$SERVERS_DIR/pure-ftpd/usr/bin/pure-pw"; do
  [ -e "$bin" ] || die "$bin is missing"
  check_runs "$bin"
done
for tool in lftp curl openssl ip; do
  command -v "$tool" >/dev/null || die "$tool is missing after install"
done
log "ready: vsftpd $(dpkg-query -W -f='${Version}' vsftpd), proftpd and pure-ftpd in $SERVERS_DIR"
