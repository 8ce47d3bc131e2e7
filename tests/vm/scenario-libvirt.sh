#!/usr/bin/env bash
# Scenario (g): the exact agent sequence libvirt sends for `virsh
# snapshot-create --disk-only --quiesce` — guest-sync with a ms-timestamp id,
# guest-fsfreeze-freeze, the QMP transaction, guest-fsfreeze-thaw (sent
# because freeze returned > 0) — with libvirt's line framing for the replies.
# The snapshot must pass e2fsck -fn and the guest must write again after.
. "$(dirname "$0")/lib.sh"

vm_setup
vm_disk data-ext4 ext4 128
vm_scenario <<'EOF'
vm_mount data-ext4 ext4 /data/ext4
vm_workload ext4 /data/ext4/workload.log 20
vm_agent
vm_ready
EOF
vm_boot
vm_wait_progress ext4 5 30 || vm_fail "the workload does not write"
committed=$(vm_committed ext4)
offset=$(vm_console_size)

vm_backup --mode libvirt || vm_fail "the libvirt-style snapshot failed"
[ "$(vm_report result)" = consistent ] || vm_fail "result $(vm_report result)"
frozen=$(vm_report frozen-count)
thawed=$(vm_report thawed-count)
[ "$frozen" -ge 1 ] || vm_fail "guest-fsfreeze-freeze returned $frozen, expected >= 1"
[ "$thawed" = "$frozen" ] || vm_fail "thaw returned $thawed, freeze $frozen"
status=$(vm_agent '{"execute":"guest-fsfreeze-status"}') || vm_fail "guest-fsfreeze-status: $status"
[ "$status" = '"thawed"' ] || vm_fail "guest-fsfreeze-status after thaw: $status"

after=$(vm_committed ext4)
vm_wait_progress ext4 "$after" 15 || vm_fail "the workload did not resume after the thaw"
stall=$(vm_max_latency_ms ext4 "$offset")
vm_fsck_strict "$WORK/backup/data-ext4.img" ext4 || vm_fail "e2fsck -fn on the snapshot"
vm_extract "$WORK/backup/data-ext4.img" ext4 "$WORK/snap" || vm_fail "reading the snapshot"
have=$(vm_check_workload "$WORK/snap/workload.log" ext4 "$committed" whole) || vm_fail "workload: $have"
vm_stop
cat <<EOF
vm[$VM_NAME]: PASS libvirt snapshot-create --quiesce sequence ($VM_ACCEL)
  boot to agent                 $VM_BOOT_MS ms
  guest-sync + freeze           $(vm_report prepare-ms) ms (returned $frozen)
  snapshot (1 transaction)      $(vm_report snapshot-ms) ms
  thaw                          $(vm_report post-ms) ms (returned $thawed)
  freeze to thaw, host view     $(vm_report window-host-ms) ms
  workload stall                $stall ms
  snapshot: e2fsck -fn clean, records 1..$have (>= $committed committed before the freeze)
EOF
