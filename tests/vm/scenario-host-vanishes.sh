#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario (d): the host vanishes after prepare. The agent's window is 5 s
# and its host-lost grace 1 s (config file). (1) The host stays connected
# but never posts: the guest thaws itself by the deadline, the workload
# resumes, and a late post is an error (the snapshot must be discarded).
# (2) The host's connection drops after prepare (the virtio-serial port's
# host side closes): the guest thaws after the grace, well before the
# deadline, and a late post says why.
. "$(dirname "$0")/lib.sh"

window=5
grace=1
vm_setup
vm_disk data-ext4 ext4 128
vm_config <<EOF
[freeze]
window=$window
host-lost-grace=$grace
EOF
vm_scenario <<'EOF'
vm_mount data-ext4 ext4 /data/ext4
vm_workload ext4 /data/ext4/workload.log 20
vm_agent
vm_ready
EOF
vm_boot
vm_wait_progress ext4 5 30 || vm_fail "the workload does not write"

# (1) silent host: connected, no post.
offset=$(vm_console_size)
vm_backup --vanish-after-prepare --linger $((window + 2)) >"$WORK/silent.out" 2>&1 &
driver=$!
vm_wait_file 'prepare: child-snapshot' "$WORK/silent.out" 60 || { cat "$WORK/silent.out"; vm_fail "prepare did not freeze"; }
wait $driver || { cat "$WORK/silent.out"; vm_fail "the driver failed"; }
cat "$WORK/silent.out"
[ "$(vm_report method)" = child-snapshot ] || vm_fail "prepare did not freeze: $(vm_report method)"
session=$(vm_report session)
vm_wait_progress ext4 "$(vm_committed ext4)" 10 || vm_fail "the workload did not resume"
stall_silent=$(vm_max_latency_ms ext4 "$offset")
[ "$stall_silent" -ge 2000 ] || vm_fail "the workload stalled only $stall_silent ms: was it frozen?"
[ "$stall_silent" -le $((window * 1000 + 2500)) ] ||
  vm_fail "frozen $stall_silent ms, past the $window s window"
vm_log "silent host: thawed by the guest after $stall_silent ms (window $window s)"

if post=$(vm_agent "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"$session\"}}" 2>&1); then
  vm_fail "a post after the window expired succeeded: $post"
fi
vm_log "late post refused: $post"
status=$(vm_agent '{"execute":"guest-snapshot-status"}') || vm_fail "status: $status"
case $status in *'"fsfreeze": "thawed"'*) ;; *) vm_fail "status after expiry: $status" ;; esac
vm_log "status: $status"

# (2) the host's connection drops right after prepare.
offset=$(vm_console_size)
vm_backup --vanish-after-prepare >"$WORK/vanish.out" 2>&1 || { cat "$WORK/vanish.out"; vm_fail "the driver failed"; }
[ "$(vm_report method)" = child-snapshot ] || vm_fail "prepare did not freeze: $(vm_report method)"
session=$(vm_report session)
vm_wait_progress ext4 "$(vm_committed ext4)" 10 || vm_fail "the workload did not resume"
sleep 0.5
stall_gone=$(vm_max_latency_ms ext4 "$offset")
[ "$stall_gone" -ge $((grace * 1000)) ] || vm_fail "the workload stalled only $stall_gone ms: was it frozen?"
# The grace, not the window: thawed with at least 1.5 s of the window left.
[ "$stall_gone" -le $((window * 1000 - 1500)) ] ||
  vm_fail "frozen $stall_gone ms after the host left: the $grace s host-lost grace did not act"
if post=$(vm_agent "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"$session\"}}" 2>&1); then
  vm_fail "a post after the host left succeeded: $post"
fi
case $post in *"disconnected and did not come back"*) ;; *) vm_fail "late post: $post" ;; esac
status=$(vm_agent '{"execute":"guest-fsfreeze-status"}') || vm_fail "status: $status"
[ "$status" = '"thawed"' ] || vm_fail "guest-fsfreeze-status: $status"
vm_stop
cat <<EOF
vm[$VM_NAME]: PASS host vanishes after prepare ($VM_ACCEL)
  window                     $window s, host-lost grace $grace s (quiesced.conf)
  silent host, no post       workload stalled $stall_silent ms, then the guest thawed itself; a late post is refused
  host connection dropped    workload stalled $stall_gone ms: thawed after the grace; a late post is refused
EOF
