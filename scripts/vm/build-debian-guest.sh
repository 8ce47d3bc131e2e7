#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build-debian-guest.sh — builds the systemd guest of the vm/systemd-* tests:
# a Debian 12 root filesystem made by mmdebstrap from Debian's packages
# (minbase, systemd as PID 1, udev, the kernel), as a raw ext4 image that the
# tests never write: each boot puts a qcow2 overlay on it and installs the
# freshly built .debs there. Beside it, the kernel as an uncompressed vmlinux
# (QEMU's -kernel boots it through its PVH note without the bzImage's
# decompression, docs/testing.md §2) and the image's own initrd, built by
# initramfs-tools with only the modules the root needs (MODULES=list), so it
# stays small to load under TCG. The bzImage is kept too (vmlinuz): a
# guest that sleeps in S3 must boot it, as the vmlinux booted through PVH
# triple-faults when the firmware jumps to its wake-up vector
# (tests/vm/README.md).
#
# The image also holds what the tests need and a package must not bring:
# qemu-guest-agent and hyperv-daemons installed (the agents quiesced replaces
# or conflicts with; the qemu-guest-agent .deb kept in /root/extra-debs for
# dpkg-deb -x), the libraries the .debs depend on (the guest has no network),
# and the test's control service, tests/vm/systemd-guest/vm-control.sh on the
# virtio-serial port org.quiesce.control.0.
#
# Cached under --cache (default build/vm-cache) in debian-guest-KEY, KEY the
# hash of the package list, the kernel package apt resolves, this script and
# the control service: a second run with the same inputs does nothing.
# Prints the guest directory (root.img, vmlinux, vmlinuz, initrd.img, manifest.txt) on
# stdout; progress goes to stderr. Needs root (mmdebstrap's root mode,
# mkfs.ext4 -d keeping owners).
#
# usage: build-debian-guest.sh [--cache DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=$top/build/vm-cache
control=$top/tests/vm/systemd-guest

# The packages on top of minbase. The kernel's initramfs-tools comes with
# linux-image-amd64; e2fsprogs and xfsprogs for the data disks; libglib2.0-0,
# libblkid1 and libfuse3-3 are what the .debs and hv-vss-cuse link;
# util-linux-extra has hwclock, which guest-set-time runs (without it both
# agents answer Unsupported, and virsh domtime --sync cannot be tested);
# dbus, for systemd-logind: the agents' `shutdown -h -P +0` is scheduled
# through logind, and fails without it (minbase leaves out Recommends). The
# mount zoo of vm/systemd-mounts: lvm2 and thin-provisioning-tools (a thin
# volume; lvm runs thin_check when it activates the pool), btrfs-progs,
# squashfs-tools (snap-like images), dosfstools (an EFI partition),
# nfs-kernel-server (an export mounted over loopback) and squashfuse with
# fuse3 (a FUSE mount). mariadb-server for the MariaDB writer's scenario
# (its unit is disabled below: the other scenarios boot without a
# database), libmariadb3 what quiesce-writer-mariadb links; postgresql-15
# (its server, psql, libpq5) for vm/systemd-postgresql.
packages=(systemd systemd-sysv udev linux-image-amd64 e2fsprogs xfsprogs
          libglib2.0-0 libblkid1 libfuse3-3 qemu-guest-agent hyperv-daemons
          util-linux-extra dbus
          lvm2 thin-provisioning-tools btrfs-progs squashfs-tools dosfstools
          nfs-kernel-server squashfuse fuse3
          mariadb-server libmariadb3 postgresql-15)
# The root's modules for initramfs-tools (MODULES=list).
initrd_modules=(virtio_pci virtio_blk ext4 crc32c_generic)
image_mb=2048

while [ $# -gt 0 ]; do
  case $1 in
    --cache) cache=$2; shift 2 ;;
    *) echo "build-debian-guest: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "build-debian-guest: $*" >&2; }

for tool in mmdebstrap mkfs.ext4 xz sha256sum flock; do
  command -v "$tool" >/dev/null || { log "missing tool $tool (scripts/install-deps.sh)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { log "needs root (mmdebstrap's root mode, mkfs.ext4 -d)"; exit 1; }
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
exec 9>"$cache/.debian-guest.lock"
flock 9

# The kernel package linux-image-amd64 points at now: a new Debian kernel
# makes a new image. Empty when apt has no lists (offline): the key then
# leaves it out and an image cached earlier is used.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ && !n++ {print $2}' || true)
kver=$(apt-cache policy "$kpkg" 2>/dev/null | awk '/Candidate:/ && !n++ {print $2}' || true)
key=$({
  printf '%s\n' "${packages[@]}" "${initrd_modules[@]}" "$image_mb"
  sha256sum "$0" "$control/vm-control.sh" "$control/vm-control.service" | cut -c1-64
} | sha256sum | cut -c1-16)
dir=$cache/debian-guest-$key
if [ -f "$dir/done" ] && grep -qxF "kernel $kpkg $kver" "$dir/manifest.txt"; then
  echo "$dir"; exit 0
fi
if [ -z "$kpkg" ] && [ -f "$dir/done" ]; then
  log "apt knows no linux-image-amd64 (no lists?): using the cached image"
  echo "$dir"; exit 0
fi

start=$(date +%s)
tmp=$(mktemp -d "$cache/.debian-guest.XXXXXX")
# A killed mmdebstrap leaves the host's /proc, /sys and /dev/* mounted in
# its root: unmount what is left under $tmp, and never let rm cross into
# another filesystem (it would empty the host's /dev/shm).
# The trap runs under set -e and pipefail: nothing in it may fail, or the
# script's status becomes the trap's (grep finding no mount is the norm).
cleanup_tmp() {
  local m
  { findmnt -rn -o TARGET | grep -F "$tmp/" || true; } | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$tmp" || log "could not remove $tmp"
}
trap cleanup_tmp EXIT
log "mmdebstrap bookworm (minbase + ${packages[*]}) into $tmp/root"
# Hooks run on the host with the root as $1. Setup: initramfs-tools' module
# list before the kernel's postinst builds the initrd. Customize: the
# control service, fstab, no root password (console debugging), apt's
# timers masked (their runs would take apt's lock under the test's
# `apt install`), the NFS server and client units disabled (started by
# vm/systemd-mounts when it needs them, not at every boot), mariadb.service
# disabled (a scenario starts it on its own data disk), the
# qemu-guest-agent .deb kept for dpkg-deb -x, and no PostgreSQL cluster
# nor its start at boot (vm/systemd-postgresql makes its own on a data
# disk; the other scenarios boot as fast as without it).
# mmdebstrap runs with stdin, stdout, stderr and the lock (9) only: it
# hands apt a pipe by its number for /bin/sh (dash) to write to, and dash
# reads one digit; with descriptors its caller left open (ctest, flock) the
# pipe was 11 once, and apt's hook failed with "Bad fd number".
(
for fd in /proc/self/fd/*; do
  fd=${fd##*/}
  case $fd in 0|1|2|9) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done
exec mmdebstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  --setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"' \
  --setup-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/quiesce-vm.conf"' \
  --setup-hook="printf '%s\n' ${initrd_modules[*]} >\"\$1/usr/share/initramfs-tools/modules.d/quiesce-vm\"" \
  --customize-hook='mkdir -p "$1/root/extra-debs" && cp "$1"/var/cache/apt/archives/qemu-guest-agent_*.deb "$1/root/extra-debs/"' \
  --customize-hook="install -m 0755 '$control/vm-control.sh' \"\$1/usr/local/sbin/vm-control\"" \
  --customize-hook="install -m 0644 '$control/vm-control.service' \"\$1/etc/systemd/system/vm-control.service\"" \
  --customize-hook='chroot "$1" systemctl enable vm-control.service' \
  --customize-hook='chroot "$1" systemctl disable mariadb.service' \
  --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service' \
  --customize-hook='chroot "$1" systemctl disable nfs-server.service nfs-client.target rpcbind.service rpcbind.socket' \
  --customize-hook='echo "/dev/vda / ext4 rw 0 0" >"$1/etc/fstab"; echo sdguest >"$1/etc/hostname"' \
  --customize-hook='chroot "$1" passwd -d root >/dev/null' \
  --customize-hook='chroot "$1" pg_dropcluster 15 main' \
  --customize-hook='chroot "$1" systemctl disable -q postgresql.service' \
  bookworm "$tmp/root" >&2
)

mkdir -p "$tmp/out"
kfile=$(ls "$tmp/root"/boot/vmlinuz-* | head -1)
# The uncompressed kernel: the first xz stream in the bzImage that
# decompresses to an ELF file (what the kernel's extract-vmlinux does).
for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$kfile" | cut -d: -f1); do
  tail -c +$((off + 1)) "$kfile" | xz -dc >"$tmp/out/vmlinux" 2>/dev/null || true
  [ "$(head -c 4 "$tmp/out/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] && break
  rm -f "$tmp/out/vmlinux"
done
[ -s "$tmp/out/vmlinux" ] || { log "no xz-compressed ELF found in $kfile"; exit 1; }
cp "$kfile" "$tmp/out/vmlinuz"
cp "$tmp/root"/boot/initrd.img-* "$tmp/out/initrd.img"
{
  echo "kernel $kpkg $kver"
  chroot "$tmp/root" dpkg-query -W -f='${Package} ${Version}\n'
} >"$tmp/out/manifest.txt"
log "root filesystem: $(du -sm "$tmp/root" | cut -f1) MB; ext4 image of $image_mb MB"
truncate -s "${image_mb}M" "$tmp/out/root.img"
mkfs.ext4 -q -F -L sdguest-root -d "$tmp/root" "$tmp/out/root.img"
rm -rf "$tmp/root"
rm -rf "$cache"/debian-guest-*   # one image at a time: each is ~1 GB
mv "$tmp/out" "$dir"
touch "$dir/done"
log "built $dir in $(( $(date +%s) - start )) s ($(du -sm "$dir" | cut -f1) MB on disk)"
echo "$dir"
