#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario (c): no agent runs in the guest. The driver's syncs go unanswered;
# after --agent-timeout it falls back to a Saved State backup (stop,
# snapshot, cont), which still holds everything the workload committed.
. "$(dirname "$0")/lib.sh"

agent_timeout=3
vm_setup
vm_disk data-ext4 ext4 128
vm_scenario <<'EOF'
vm_mount data-ext4 ext4 /data/ext4
vm_workload ext4 /data/ext4/workload.log 20
vm_ready
EOF
vm_boot
vm_wait_progress ext4 5 30 || vm_fail "the workload does not write"
committed=$(vm_committed ext4)

start=$(vm_now_ms)
vm_backup_saved_state --agent-timeout $agent_timeout
took=$(( $(vm_now_ms) - start ))
[ "$(vm_report method)" = saved-state ] || vm_fail "method $(vm_report method), expected saved-state"
case $(vm_report fallback-reason) in
  agent-unavailable*) ;;
  *) vm_fail "fallback reason: $(vm_report fallback-reason)" ;;
esac
[ "$(vm_report result)" = crash-consistent ] || vm_fail "result $(vm_report result)"
[ $took -lt $(( agent_timeout * 1000 + 5000 )) ] || vm_fail "the fallback took $took ms"
after=$(vm_committed ext4)
vm_wait_progress ext4 "$after" 15 || vm_fail "the workload did not resume after cont"

vm_extract "$WORK/backup/data-ext4.img" ext4 "$WORK/snap" || vm_fail "reading the snapshot"
have=$(vm_check_workload "$WORK/snap/workload.log" ext4 "$committed") || vm_fail "workload: $have"
vm_stop
cat <<EOF
vm[$VM_NAME]: PASS no agent -> saved state ($VM_ACCEL)
  agent timeout        ${agent_timeout} s; the whole backup took $took ms
  VM paused            $(vm_report pause-ms) ms (stop, snapshot $(vm_report snapshot-ms) ms, cont)
  snapshot             records 1..$have after journal replay (>= $committed committed)
EOF
