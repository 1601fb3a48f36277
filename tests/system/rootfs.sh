#!/usr/bin/env bash
# Builds (once) and prints the path of a cached Debian 12 root filesystem for the system tests:
#   tests/system/rootfs.sh amd64|arm64
# The cache lives outside the checkout, in $CIELO_ROOTFS_CACHE (default /var/cache/cielo-ci), as
# bookworm-<arch>/. It is built with debootstrap in a temporary directory beside it and renamed into place only
# when complete; a root without the stamp of this recipe (missing, half-built, older recipe) is rebuilt.
# Runs under nice: the CI machine is shared. Needs root, debootstrap, and for arm64 qemu-user-static with
# binfmt_misc (registered here if it is not).
set -euo pipefail
arch=${1:?usage: rootfs.sh amd64|arm64}
cache=${CIELO_ROOTFS_CACHE:-/var/cache/cielo-ci}
mirror=${CIELO_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
case "$arch" in
  # systemd as PID 1, sudo for the operator test; python3-venv is left out so install.sh installs it, as on a
  # minimal Debian.
  amd64) include=systemd,systemd-sysv,dbus,sudo,python3,ca-certificates ;;
  # No boot under qemu-user: a chroot with what install.sh needs (python3-venv included: apt is slow emulated).
  arm64) include=python3,python3-venv,sudo,ca-certificates,passwd ;;
  *) echo "rootfs.sh: unknown arch $arch" >&2; exit 2 ;;
esac
recipe="cielo-rootfs v1 $suite $arch minbase $include"
dest="$cache/$suite-$arch"
log() { printf 'rootfs.sh: %s\n' "$*" >&2; }

mkdir -p "$cache"
exec 9>"$cache/.lock-$arch"
flock 9  # one build at a time per arch; a second caller waits and then finds it built

if [ -f "$dest/.cielo-rootfs" ] && [ "$(cat "$dest/.cielo-rootfs")" = "$recipe" ] && [ -x "$dest/usr/bin/python3" ]; then
  echo "$dest"
  exit 0
fi

command -v debootstrap >/dev/null || { log "debootstrap is not installed (apt-get install debootstrap)"; exit 3; }
if [ "$arch" != "$(dpkg --print-architecture 2>/dev/null || echo unknown)" ]; then
  [ -d /proc/sys/fs/binfmt_misc ] && { [ -e /proc/sys/fs/binfmt_misc/register ] \
    || mount binfmt_misc -t binfmt_misc /proc/sys/fs/binfmt_misc; }
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { log "no binfmt handler for aarch64 (qemu-user-static, binfmt-support)"; exit 3; }
fi

tmp="$cache/.build-$suite-$arch.$$"
rm -rf "$cache"/.build-"$suite-$arch".* "$cache"/.old-"$suite-$arch".*
log "building $dest (debootstrap $suite $arch; a few minutes)"
start=$(date +%s)
if ! nice -n 10 debootstrap --variant=minbase --arch="$arch" --include="$include" "$suite" "$tmp" "$mirror" \
    >"$cache/debootstrap-$arch.log" 2>&1; then
  log "debootstrap failed; the end of $cache/debootstrap-$arch.log:"
  tail -20 "$cache/debootstrap-$arch.log" >&2
  rm -rf "$tmp"
  exit 1
fi
rm -rf "$tmp"/var/cache/apt/archives/*.deb
echo "$recipe" >"$tmp/.cielo-rootfs"
if [ -e "$dest" ]; then mv "$dest" "$cache/.old-$suite-$arch.$$"; fi
mv "$tmp" "$dest"
rm -rf "$cache/.old-$suite-$arch.$$"
log "built $dest in $(( $(date +%s) - start )) s"
echo "$dest"
