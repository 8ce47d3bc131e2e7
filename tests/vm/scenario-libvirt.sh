#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario (g): the exact agent sequence libvirt sends for `virsh
# snapshot-create --disk-only --quiesce` — guest-sync with a ms-timestamp id,
# guest-fsfreeze-freeze, the QMP transaction, guest-fsfreeze-thaw (sent
# because freeze returned > 0) — with libvirt's line framing for the replies.
# The snapshot must be a frozen one (no needs_recovery in the raw image,
# every buffered record written before the freeze there, the writers stalled
# across the host's frozen window; see lib.sh) and pass e2fsck -fn, and the
# guest must write again after.
. "$(dirname "$0")/lib.sh"

vm_setup
vm_disk data-ext4 ext4 128
vm_scenario <<'EOF'
vm_no_writeback
vm_mount data-ext4 ext4 /data/ext4
vm_workload ext4 /data/ext4/workload.log 20
vm_buffered ext4-buf /data/ext4/buffered.log 10
vm_agent
vm_ready
EOF
vm_boot
vm_wait_progress ext4 5 30 && vm_wait_progress ext4-buf 5 30 || vm_fail "the workload does not write"
committed=$(vm_committed ext4)
written=$(vm_committed ext4-buf)
offset=$(vm_console_size)

# --hold-frozen 1: 1 s between the freeze's answer and the thaw (libvirt
# sends the same bytes, later), so the stall checked below is unmistakable.
vm_backup --mode libvirt --hold-frozen 1 || vm_fail "the libvirt-style snapshot failed"
[ "$(vm_report result)" = consistent ] || vm_fail "result $(vm_report result)"
frozen=$(vm_report frozen-count)
thawed=$(vm_report thawed-count)
inner=$(vm_report window-inner-ms)
[ "$frozen" -ge 1 ] || vm_fail "guest-fsfreeze-freeze returned $frozen, expected >= 1"
[ "$thawed" = "$frozen" ] || vm_fail "thaw returned $thawed, freeze $frozen"
status=$(vm_agent '{"execute":"guest-fsfreeze-status"}') || vm_fail "guest-fsfreeze-status: $status"
[ "$status" = '"thawed"' ] || vm_fail "guest-fsfreeze-status after thaw: $status"

for w in ext4 ext4-buf; do
  vm_wait_progress "$w" "$(vm_committed "$w")" 15 || vm_fail "the workload $w did not resume after the thaw"
done
latency=$(vm_max_latency_ms ext4 "$offset")
vm_stop
quiesced=$(vm_fs_quiesced "$WORK/backup/data-ext4.img" ext4) || vm_fail "the snapshot: $quiesced"
vm_fsck "$WORK/backup/data-ext4.img" ext4 || vm_fail "e2fsck -fn on the snapshot"
vm_extract "$WORK/backup/data-ext4.img" ext4 "$WORK/snap" || vm_fail "reading the snapshot"
have=$(vm_check_workload "$WORK/snap/workload.log" ext4 "$committed" whole) || vm_fail "workload: $have"
have_buf=$(vm_check_workload "$WORK/snap/buffered.log" ext4-buf "$written" whole) || vm_fail "buffered: $have_buf"
gap=$(vm_check_stall ext4 "$have" "$inner") || vm_fail "stall: $gap"
gap_buf=$(vm_check_stall ext4-buf "$have_buf" "$inner") || vm_fail "stall: $gap_buf"
cat <<EOF
vm[$VM_NAME]: PASS libvirt snapshot-create --quiesce sequence ($VM_ACCEL)
  boot to agent                 $VM_BOOT_MS ms
  guest-sync + freeze           $(vm_report prepare-ms) ms (returned $frozen)
  snapshot (1 transaction)      $(vm_report snapshot-ms) ms
  thaw                          $(vm_report post-ms) ms (returned $thawed)
  freeze to thaw, host view     >= $inner ms (freeze's answer to thaw's request, 1 s held), <= $(vm_report window-host-ms) ms
  stall at the snapshot         ext4 $gap ms, ext4-buf $gap_buf ms (longest write+fsync $latency ms)
  snapshot: $quiesced; e2fsck -fn clean; records 1..$have (>= $committed committed before the freeze);
            buffered 1..$have_buf (>= $written written before the freeze)
EOF
