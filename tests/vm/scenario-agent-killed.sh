#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
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
# agent_pid: the one running quiesced's pid in the guest, from the control
# port's "ok agent-pid PID..." (pidof). With no agent the reply has no pid at
# all, so the last word would be "agent-pid": accept a lone number only.
agent_pid() {
  local pid
  vm_control agent-pid || return 1
  pid=${VM_CTL_REPLY#ok agent-pid}
  pid=${pid# }
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  echo "$pid" >"$WORK/agent.pid"
}
agent_pid || vm_fail "no single running agent before the kill: '$VM_CTL_REPLY'"
old_pid=$(cat "$WORK/agent.pid")

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
agent_pid || vm_fail "the agent was not respawned: no single running agent ('$VM_CTL_REPLY', killed $old_pid)"
new_pid=$(cat "$WORK/agent.pid")
[ "$new_pid" != "$old_pid" ] || vm_fail "the agent was not respawned: pid $old_pid still runs"
vm_guest_sh "[ \"\$(cat /proc/$new_pid/comm)\" = quiesced ]" ||
  vm_fail "the respawned agent's pid $new_pid is not a running quiesced in the guest"
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
