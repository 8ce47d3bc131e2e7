#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The mounts that break other agents' backups, all at once in one boot of
# the systemd guest (issue 18 point 1): ext4 and xfs on plain disks, an LVM
# thin volume, a loop-mounted image and a second image inside it, 200 bind
# mounts of the ext4, an overlay as container runtimes make them (layers,
# upper and work dirs on the xfs), two squashfs images loop-mounted as snap
# mounts them, a tmpfs, an ext4 on a brd ramdisk, a vfat EFI partition, an
# NFS export of the xfs mounted over loopback, a FUSE mount (squashfuse),
# and a btrfs with two subvolumes mounted beside its top level.
#
# Its own qcow2 overlay on top of the one vm/systemd-noport installed the
# .debs into (read only under it, so vm/systemd-port's chain is untouched).
#
#   1. `quiesced --check --json`: each mount's class and verdict (table
#      below); the vfat makes the guest ineligible and is named.
#   2. Negative control: a backup without the exclusion falls back to saved
#      state with reason unsupported-filesystem naming /boot/efi.
#   3. With `exclude=/boot/efi` (quiesced.conf(5); also window=60 and
#      host-lost-grace=0, so a prepare from one connection and a post from
#      another survive a slow TCG guest): not on the agent's word alone, a
#      prepare/post session of its own: while frozen, a write into each
#      filesystem that must be frozen (also through a bind mount and each
#      btrfs subvolume) is held, one into the tmpfs, the ramdisk and the
#      ESP is not; the post succeeding proves the freeze outlasted the
#      probes. Then a child-snapshot backup under fsynced writers on the
#      ext4 (through a bind mount), the xfs (through the overlay), the
#      thin volume, a btrfs subvolume and the inner loop image, buffered
#      ones on the ext4 and the outer loop image: its `frozen` list is the
#      probe session's, exactly the expected superblocks, each once, inner
#      loop before outer loop before /, in 3 levels (the agent's journal);
#      the ramdisk, NFS, FUSE and the ESP are in `excluded`.
#   4. The snapshot: ext4 (data disk, /, both loop images dumped out of the
#      root snapshot, the thin volume rebuilt on the host from the
#      snapshot's pool with thin_dump's map) has a clean journal and
#      passes e2fsck -fn; the xfs log is the freeze's cover and passes
#      xfs_repair -n; the btrfs has no log tree (log_root 0: the freeze
#      committed) and passes btrfs check; every writer's records up to
#      prepare are there, whole, and it stalled across the frozen window.
#   5. Negative control of 4: a snapshot with no freeze (--no-quiesce) of
#      the same guest fails those on-disk checks for their reason (ext4
#      disk, /, a.img and the thin volume: needs_recovery; btrfs: a log
#      tree).
#   6. Prepare time with the 200 bind mounts and without them (timed on
#      the host, prepare + post pairs; the agent's probe time from its
#      journal; `quiesced --check` timed in the guest).
#
# Every guest command is bounded (vm-control's 300 s, sd_sh's read
# timeout), every agent request by quiesce-backup's timeouts, a freeze by
# the agent's window (60 s), the test by ctest's TIMEOUT.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sd-lib.sh"

vm_require_tools jq btrfs thin_dump
sd_setup
base=$VM_SD_STATE/root.qcow2
[ -f "$base" ] || vm_fail "no installed overlay in $VM_SD_STATE (vm/systemd-noport)"
# Our own overlay over the installed one; sd_boot boots $VM_SD_STATE/root.qcow2.
VM_SD_STATE=$WORK/sd
mkdir -p "$VM_SD_STATE"
qemu-img create -q -f qcow2 -F qcow2 -b "$base" "$VM_SD_STATE/root.qcow2"
vm_disk data-ext4 ext4 128
vm_disk data-xfs xfs 320
vm_disk data-lvm none 256
vm_disk data-btrfs btrfs 256
vm_disk efi vfat 64
# An old agent log line tells nothing: the journal is read per session.
sd_boot yes

# --- the mounts -----------------------------------------------------------------
setup_start=$(vm_now_ms)
sd_expect "the modules load (none is in the initrd)" '
  modprobe -a loop dm_thin_pool btrfs squashfs overlay vfat nfsd nfs fuse xfs && modprobe brd rd_nr=1 rd_size=32768 &&
  for m in loop dm_thin_pool btrfs squashfs overlay vfat nfsd fuse brd; do
    [ -d /sys/module/$m ] || { echo "module $m not loaded"; exit 1; }; done'
# sd_step WHAT SECONDS SCRIPT: as sd_expect, with a limit of its own (under
# 300 s, vm-control's).
sd_step() {
  local out t0=$(vm_now_ms)
  out=$(sd_sh "export LVM_SUPPRESS_FD_WARNINGS=1; $3" "$2") || { printf '%s\n' "$out"; vm_fail "$1"; }
  [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
  vm_log "ok: $1 ($(( ($(vm_now_ms) - t0) / 1000 )) s)"
}
sd_step "disks: ext4, xfs, LVM thin, btrfs and subvolumes, vfat ESP" 280 '
  set -e
  d=/dev/disk/by-id/virtio-
  udevadm settle -t 30
  mkdir -p /mnt/ext4 /mnt/xfs /mnt/thin /mnt/btrfs /mnt/btrfs-data /mnt/btrfs-home /mnt/loop-a /mnt/loop-b \
           /mnt/tmpfs /mnt/ram /mnt/nfs /mnt/fuse /boot/efi /srv/images /var/lib/snapd/snaps /snap/core/1 /snap/hello/1
  mount ${d}data-ext4 /mnt/ext4
  mount ${d}data-xfs /mnt/xfs
  # An LVM thin pool and a thin volume (lvm runs thin_check on activation).
  pvcreate -q ${d}data-lvm; vgcreate -q vgq ${d}data-lvm
  lvcreate -q --type thin-pool -L 192M -n pool vgq
  lvcreate -q -V 128M --thinpool vgq/pool -n thin
  mkfs.ext4 -q /dev/vgq/thin; mount /dev/vgq/thin /mnt/thin
  # btrfs: the top level and two subvolumes, each mounted.
  mount ${d}data-btrfs /mnt/btrfs
  btrfs -q subvolume create /mnt/btrfs/@data; btrfs -q subvolume create /mnt/btrfs/@home
  mount -o subvol=@data ${d}data-btrfs /mnt/btrfs-data
  mount -o subvol=@home ${d}data-btrfs /mnt/btrfs-home
  # The EFI system partition as Debian mounts it.
  mount -o umask=0077 ${d}efi /boot/efi; echo grub >/boot/efi/grubx64.efi'
sd_step "loop images (one inside another), snap squashfs, overlay, tmpfs, brd" 280 '
  set -e
  # A loop image on /, and a second one inside the first.
  truncate -s 64M /srv/images/a.img; mkfs.ext4 -q -F /srv/images/a.img; mount -o loop /srv/images/a.img /mnt/loop-a
  truncate -s 24M /mnt/loop-a/b.img; mkfs.ext4 -q -F /mnt/loop-a/b.img; mount -o loop /mnt/loop-a/b.img /mnt/loop-b
  # Snap: squashfs images under /var/lib/snapd/snaps, loop-mounted as its
  # mount units do (Type=squashfs, Options=nodev,ro,x-gdu.hide,x-gvfs-hide).
  mksquashfs /usr/share/doc/bash /var/lib/snapd/snaps/core_1.snap -noappend -quiet -comp xz >/dev/null
  mksquashfs /usr/share/doc/systemd /var/lib/snapd/snaps/hello_1.snap -noappend -quiet -comp xz >/dev/null
  mount -t squashfs -o nodev,ro,x-gdu.hide,x-gvfs-hide /var/lib/snapd/snaps/core_1.snap /snap/core/1
  mount -t squashfs -o nodev,ro,x-gdu.hide,x-gvfs-hide /var/lib/snapd/snaps/hello_1.snap /snap/hello/1
  # A container root as Docker/podman make it: layers, upper and work on the xfs.
  o=/mnt/xfs/overlay; mkdir -p $o/l1/etc $o/l2/usr $o/upper $o/work $o/merged
  echo layer1 >$o/l1/etc/release; echo layer2 >$o/l2/usr/lib-version
  mount -t overlay overlay -o lowerdir=$o/l2:$o/l1,upperdir=$o/upper,workdir=$o/work $o/merged
  mount -t tmpfs -o size=16m tmpfs /mnt/tmpfs
  mkfs.ext4 -q /dev/ram0; mount /dev/ram0 /mnt/ram'
sd_step "NFS export of the xfs over loopback, squashfuse" 280 '
  set -e
  mkdir -p /mnt/xfs/export
  echo "/mnt/xfs/export 127.0.0.1(rw,sync,no_subtree_check,no_root_squash,fsid=1)" >/etc/exports
  timeout 150 systemctl start nfs-server.service
  timeout 60 mount -t nfs4 -o timeo=50,retrans=2 127.0.0.1:/mnt/xfs/export /mnt/nfs
  mksquashfs /usr/share/doc/util-linux /srv/images/tools.sqfs -noappend -quiet >/dev/null
  squashfuse /srv/images/tools.sqfs /mnt/fuse'
sd_step "200 bind mounts of the ext4 (shared-hosting cages)" 280 '
  set -e
  # Under a tmpfs of their own, so that one umount -R ends them (step 6).
  mkdir -p /srv/cage; mount -t tmpfs -o size=1m,mode=755 cages /srv/cage
  n=$(seq -w 1 200)
  (cd /mnt/ext4 && mkdir -p $(printf "home/u%s " $n)); (cd /srv/cage && mkdir $(printf "u%s " $n))
  # Two at a time (two vCPUs): each mount(8) is an exec, slow under TCG.
  for half in "$(seq -w 1 2 200)" "$(seq -w 2 2 200)"; do
    ( for i in $half; do mount --bind /mnt/ext4/home/u$i /srv/cage/u$i; done ) &
  done
  wait
  echo "$(wc -l </proc/self/mountinfo) mounts, $(findmnt -n -l -o TARGET | grep -c "^/srv/cage/") of them under /srv/cage"
  findmnt -n -l -o TARGET,FSTYPE,SOURCE | grep -v -E "^/(srv/cage|run|dev|sys|proc)/" |
    grep -E " (ext4|xfs|btrfs|vfat|squashfs|overlay|tmpfs|nfs4|fuse\.squashfuse) "'
vm_log "mounts made in $(( ($(vm_now_ms) - setup_start) / 1000 )) s"

# The writers: fsynced records through a bind mount of the ext4, through the
# overlay onto the xfs, on the thin volume, a btrfs subvolume, the inner loop
# image; buffered ones on the ext4 and in the loop image on /.
sd_expect "writers started" '
  echo 0 >/proc/sys/vm/dirty_writeback_centisecs; echo 8640000 >/proc/sys/vm/dirty_expire_centisecs
  w() { systemd-run -q --unit=wl-$1 -p StandardOutput=file:/dev/ttyS0 /usr/local/bin/vm-workload "$@"; }
  w ext4 /srv/cage/u007/workload.log 50
  w ovl /mnt/xfs/overlay/merged/workload.log 50
  w thin /mnt/thin/workload.log 50
  w btrfs /mnt/btrfs-data/workload.log 50
  w loopb /mnt/loop-b/workload.log 50
  systemd-run -q --unit=wl-ext4-buf -p StandardOutput=file:/dev/ttyS0 /usr/local/bin/vm-workload --buffered ext4-buf /mnt/ext4/buffered.log 20
  systemd-run -q --unit=wl-loopa-buf -p StandardOutput=file:/dev/ttyS0 /usr/local/bin/vm-workload --buffered loopa-buf /mnt/loop-a/buffered.log 20'
writers="ext4 ovl thin btrfs loopb ext4-buf loopa-buf"
for w in $writers; do vm_wait_progress "$w" 3 60 || vm_fail "the workload $w does not write"; done

# --- 1. the classes -------------------------------------------------------------
sd_sh 'quiesced --check --json 2>/dev/null' >"$WORK/check1.json" && vm_fail "quiesced --check says eligible with a writable vfat"
jq -e .mounts "$WORK/check1.json" >/dev/null || { cat "$WORK/check1.json"; vm_fail "quiesced --check --json printed no report"; }
sd_sh 'quiesced --check' >"$WORK/check1.txt" || true
# mount_expect MOUNTPOINT CLASS VERDICT [REASON-REGEX]: the --check entry of
# MOUNTPOINT (its primary mountpoint or an alias).
mount_expect() {
  local entry
  entry=$(jq -c --arg m "$1" '.mounts[] | select(.mountpoint == $m or any(.aliases[]?; . == $m))' "$WORK/$check")
  [ -n "$entry" ] || vm_fail "--check lists no mount $1"
  [ "$(jq -r .class <<<"$entry")" = "$2" ] && [ "$(jq -r .verdict <<<"$entry")" = "$3" ] ||
    vm_fail "$1: expected $2/$3, --check says $(jq -r '.class + "/" + .verdict + ": " + .reason' <<<"$entry")"
  if [ -n "${4:-}" ] && ! jq -r .reason <<<"$entry" | grep -qE "$4"; then
    vm_fail "$1: the reason does not match /$4/: $(jq -r .reason <<<"$entry")"
  fi
  printf '    %-28s %-22s %-20s %s\n' "$1" "$2" "$3" "$(jq -r .reason <<<"$entry")"
}
expect_classes() {
  mount_expect / basic freeze 'virtio-blk disk vda'
  mount_expect /mnt/ext4 basic freeze 'virtio-blk disk'
  mount_expect /srv/cage/u137 basic freeze
  mount_expect /mnt/xfs basic freeze 'virtio-blk disk'
  mount_expect /mnt/thin volume-managed freeze 'LVM volume'
  mount_expect /mnt/btrfs basic freeze
  mount_expect /mnt/btrfs-data basic freeze
  mount_expect /mnt/btrfs-home basic freeze
  mount_expect /mnt/loop-a loop-backed freeze '/srv/images/a.img'
  mount_expect /mnt/loop-b loop-backed freeze '/mnt/loop-a/b.img'
  mount_expect /snap/core/1 read-only skip
  mount_expect /snap/hello/1 read-only skip
  mount_expect /mnt/xfs/overlay/merged pseudo skip 'stacked'
  mount_expect /mnt/tmpfs pseudo skip
  mount_expect /mnt/ram not-host-visible exclude-and-report 'ram0'
  mount_expect /mnt/nfs not-host-visible exclude-and-report 'served by this guest itself'
  mount_expect /mnt/fuse not-host-visible exclude-and-report 'FUSE'
}
check=check1.json
vm_log "quiesced --check (vfat not excluded): method $(jq -r .method "$WORK/$check")"
expect_classes
mount_expect /boot/efi unsupported-filesystem blocks-child-snapshot 'vfat'
jq -e '.reasons[] | select(.code == "unsupported-filesystem" and .mountpoint == "/boot/efi")' "$WORK/$check" >/dev/null ||
  vm_fail "the reasons do not name /boot/efi: $(jq -c .reasons "$WORK/$check")"
[ "$(jq '.reasons | length' "$WORK/$check")" = 1 ] || vm_fail "more reasons than the vfat: $(jq -c .reasons "$WORK/$check")"
[ "$(jq '[.mounts[] | select(.mountpoint == "/mnt/ext4")] | .[0].aliases | length' "$WORK/$check")" -ge 200 ] ||
  vm_fail "the 200 bind mounts are not aliases of /mnt/ext4"
vm_log "ok: 1. every mount has the expected class and verdict; the vfat makes the guest ineligible, named"

# --- 2. negative control: without the exclusion, no child snapshot ---------------
rm -f "$WORK/report"
rc=0
"$QUIESCE_BACKUP" --qmp "$WORK/qmp.sock" --agent "$WORK/qga.sock" --overlay-dir "$WORK" \
  --report "$WORK/report" backup >"$WORK/backup0.out" 2>&1 || rc=$?
# 3: backed up, by the saved-state fallback (quiesce-backup(1)).
[ "$rc" = 3 ] || { cat "$WORK/backup0.out"; vm_fail "the fallback backup exited $rc, expected 3"; }
[ "$(vm_report prepare-method)" = saved-state ] && [ "$(vm_report method)" = saved-state ] ||
  vm_fail "with the writable vfat: method $(vm_report method), expected saved-state"
case $(vm_report reasons) in *unsupported-filesystem*/boot/efi*|*/boot/efi*unsupported-filesystem*) ;;
  *) vm_fail "the saved-state reasons do not name /boot/efi: $(vm_report reasons)" ;; esac
status=$(vm_agent '{"execute":"guest-fsfreeze-status"}') || vm_fail "guest-fsfreeze-status: $status"
[ "$status" = '"thawed"' ] || vm_fail "after the refused prepare: $status"
vm_log "ok: 2. without the exclusion the backup falls back: $(vm_report reasons)"

# --- 3. with the exclusion: the child snapshot ------------------------------------
sd_expect "exclude=/boot/efi in quiesced.conf, agent restarted" '
  printf "[freeze]\nwindow=60\nhost-lost-grace=0\nexclude=/boot/efi\n\n[writers]\ntimeout=1\ntotal-timeout=1\n" >/etc/quiesce/quiesced.conf
  systemctl restart quiesced.service && sleep 1 && systemctl -q is-active quiesced.service'
sd_sh 'quiesced --check --json 2>/dev/null' >"$WORK/check2.json" || { cat "$WORK/check2.json"; vm_fail "--check with the exclusion: not eligible"; }
check=check2.json
expect_classes >/dev/null
mount_expect /boot/efi excluded skip
[ "$(jq -r .method "$WORK/$check")" = child-snapshot ] || vm_fail "--check method $(jq -r .method "$WORK/$check")"
order=$(jq -r '."freeze-order" | join(" ")' "$WORK/$check")
vm_log "ok: 3. with exclude=/boot/efi: eligible, freeze order [$order]"

# The probes, in a session of their own (prepare, probes, post) so that no
# timing can fool them: while frozen, a write into each mount; the written
# ones are noted in /run/probes (tmpfs, never frozen). The post succeeding
# proves the freeze lasted until they were read.
probe_dirs="/ /mnt/ext4 /srv/cage/u150 /mnt/xfs /mnt/thin /mnt/btrfs /mnt/btrfs-data /mnt/btrfs-home /mnt/loop-a"
probe_dirs+=" /mnt/loop-b /mnt/xfs/overlay/merged /mnt/nfs /mnt/tmpfs /mnt/ram /boot/efi"
held_expected="/ /mnt/ext4 /srv/cage/u150 /mnt/xfs /mnt/thin /mnt/btrfs /mnt/btrfs-data /mnt/btrfs-home /mnt/loop-a /mnt/loop-b"
free_expected="/mnt/tmpfs /mnt/ram /boot/efi"
reply=$(VM_AGENT_TIMEOUT=120 vm_agent '{"execute":"guest-snapshot-prepare"}') || vm_fail "prepare of the probe session: $reply"
probe_session=$(jq -r .session <<<"$reply")
probe_frozen=$(jq -r '.frozen | join(" ")' <<<"$reply")
[ "$probe_session" != null ] || vm_fail "the probe session did not freeze: $reply"
probe_out=$(sd_sh "rm -rf /run/probes; mkdir /run/probes
  for d in $probe_dirs; do
    t=\$(echo \"\$d\" | tr / _)
    setsid bash -c 'echo probe >>\"\$1/.probe\" && sync -f \"\$1/.probe\" 2>/dev/null; date +%s%N >/run/probes/\$2' _ \"\$d\" \"\$t\" </dev/null >/dev/null 2>&1 &
  done
  sleep 3
  for d in $probe_dirs; do t=\$(echo \"\$d\" | tr / _); [ -e /run/probes/\$t ] && echo \"written \$d\" || echo \"held \$d\"; done" 120) ||
  vm_fail "the probes failed: $probe_out"
post=$(VM_AGENT_TIMEOUT=120 vm_agent "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"$probe_session\"}}") ||
  vm_fail "post of the probe session failed, so the probes may have been read after a thaw: $post"
for d in $held_expected; do
  grep -qx "held $d" <<<"$probe_out" || vm_fail "a write to $d was not held while the guest was frozen: $(echo $probe_out)"
done
for d in $free_expected; do
  grep -qx "written $d" <<<"$probe_out" || vm_fail "a write to $d was held, but nothing should freeze it: $(echo $probe_out)"
done
vm_log "ok: while frozen (session $probe_session, post $(jq -c . <<<"$post")), writes held on [$held_expected]," \
       "not on [$free_expected]; through the overlay: $(grep -o '^[a-z]* /mnt/xfs/overlay/merged' <<<"$probe_out" | cut -d' ' -f1)," \
       "NFS: $(grep -o '^[a-z]* /mnt/nfs' <<<"$probe_out" | cut -d' ' -f1)"
sd_expect "the held probe writes finish after the thaw" '
  end=$((SECONDS + 60)); while [ $SECONDS -lt $end ] && [ $(ls /run/probes | wc -l) -lt 15 ]; do sleep 0.2; done
  [ $(ls /run/probes | wc -l) = 15 ] || { echo "written after the thaw: $(ls /run/probes)"; exit 1; }'

declare -A before
for w in $writers; do before[$w]=$(vm_committed "$w"); done
vm_backup --hold-frozen 1 >"$WORK/backup.out" 2>&1 || { cat "$WORK/backup.out"; vm_fail "the backup failed"; }
sed 's/^/    /' "$WORK/backup.out" | grep -E 'prepare|snapshot:|post' || true
[ "$(vm_report method)" = child-snapshot ] && [ "$(vm_report result)" = consistent ] ||
  vm_fail "method $(vm_report method), result $(vm_report result)"
[ "$(vm_report frozen)" = "$probe_frozen" ] ||
  vm_fail "the backup froze [$(vm_report frozen)], the probe session [$probe_frozen]"

# Exactly these superblocks, each once (an alias is no second entry), the
# inner loop image before the outer one before /.
frozen=$(vm_report frozen)
expected="/ /mnt/ext4 /mnt/xfs /mnt/thin /mnt/btrfs /mnt/loop-a /mnt/loop-b"
[ "$(tr ' ' '\n' <<<"$frozen" | sort | tr '\n' ' ')" = "$(tr ' ' '\n' <<<"$expected" | sort | tr '\n' ' ')" ] ||
  vm_fail "frozen [$frozen], expected exactly [$expected] (each once)"
pos() { tr ' ' '\n' <<<"$frozen" | grep -nx -- "$1" | cut -d: -f1; }
[ "$(pos /mnt/loop-b)" -lt "$(pos /mnt/loop-a)" ] && [ "$(pos /mnt/loop-a)" -lt "$(pos /)" ] ||
  vm_fail "freeze order [$frozen]: the inner loop image must come before the outer, before /"
excluded=$(vm_report excluded)
for m in /mnt/ram /mnt/nfs /mnt/fuse; do
  case " $excluded " in *" $m "*) ;; *) vm_fail "$m is not reported as excluded: [$excluded]" ;; esac
done
session=$(vm_report session)
timing=$(sd_sh "journalctl -b -u quiesced.service -o cat --no-pager | grep -m1 'session $session: froze [0-9]* filesystem'") ||
  vm_fail "no freeze timing line in the journal for session $session"
case $timing in *"in 3 levels"*) ;; *) vm_fail "the freeze was not in 3 levels (loop-b, loop-a, the rest): $timing" ;; esac
vm_log "ok: frozen [$frozen] (each once, 3 levels), excluded [$excluded]"
vm_log "    agent: $timing"
for w in $writers; do
  vm_wait_progress "$w" "$(vm_committed "$w")" 30 || vm_fail "the workload $w did not resume after post"
done

# --- 4. the snapshot ----------------------------------------------------------------
# check_ext4 IMG WHAT: raw journal clean, e2fsck -fn.
check_ext4() {
  local q
  q=$(vm_fs_quiesced "$1" ext4) || vm_fail "$2: $q"
  vm_fsck "$1" ext4 || vm_fail "$2: e2fsck -fn"
  vm_log "    $2: $q; e2fsck -fn passes"
}
b=$WORK/backup
check_ext4 "$b/data-ext4.img" "ext4 disk"
q=$(vm_fs_quiesced "$b/data-xfs.img" xfs) || vm_fail "xfs disk: $q"
vm_fsck "$b/data-xfs.img" xfs || vm_fail "xfs disk: xfs_repair -n"
vm_log "    xfs disk: $q; xfs_repair -n passes"
qemu-img convert -O raw "$b/root.img" "$WORK/root.raw" || vm_fail "converting the root snapshot"
check_ext4 "$WORK/root.raw" "/"
debugfs -R "dump /srv/images/a.img $WORK/a.img" "$WORK/root.raw" >/dev/null 2>&1 || vm_fail "a.img not in the root snapshot"
check_ext4 "$WORK/a.img" "loop image a.img (in the snapshot of /)"
debugfs -R "dump /b.img $WORK/b.img" "$WORK/a.img" >/dev/null 2>&1 || vm_fail "b.img not in a.img"
check_ext4 "$WORK/b.img" "loop image b.img (in a.img)"
# btrfs: the freeze commits a transaction, which leaves no log tree; fsyncs
# since the last commit leave one (log_root != 0).
btrfs_log_root() { btrfs inspect-internal dump-super "$1" | awk '$1 == "log_root" {print $2}'; }
[ "$(btrfs_log_root "$b/data-btrfs.img")" = 0 ] || vm_fail "btrfs: log_root $(btrfs_log_root "$b/data-btrfs.img") in the snapshot"
btrfs check --readonly "$b/data-btrfs.img" >"$WORK/btrfs-check.log" 2>&1 || { cat "$WORK/btrfs-check.log"; vm_fail "btrfs check"; }
vm_log "    btrfs: log_root 0 (committed by the freeze); btrfs check --readonly passes"
fsck.vfat -n "$b/efi.img" >/dev/null 2>&1 || vm_log "    vfat (excluded, crash-consistent only): fsck.vfat -n reports problems"

# The thin volume: its pool's metadata and data areas, cut out of the
# snapshot of the PV, rebuilt into the volume's image with thin_dump's map.
thin_image() { # PV_IMAGE OUT
  local meta_pe meta_n data_pe data_n pe_start pe_size id
  read -r pe_start pe_size meta_pe meta_n data_pe data_n id <"$WORK/thin-layout"
  dd if="$1" of="$WORK/tmeta" bs=512 skip=$(( pe_start + meta_pe * pe_size )) count=$(( meta_n * pe_size )) status=none
  thin_dump "$WORK/tmeta" >"$WORK/thin.xml" 2>"$WORK/thin_dump.err" || { cat "$WORK/thin_dump.err"; return 1; }
  python3 - "$1" "$2" "$WORK/thin.xml" "$id" $(( (pe_start + data_pe * pe_size) * 512 )) <<'PY'
import sys, xml.etree.ElementTree as ET
pv, out, xml, dev_id, data_off = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
root = ET.parse(xml).getroot()
bs = int(root.get("data_block_size")) * 512
dev = [d for d in root.iter("device") if d.get("dev_id") == dev_id][0]
size = int(dev.get("mapped_blocks"))
with open(pv, "rb") as src, open(out, "wb") as dst:
    dst.truncate(128 << 20)
    for m in dev:
        if m.tag == "single_mapping":
            o, d, n = int(m.get("origin_block")), int(m.get("data_block")), 1
        else:
            o, d, n = int(m.get("origin_begin")), int(m.get("data_begin")), int(m.get("length"))
        src.seek(data_off + d * bs); dst.seek(o * bs); dst.write(src.read(n * bs))
PY
}
sd_sh 'set -e; export LVM_SUPPRESS_FD_WARNINGS=1
  pvs --noheadings --units s --nosuffix -o pe_start,vg_extent_size /dev/disk/by-id/virtio-data-lvm | tr -s " " | sed "s/^ //" | tr "\n" " "
  for lv in pool_tmeta pool_tdata; do lvs -a --noheadings -o seg_pe_ranges vgq/$lv | sed "s/.*:\([0-9]*\)-\([0-9]*\).*/\1 \2/" |
    awk "{printf \"%d %d \", \$1, \$2 - \$1 + 1}"; done
  lvs --noheadings -o thin_id vgq/thin | tr -d " "' >"$WORK/thin-layout.raw" || vm_fail "reading the LVM layout: $(cat "$WORK/thin-layout.raw")"
# vg_extent_size is in sectors; pe_start in sectors.
tr -s ' \n' ' ' <"$WORK/thin-layout.raw" >"$WORK/thin-layout"; echo >>"$WORK/thin-layout"
thin_image "$b/data-lvm.img" "$WORK/thin.img" || vm_fail "rebuilding the thin volume from the snapshot (layout $(cat "$WORK/thin-layout"))"
check_ext4 "$WORK/thin.img" "thin volume (rebuilt from the pool in the snapshot)"
declare -A have gap
vm_extract "$b/data-ext4.img" ext4 "$WORK/snap-ext4" || vm_fail "reading the ext4 snapshot"
vm_extract "$b/data-xfs.img" xfs "$WORK/snap-xfs" || vm_fail "reading the xfs snapshot"
vm_extract "$WORK/thin.img" ext4 "$WORK/snap-thin" || vm_fail "reading the thin snapshot"
vm_extract "$WORK/b.img" ext4 "$WORK/snap-loopb" || vm_fail "reading b.img"
vm_extract "$WORK/a.img" ext4 "$WORK/snap-loopa" || vm_fail "reading a.img"
mkdir -p "$WORK/snap-btrfs"; btrfs restore -s "$b/data-btrfs.img" "$WORK/snap-btrfs" >/dev/null 2>&1 || vm_fail "btrfs restore of the snapshot"
declare -A file=([ext4]=snap-ext4/home/u007/workload.log [ext4-buf]=snap-ext4/buffered.log
                 [ovl]=snap-xfs/overlay/upper/workload.log [thin]=snap-thin/workload.log
                 [btrfs]=snap-btrfs/@data/workload.log [loopb]=snap-loopb/workload.log
                 [loopa-buf]=snap-loopa/buffered.log)
inner=$(vm_report window-inner-ms)
for w in $writers; do
  have[$w]=$(vm_check_workload "$WORK/${file[$w]}" "$w" "${before[$w]}" whole) || vm_fail "$w: ${have[$w]}"
  gap[$w]=$(vm_check_stall "$w" "${have[$w]}" "$inner") || vm_fail "stall: ${gap[$w]}"
done
vm_log "ok: 4. snapshot checks pass; records in the snapshot (>= before prepare) and the writer's stall at the snapshot (>= $inner ms):"
vm_log "    $(for w in $writers; do printf '%s 1..%s>=%s %s ms; ' "$w" "${have[$w]}" "${before[$w]}" "${gap[$w]}"; done)"

# --- 5. negative control: no freeze --------------------------------------------------
VM_BACKUP_DIR=$WORK/backup-nq vm_backup --no-quiesce >"$WORK/backup-nq.out" 2>&1 ||
  { cat "$WORK/backup-nq.out"; vm_fail "the --no-quiesce snapshot failed"; }
nq=$WORK/backup-nq
# control_unfrozen IMG WHAT: the freeze check must fail on IMG, and for the
# reason it exists (needs_recovery), not because the image is unreadable.
control_unfrozen() {
  local q
  q=$(vm_fs_quiesced "$1" ext4) && vm_fail "control: the unfrozen $2 passes the freeze check: $q"
  case $q in *"needs recovery"*) ;; *) vm_fail "control: $2: $q" ;; esac
  vm_log "    control $2: $q"
}
control_unfrozen "$nq/data-ext4.img" "ext4 disk"
lr=$(btrfs_log_root "$nq/data-btrfs.img")
[ -n "$lr" ] && [ "$lr" != 0 ] || vm_fail "control: the unfrozen btrfs has no log tree either ($lr); the btrfs check proves nothing"
vm_log "    control btrfs: log_root $lr"
thin_image "$nq/data-lvm.img" "$WORK/thin-nq.img" || vm_fail "control: rebuilding the thin volume"
control_unfrozen "$WORK/thin-nq.img" "thin volume"
# The unfrozen / needs its journal replayed (on the copy) before a.img can be
# read out of it; a.img itself is checked raw.
qemu-img convert -O raw "$nq/root.img" "$WORK/root-nq.raw" || vm_fail "control: converting the root snapshot"
control_unfrozen "$WORK/root-nq.raw" "/"
e2fsck -fy "$WORK/root-nq.raw" >/dev/null 2>&1 || [ $? -le 1 ] || vm_fail "control: e2fsck -fy of the unfrozen /"
debugfs -R "dump /srv/images/a.img $WORK/a-nq.img" "$WORK/root-nq.raw" >/dev/null 2>&1 || vm_fail "control: a.img not in /"
control_unfrozen "$WORK/a-nq.img" "loop image a.img"
rm -rf "$nq" "$WORK/root-nq.raw" "$WORK/root.raw"
vm_log "ok: 5. the snapshot without a freeze fails the on-disk checks"

# --- 6. prepare time with and without the 200 bind mounts -----------------------------
sd_sh 'systemctl stop "wl-*"' >/dev/null || true
# time_prepares LABEL: three prepare+post pairs timed on the host (the first
# probes the inventory, the next reuse it), and quiesced --check in the guest.
time_prepares() {
  local i t0 t1 reply id ms=() check
  for i in 1 2 3; do
    t0=$(vm_now_ms)
    reply=$(vm_agent '{"execute":"guest-snapshot-prepare"}') || vm_fail "prepare ($1): $reply"
    t1=$(vm_now_ms)
    id=$(jq -r .session <<<"$reply")
    [ "$id" != null ] || vm_fail "prepare ($1) did not freeze: $reply"
    vm_agent "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"$id\"}}" >/dev/null || vm_fail "post ($1)"
    ms+=($(( t1 - t0 )))
  done
  check=$(sd_sh 'for i in 1 2 3; do s=$(date +%s%N); quiesced --check --json >/dev/null; echo $(( ($(date +%s%N) - s) / 1000000 )); done' | tr '\n' ' ')
  probe=$(sd_sh "journalctl -b -u quiesced.service -o cat --no-pager | grep 'froze [0-9]* filesystem' | tail -n 3 | sed 's/.*: probe \([0-9.]* ms ([a-z ]*)\).*/\1/'" | tr '\n' ';')
  vm_log "    $1: $(( $(wc -l <<<"$(sd_sh 'cat /proc/self/mountinfo')") )) mounts; prepare (host) ${ms[*]} ms; agent probe: $probe quiesced --check: $check ms"
  echo "$1 ${ms[*]}" >>"$WORK/timings"
}
sd_sh 'systemctl restart quiesced.service && sleep 1' >/dev/null
time_prepares "with the 200 bind mounts"
sd_sh 'umount -R /srv/cage' >/dev/null || vm_fail "umount -R /srv/cage (the bind mounts)"
sd_sh 'systemctl restart quiesced.service && sleep 1' >/dev/null
time_prepares "without them"
vm_log "ok: 6. prepare timed"

sd_sh 'umount /mnt/nfs; umount /mnt/fuse' >/dev/null || true
sd_shutdown
vm_log "PASS ($VM_ACCEL)"
