#!/usr/bin/env bash
# Scenario (e): the agent is SIGKILLed while the guest is frozen (window 30 s,
# the host connected but silent). The guest init respawns it, like systemd's
# Restart=always; the new agent finds the frozen state under /run/quiesce and
# thaws at once — long before the window would have.
. "$(dirname "$0")/lib.sh"

window=30
vm_setup
vm_disk data-ext4 ext4 128
vm_config <<EOF
[freeze]
window=$window
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
vm_control agent-pid || vm_fail "the control port does not answer"
old_pid=${VM_CTL_REPLY##* }

vm_backup --vanish-after-prepare --linger 6 >"$WORK/driver.out" 2>&1 &
driver=$!
vm_wait_file 'prepare: child-snapshot' "$WORK/driver.out" 60 || { cat "$WORK/driver.out"; vm_fail "prepare did not freeze"; }
sleep 1
held=$(vm_committed ext4)
sleep 1
[ "$(vm_committed ext4)" -le $((held + 1)) ] || vm_fail "the workload still writes: nothing is frozen"

killed_at=$(vm_now_ms)
vm_control kill-agent || vm_fail "could not kill the agent"
vm_wait_progress ext4 "$((held + 1))" 20 || vm_fail "the guest stayed frozen after the agent was killed"
thawed_after=$(( $(vm_now_ms) - killed_at ))
[ $thawed_after -lt 10000 ] || vm_fail "the thaw took $thawed_after ms after the kill"
vm_control agent-pid || true
new_pid=${VM_CTL_REPLY##* }
[ -n "$new_pid" ] && [ "$new_pid" != "$old_pid" ] || vm_fail "the agent was not respawned ($old_pid -> $new_pid)"
wait $driver || true
status=$(vm_agent '{"execute":"guest-fsfreeze-status"}') || vm_fail "status: $status"
[ "$status" = '"thawed"' ] || vm_fail "guest-fsfreeze-status after the restart: $status"
vm_stop
cat <<EOF
vm[$VM_NAME]: PASS agent SIGKILLed while frozen ($VM_ACCEL)
  agent pid $old_pid killed with SIGKILL; respawned as $new_pid
  workload writing again $thawed_after ms after the kill (window was $window s)
$(grep -E '^quiesced' "$WORK/console.log" | grep -iE 'thaw|frozen|state' | sed 's/^/  guest: /' | tail -5)
EOF
