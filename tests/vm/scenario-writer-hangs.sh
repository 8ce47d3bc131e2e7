#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario (f): a writer hangs in its freeze phase. The agent kills it at its
# timeout (3 s here), prepare answers saved-state naming the writer, nothing
# is frozen (the agent says thawed, the workload never stalls like a freeze
# would, no writer process is left), and the driver's fallback completes.
# Then (2) the host's prepare timeout (1 s) is shorter than the writer's: the
# driver falls back on its own, sends guest-snapshot-abort, and still nothing
# stays frozen.
. "$(dirname "$0")/lib.sh"

writer_timeout=3
vm_setup
vm_disk data-ext4 ext4 128
vm_config <<EOF
[freeze]
window=30

[writers]
timeout=$writer_timeout
EOF
vm_guest_file /etc/quiesce/writers.d/50-hang 0755 <<'EOF'
#!/bin/sh
# A writer that never finishes its freeze phase.
case "$1" in
  freeze) echo "50-hang: hanging in freeze"; exec sleep 1000 ;;
  *) exit 0 ;;
esac
EOF
vm_scenario <<'EOF'
vm_mount data-ext4 ext4 /data/ext4
vm_workload ext4 /data/ext4/workload.log 20
vm_agent
vm_control
vm_ready
EOF
vm_boot
vm_wait_progress ext4 5 30 || vm_fail "the workload does not write"
offset=$(vm_console_size)

vm_backup_saved_state --prepare-timeout 30
[ "$(vm_report prepare-method)" = saved-state ] ||
  vm_fail "prepare answered '$(vm_report prepare-method)', expected saved-state (fallback: $(vm_report fallback-reason))"
reasons=$(vm_report reasons)
case $reasons in *50-hang*) ;; *) vm_fail "the reasons do not name the writer: $reasons" ;; esac
prepare_ms=$(vm_report prepare-ms)
[ "$prepare_ms" -ge $((writer_timeout * 1000 - 500)) ] && [ "$prepare_ms" -le $((writer_timeout * 1000 + 10000)) ] ||
  vm_fail "prepare took $prepare_ms ms with a $writer_timeout s writer timeout"
[ "$(vm_report method)" = saved-state ] && [ "$(vm_report result)" = crash-consistent ] ||
  vm_fail "the fallback did not complete: $(vm_report method) $(vm_report result)"
pause1=$(vm_report pause-ms)

status=$(vm_agent '{"execute":"guest-fsfreeze-status"}') || vm_fail "status: $status"
[ "$status" = '"thawed"' ] || vm_fail "guest-fsfreeze-status: $status"
vm_guest_sh '! pidof sleep' || vm_fail "the hung writer is still running"
stall=$(vm_max_latency_ms ext4 "$offset")
[ "$stall" -lt 2000 ] || vm_fail "the workload stalled $stall ms: something was frozen"

# (2) the host gives up on prepare first.
vm_backup_saved_state --prepare-timeout 1
case $(vm_report fallback-reason) in
  *"timed out"*) ;;
  *) vm_fail "expected a prepare timeout, got: $(vm_report fallback-reason)" ;;
esac
[ "$(vm_report result)" = crash-consistent ] || vm_fail "result $(vm_report result)"
sleep $((writer_timeout + 1))
vm_wait_progress ext4 "$(vm_committed ext4)" 10 || vm_fail "the workload stopped"
status=$(vm_agent '{"execute":"guest-fsfreeze-status"}') || vm_fail "status: $status"
[ "$status" = '"thawed"' ] || vm_fail "guest-fsfreeze-status after the abandoned prepare: $status"
vm_guest_sh '! pidof sleep' || vm_fail "the hung writer is still running"
vm_stop
cat <<EOF
vm[$VM_NAME]: PASS a writer hangs ($VM_ACCEL)
  prepare            $prepare_ms ms (writer timeout $writer_timeout s), answered saved-state: $reasons
  nothing frozen     workload's longest write+fsync $stall ms; the hung writer was killed
  host timeout 1 s   fell back after $(vm_report prepare-ms) ms, VM paused $(vm_report pause-ms) ms; thawed afterwards
EOF
