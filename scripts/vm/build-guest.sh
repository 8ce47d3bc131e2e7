#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build-guest.sh — builds the test guest for the end-to-end (vm) tests from
# Debian's packages only: the kernel of linux-image-amd64 (booted directly as
# an uncompressed vmlinux; it carries the PVH entry note QEMU's -kernel needs,
# and skips the ~6 s bzImage decompression under TCG; the package's bzImage
# is kept beside it as vmlinuz, for a guest that must wake from S3, which a
# PVH-booted kernel does not: tests/vm/README.md) and an initramfs made of
# busybox-static, the kernel modules the tests need (resolved from
# modules.dep), guest-init.sh as /init, and the binaries given with --bin
# (quiesced, the workload, the example writer) plus the shared libraries they
# load, copied from this Debian 12 host.
#
# --storage-tools makes the capture variant (tests/fixtures/record-fixture.sh):
# it adds lvm, dmsetup, mdadm and cryptsetup from Debian's lvm2, dmsetup,
# libdevmapper-event1.02.1, mdadm and cryptsetup-bin packages (extracted, not
# installed on this host) and the modules they need (dm-mod, dm-crypt and the
# crypto cryptsetup asks the kernel for). Its module list differs, so its
# kernel directory and initramfs are cached apart and the ordinary guest does
# not grow.
#
# Everything is cached under --cache (default build/vm-cache): the kernel per
# package version, the initramfs per hash of every input (package versions,
# this script, the init, each binary and library). A second run with the same
# inputs does nothing. Prints the guest directory (vmlinux, vmlinuz,
# initramfs.cpio, manifest.txt) on stdout; progress goes to stderr.
#
# usage: build-guest.sh [--cache DIR] [--storage-tools] --bin PATH[:GUEST_PATH] ...
#                       [--file SRC:GUEST_PATH] ...
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=$top/build/vm-cache
bins=()
files=()
storage_tools=0

# The modules the guest loads, in this order (dependencies are added in front
# of each from modules.dep). crc32c_generic first: ext4 and xfs ask the crypto
# API for "crc32c" at mount time and there is no modprobe to load it then.
# fuse and cuse: the vm/hv-vss scenario's emulated /dev/vmbus/hv_vss
# (tests/vm/hv-vss-cuse) needs /dev/cuse.
modules=(crc32c_generic libcrc32c virtio_pci virtio_blk virtio_console
         ext4 xfs vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1
         raid1 loop fuse cuse)
# More for one scenario (bench/freeze-vm-dirty.sh: btrfs); a separate cache entry.
modules+=(${VM_EXTRA_MODULES:-})

while [ $# -gt 0 ]; do
  case $1 in
    --cache) cache=$2; shift 2 ;;
    --bin) bins+=("$2"); shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    --storage-tools) storage_tools=1; shift ;;
    *) echo "build-guest: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "build-guest: $*" >&2; }

# The capture variant's packages, and what of them goes into the guest.
# cryptsetup encrypts a LUKS keyslot through AF_ALG (algif_skcipher) with
# aes-xts-plain64 (xts, ecb; aes and sha256 are built in).
storage_pkgs=(lvm2 dmsetup libdevmapper-event1.02.1 mdadm cryptsetup-bin)
storage_bins=(sbin/lvm sbin/dmsetup sbin/mdadm sbin/cryptsetup)
if [ $storage_tools = 1 ]; then
  modules+=(dm_mod dm_crypt xts ecb algif_skcipher algif_hash)
fi

for tool in apt-get dpkg-deb depmod cpio xz sha256sum ldd; do
  command -v "$tool" >/dev/null || { log "missing tool $tool (scripts/install-deps.sh)"; exit 1; }
done
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# One build at a time per cache (ctest -j may start several scenarios).
exec 9>"$cache/.lock"
flock 9

# --- package versions -------------------------------------------------------
# Which kernel linux-image-amd64 points at, and the candidate versions. An
# empty answer means apt has no lists yet (fresh machine): update once.
kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ && !n++ {print $2}'; }
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ && !n++ {print $2}'; }
kpkg=$(kernel_pkg)
if [ -z "$kpkg" ] || [ "$(candidate busybox-static)" = "" ]; then
  log "apt has no package lists; running apt-get update"
  apt-get update -qq >&2 || true
  kpkg=$(kernel_pkg)
fi
if [ -z "$kpkg" ]; then
  # Offline with a cache from an earlier run: use the newest cached kernel.
  kdir=$(ls -d "$cache"/kernel-* 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$kdir" ] || { log "cannot resolve linux-image-amd64 and nothing cached"; exit 1; }
  kver_pkg=$(basename "$kdir"); kver_pkg=${kver_pkg#kernel-}; kver_pkg=${kver_pkg%-*}
  bbdir=$(ls -d "$cache"/busybox-* 2>/dev/null | sort -V | tail -1)
  bbver=${bbdir##*/busybox-}
  log "offline: using cached $kver_pkg and busybox $bbver"
else
  kver_pkg="${kpkg}_$(candidate "$kpkg")"
  bbver=$(candidate busybox-static)
  kdir=$cache/kernel-$kver_pkg-$(printf '%s\n' "${modules[@]}" | sha256sum | cut -c1-8)
  bbdir=$cache/busybox-$bbver
fi

fetch_deb() { # $1: package name; prints the .deb path
  local d=$cache/debs
  mkdir -p "$d"
  (cd "$d" && apt-get download "$1" >&2 2>/dev/null) || (cd "$d" && apt-get download "$1" >&2)
  ls -t "$d"/"$1"_*.deb | head -1
}

# --- module load order from modules.dep ---------------------------------------
# resolve_modules DEPFILE: fills order[] with the paths (relative to the
# modules dir) of the wanted modules, each after what it depends on.
declare -A seen=()
order=()
add_module() { # $1: DEPFILE, $2: path relative to the modules dir
  [ -n "${seen[$2]:-}" ] && return 0
  seen[$2]=1
  local dep
  for dep in $(awk -F': *' -v m="$2" '$1 == m {print $2}' "$1"); do
    add_module "$1" "$dep"
  done
  order+=("$2")
}
resolve_modules() {
  local m path
  seen=(); order=()
  for m in "${modules[@]}"; do
    path=$(awk -F: -v n="$m" '{f=$1; sub(/.*\//, "", f); sub(/\.ko.*$/, "", f); gsub(/-/, "_", f);
                                 g=n; gsub(/-/, "_", g); if (f == g) {print $1; exit}}' "$1")
    [ -n "$path" ] || { log "module $m not in $1"; exit 1; }
    add_module "$1" "$path"
  done
}

# --- kernel: vmlinux, vmlinuz + the needed modules ----------------------------
# The directory is keyed by the module list too: only those are kept. (One
# cached before vmlinuz was kept has none: made again.)
if [ ! -f "$kdir/done" ] || [ ! -f "$kdir/vmlinuz" ]; then
  log "fetching $kpkg"
  deb=$(fetch_deb "$kpkg")
  tmp=$(mktemp -d "$cache/.kernel.XXXXXX")
  dpkg-deb -x "$deb" "$tmp/x"
  kver=$(ls "$tmp/x/lib/modules")
  # The package ships no modules.dep (its postinst runs depmod): make one.
  depmod -b "$tmp/x" "$kver"
  # vmlinuz is a bzImage with an xz payload: find the xz stream that
  # decompresses to an ELF file (what the kernel's extract-vmlinux does).
  vmlinuz=$tmp/x/boot/vmlinuz-$kver
  for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
    tail -c +$((off + 1)) "$vmlinuz" | xz -dc >"$tmp/vmlinux" 2>/dev/null || true
    if [ "$(head -c 4 "$tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then break; fi
    rm -f "$tmp/vmlinux"
  done
  [ -s "$tmp/vmlinux" ] || { log "no xz-compressed ELF found in $vmlinuz"; exit 1; }
  mkdir -p "$tmp/k/modules"
  mv "$tmp/vmlinux" "$tmp/k/vmlinux"
  cp "$vmlinuz" "$tmp/k/vmlinuz"
  echo "$kver" >"$tmp/k/kver"
  cp "$tmp/x/lib/modules/$kver/modules.dep" "$tmp/k/modules.dep"
  # Keep only the modules the guest loads (and what they depend on).
  resolve_modules "$tmp/k/modules.dep"
  (cd "$tmp/x/lib/modules/$kver" && printf '%s\n' "${order[@]}" | tar -cf - -T - ) |
    (cd "$tmp/k/modules" && tar -xf -)
  rm -rf "$kdir"; mv "$tmp/k" "$kdir"; rm -rf "$tmp" "$deb"
  touch "$kdir/done"
fi
kver=$(cat "$kdir/kver")
resolve_modules "$kdir/modules.dep"

if [ ! -f "$bbdir/busybox" ]; then
  log "fetching busybox-static $bbver"
  deb=$(fetch_deb busybox-static)
  tmp=$(mktemp -d "$cache/.busybox.XXXXXX")
  dpkg-deb -x "$deb" "$tmp"
  mkdir -p "$bbdir"; cp "$tmp/bin/busybox" "$bbdir/busybox"; rm -rf "$tmp" "$deb"
fi

# Extracted, never installed here: the tree is keyed by the package versions.
tooldir=
if [ $storage_tools = 1 ]; then
  versions=$(for p in "${storage_pkgs[@]}"; do echo "$p $(candidate "$p")"; done)
  tooldir=$cache/storage-tools-$(echo "$versions" | sha256sum | cut -c1-8)
  if [ ! -f "$tooldir/done" ]; then
    log "fetching ${storage_pkgs[*]}"
    tmp=$(mktemp -d "$cache/.tools.XXXXXX")
    for p in "${storage_pkgs[@]}"; do
      deb=$(fetch_deb "$p")
      dpkg-deb -x "$deb" "$tmp"
      rm -f "$deb"
    done
    echo "$versions" >"$tmp/versions"
    rm -rf "$tooldir"; mv "$tmp" "$tooldir"
    touch "$tooldir/done"
  fi
  for b in "${storage_bins[@]}"; do bins+=("$tooldir/$b:/usr/$b"); done
fi

# --- what goes into the initramfs, and the cache key ---------------------------
# A recipe line per input: the key is its hash.
recipe=$(mktemp)
trap 'rm -f "$recipe"' EXIT
{
  echo "kernel $kver_pkg"
  echo "busybox $bbver $(sha256sum <"$bbdir/busybox" | cut -c1-64)"
  echo "script $(sha256sum <"$0" | cut -c1-64)"
  echo "init $(sha256sum <"$here/guest-init.sh" | cut -c1-64)"
  for m in "${order[@]}"; do echo "module $m"; done
} >"$recipe"

declare -A libs=()
for spec in "${bins[@]}"; do
  src=${spec%%:*}
  [ -f "$src" ] || { log "no such binary $src"; exit 1; }
  echo "bin $spec $(sha256sum <"$src" | cut -c1-64)" >>"$recipe"
  # Dynamic binaries: every library ldd resolves, and the loader.
  while read -r lib; do
    [ -n "$lib" ] && libs[$lib]=1
  done < <(LD_LIBRARY_PATH=${tooldir:+$tooldir/lib/x86_64-linux-gnu} ldd "$src" 2>/dev/null |
           awk '/=> \// {print $3} /^[ \t]*\/lib/ {print $1}')
done
for spec in "${files[@]}"; do
  src=${spec%%:*}
  echo "file $spec $(sha256sum <"$src" | cut -c1-64)" >>"$recipe"
done
for lib in "${!libs[@]}"; do echo "lib $lib $(sha256sum <"$lib" | cut -c1-64)"; done | sort >>"$recipe"
key=$(sha256sum <"$recipe" | cut -c1-16)
guest=$cache/guest-$key

if [ -f "$guest/initramfs.cpio" ]; then
  log "cached: $guest"
  echo "$guest"
  exit 0
fi

log "building initramfs $key (kernel $kver)"
stage=$(mktemp -d "$cache/.stage.XXXXXX")
trap 'rm -f "$recipe"; rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/modules,lib64,lib/x86_64-linux-gnu,etc/quiesce/writers.d,proc,sys,dev,run,tmp,data,root}
cp "$bbdir/busybox" "$stage/bin/busybox"
for applet in $("$bbdir/busybox" --list-full); do
  [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
install -m 0755 "$here/guest-init.sh" "$stage/init"
for m in "${order[@]}"; do
  cp "$kdir/modules/$m" "$stage/lib/modules/"
  basename "$m" >>"$stage/etc/modules.order"
done
for spec in "${bins[@]}"; do
  src=${spec%%:*}
  dst=/usr/bin/$(basename "$src")
  [ "$spec" != "$src" ] && dst=${spec#*:}
  mkdir -p "$stage/$(dirname "$dst")"
  install -m 0755 "$src" "$stage/$dst"
done
for spec in "${files[@]}"; do
  src=${spec%%:*}; dst=${spec#*:}
  mkdir -p "$stage/$(dirname "$dst")"
  cp -a "$src" "$stage/$dst"
done
for lib in "${!libs[@]}"; do
  # Copy the file itself under the name the loader asks for; /lib64 for the
  # loader, /lib/x86_64-linux-gnu (the merged-/usr path) for the rest.
  case $lib in
    /lib64/*) dst=$stage/lib64/$(basename "$lib") ;;
    *) dst=$stage/lib/x86_64-linux-gnu/$(basename "$lib") ;;
  esac
  cp -L "$lib" "$dst"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
cp "$recipe" "$stage/etc/guest-manifest.txt"

tmp=$(mktemp -d "$cache/.guest.XXXXXX")
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet) >"$tmp/initramfs.cpio"
ln -s "../$(basename "$kdir")/vmlinux" "$tmp/vmlinux"
ln -s "../$(basename "$kdir")/vmlinuz" "$tmp/vmlinuz"
cp "$recipe" "$tmp/manifest.txt"
rm -rf "$guest"; mv "$tmp" "$guest"
# Every rebuild of the agent makes a new guest: keep the newest few.
ls -dt "$cache"/guest-* 2>/dev/null | tail -n +6 | xargs -r rm -rf
log "built $guest ($(du -h "$guest/initramfs.cpio" | cut -f1) initramfs)"
echo "$guest"
