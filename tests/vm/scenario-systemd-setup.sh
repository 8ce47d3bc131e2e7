#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ctest vm/systemd-setup (fixture vm-sd-setup of the systemd-guest scenarios):
# the Debian 12 image (scripts/vm/build-debian-guest.sh, cached under
# build/vm-cache, ~70 s on a quiet machine when the package list changed)
# and this tree's .debs (scripts/build-debs.sh with nocheck, into
# $VM_SD_STATE/debs), rebuilt only when a file the package build copies
# changed (the stamp: commit, diff and new files). QUIESCE_VM_DEBS=DIR uses
# .debs built elsewhere instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sd-lib.sh"

command -v qemu-system-x86_64 >/dev/null || vm_skip "qemu-system-x86_64 is not installed"
vm_require_tools mmdebstrap dpkg-buildpackage qemu-img
[ "$(id -u)" = 0 ] || vm_fail "needs root (mmdebstrap, mkfs.ext4 -d); CI runs as root"
mkdir -p "$VM_SD_STATE"
rm -f "$VM_SD_STATE/root.qcow2" "$VM_SD_STATE"/*.log "$VM_SD_STATE"/journal-*

start=$(vm_now_ms)
guest=$("$VM_TOP/scripts/vm/build-debian-guest.sh" --cache "$VM_CACHE") || vm_fail "building the image failed"
vm_log "image $guest: $(du -sm "$guest/root.img" | cut -f1) MB used of $(( $(stat -c %s "$guest/root.img") >> 20 )) MB," \
       "kernel $(sed -n 's/^kernel //p' "$guest/manifest.txt"), $(( ($(vm_now_ms) - start) / 1000 )) s"

start=$(vm_now_ms)
debs=$VM_SD_STATE/debs
if [ -n "${QUIESCE_VM_DEBS:-}" ]; then
  rm -rf "$debs"; mkdir -p "$debs"
  cp "$QUIESCE_VM_DEBS"/*.deb "$debs/" || vm_fail "no .debs in QUIESCE_VM_DEBS=$QUIESCE_VM_DEBS"
  vm_log ".debs from $QUIESCE_VM_DEBS"
else
  # The commit, what differs from it, and the new files (as build-debs.sh
  # packs them; symlinks and all). Outside git: always rebuild.
  stamp=$(cd "$VM_TOP" && { git rev-parse HEAD && git diff HEAD &&
            { git ls-files -z --others --exclude-standard | xargs -0r sha256sum 2>&1 || true; }; } |
          sha256sum | cut -c1-16) || stamp=none-$(date +%s)
  if [ -f "$debs/stamp" ] && [ "$(cat "$debs/stamp")" = "$stamp" ] && ls "$debs"/quiesced_*.deb >/dev/null 2>&1; then
    vm_log ".debs up to date ($stamp)"
  else
    vm_log "building the .debs (scripts/build-debs.sh, nocheck) into $debs"
    DEB_BUILD_OPTIONS=nocheck "$VM_TOP/scripts/build-debs.sh" "$debs" >"$VM_SD_STATE/build-debs.log" 2>&1 ||
      { tail -n 30 "$VM_SD_STATE/build-debs.log"; vm_fail "scripts/build-debs.sh failed"; }
    echo "$stamp" >"$debs/stamp"
    vm_log ".debs built in $(( ($(vm_now_ms) - start) / 1000 )) s"
  fi
fi
ls "$debs"/*.deb | sed 's|.*/|  |'
# The image and the .debs are gigabytes of writeback: let it finish here,
# alone (PROCESSORS 2), not under the tests that run next (docs/testing.md §8).
sync
