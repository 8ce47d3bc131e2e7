#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario (b): an ineligible guest — a vfat data disk (no freeze support)
# mounted read-write and being written, beside an ext4 one. prepare must
# answer saved-state naming /data/vfat, leave nothing frozen (the agent says
# thawed and the ext4 workload never stops), and the driver falls back to a
# Saved State backup that still completes.
. "$(dirname "$0")/lib.sh"

vm_setup
vm_disk data-ext4 ext4 128
vm_disk data-vfat vfat 64
vm_scenario <<'EOF'
vm_mount data-ext4 ext4 /data/ext4
vm_mount data-vfat vfat /data/vfat
vm_workload ext4 /data/ext4/workload.log 20
vm_workload vfat /data/vfat/workload.log 50
vm_agent
vm_ready
EOF
vm_boot
vm_wait_progress ext4 5 30 && vm_wait_progress vfat 3 30 || vm_fail "the workload does not write"
committed=$(vm_committed ext4)
offset=$(vm_console_size)

vm_backup_saved_state
[ "$(vm_report prepare-method)" = saved-state ] ||
  vm_fail "prepare answered $(vm_report prepare-method), expected saved-state"
reasons=$(vm_report reasons)
case $reasons in *"/data/vfat"*) ;; *) vm_fail "the reasons do not name /data/vfat: $reasons" ;; esac
[ "$(vm_report method)" = saved-state ] || vm_fail "method $(vm_report method)"
[ "$(vm_report result)" = crash-consistent ] || vm_fail "result $(vm_report result)"
[ -f "$WORK/backup/data-ext4.img" ] && [ -f "$WORK/backup/data-vfat.img" ] ||
  vm_fail "the backup set is incomplete"

status=$(vm_agent '{"execute":"guest-fsfreeze-status"}') || vm_fail "guest-fsfreeze-status: $status"
[ "$status" = '"thawed"' ] || vm_fail "guest-fsfreeze-status after a saved-state prepare: $status"
# Only the VM pause may stall the workload, not a freeze. The ext4 writer
# completes a record every 20 ms (its interval) plus its write+fsync latency,
# so, from before prepare until after the backup, no two consecutive records
# may finish further apart than the pause plus 1 s: 50 intervals, room for
# TCG's fsync latency on a shared host (tens of ms, a few hundred at worst),
# and well below any freeze the agent could hold: one left frozen after a
# saved-state answer lasts until its watchdog window (60 s by default).
vm_wait_progress ext4 "$(vm_committed ext4)" 15 || vm_fail "the ext4 workload stopped"
stall=$(vm_max_latency_ms ext4 "$offset")
read -r gap gap_seq < <(vm_max_gap_ms ext4 "$offset")
bound=$(( $(vm_report pause-ms) + 1000 ))
[ "$gap_seq" -gt 0 ] || vm_fail "no consecutive ext4 records during the backup"
[ "$gap" -le "$bound" ] ||
  vm_fail "the ext4 workload stalled $gap ms before record $gap_seq (bound $bound ms: pause $(vm_report pause-ms) ms + 1 s): something froze it"

vm_extract "$WORK/backup/data-ext4.img" ext4 "$WORK/snap" || vm_fail "reading the snapshot"
have=$(vm_check_workload "$WORK/snap/workload.log" ext4 "$committed") || vm_fail "workload: $have"
vm_stop
cat <<EOF
vm[$VM_NAME]: PASS ineligible guest (vfat) -> saved state ($VM_ACCEL)
  prepare            $(vm_report prepare-ms) ms, answered saved-state: $reasons
  VM paused          $(vm_report pause-ms) ms (stop, snapshot $(vm_report snapshot-ms) ms, cont)
  workload stall     $stall ms (longest write+fsync during the backup; nothing was frozen)
  longest gap        $gap ms between ext4 records (bound $bound ms)
  snapshot           records 1..$have after journal replay (>= $committed committed)
EOF
