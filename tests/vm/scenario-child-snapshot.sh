#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Scenario (a): a child-VM snapshot of a guest with an ext4 and an xfs data
# disk while the workload (fsynced records), a buffered writer on each disk
# (records never fsynced, periodic writeback off) and the example SQLite
# writer (when built) write. Afterwards the snapshot must be one only a
# freeze makes: the raw ext4 has no needs_recovery and the raw xfs log holds
# nothing but the freeze's log cover (vm_fs_quiesced), every buffered record
# written before prepare is there (the freeze's sync), and each writer's
# stall at the snapshot covers the host's frozen window (vm_check_stall). It
# also passes the crash-consistency checks (e2fsck -fn, xfs_repair -n after
# log replay, whole records, everything committed before prepare, SQLite's
# integrity check).
#
# Then, in the same guest, the negative control: the same snapshot taken
# with `quiesce-backup --no-quiesce` (no prepare, no post), handed to
# VM_CONTROL_DIR when set; ctest's vm/no-quiesce-control checks it and
# passes only if the checks above catch the missing freeze.
# Prints the times (scripts/vm/demo-backup.sh shows them).
. "$(dirname "$0")/lib.sh"

[ -z "${VM_CONTROL_DIR:-}" ] || rm -rf "$VM_CONTROL_DIR"
vm_setup
vm_disk data-ext4 ext4 128
vm_disk data-xfs xfs 320
vm_config <<'EOF'
[freeze]
window=30
EOF
vm_scenario <<'EOF'
vm_no_writeback
vm_mount data-ext4 ext4 /data/ext4
vm_mount data-xfs xfs /data/xfs
vm_workload ext4 /data/ext4/workload.log 20
vm_workload xfs /data/xfs/workload.log 20
vm_buffered ext4-buf /data/ext4/buffered.log 10
vm_buffered xfs-buf /data/xfs/buffered.log 10
vm_example_writer /data/xfs/example.db
vm_agent
vm_ready
EOF
vm_boot

writers="ext4 xfs ext4-buf xfs-buf"
for w in $writers; do vm_wait_progress "$w" 10 30 || vm_fail "the workload $w does not write"; done
if [ -n "$VM_EXAMPLE" ]; then
  vm_wait_progress db 5 30 || vm_fail "the example SQLite workload does not write"
  # The writer retries its connection every second until the agent is up;
  # the backup must not start before it takes part.
  vm_wait_console 'quiesce-sqlite-writer sqlite: registered' 15 ||
    vm_fail "the example socket writer never registered with the agent"
fi
declare -A before
for w in $writers db; do before[$w]=$(vm_committed "$w"); done
offset=$(vm_console_size)
vm_log "before prepare: committed ext4 ${before[ext4]}, xfs ${before[xfs]}${VM_EXAMPLE:+, example.db ${before[db]}};" \
       "written (buffered) ext4-buf ${before[ext4-buf]}, xfs-buf ${before[xfs-buf]}"

# --hold-frozen: the guest stays frozen 1 s after the snapshot, so the stall
# the writers must show at the snapshot is one no unfrozen guest has.
vm_backup --hold-frozen 1 || vm_fail "the backup failed"
cp "$WORK/report" "$WORK/report.frozen"
[ "$(vm_report method)" = child-snapshot ] || vm_fail "method $(vm_report method), expected child-snapshot"
[ "$(vm_report result)" = consistent ] || vm_fail "result $(vm_report result)"
frozen=$(vm_report frozen)
case " $frozen " in *" /data/ext4 "*) ;; *) vm_fail "/data/ext4 not frozen: [$frozen]" ;; esac
case " $frozen " in *" /data/xfs "*) ;; *) vm_fail "/data/xfs not frozen: [$frozen]" ;; esac
inner=$(vm_report window-inner-ms)

# The guest goes on writing after post (and every writer's record after the
# snapshot's last one is on the console for vm_check_stall).
for w in $writers; do
  vm_wait_progress "$w" "$(vm_committed "$w")" 15 || vm_fail "the workload $w did not resume after post"
done
latency_ext4=$(vm_max_latency_ms ext4 "$offset")
latency_xfs=$(vm_max_latency_ms xfs "$offset")

# The negative control: the same snapshot with no freeze, now, in this guest.
if [ -n "${VM_CONTROL_DIR:-}" ]; then
  for w in $writers db; do
    [ "$w" = db ] && [ -z "$VM_EXAMPLE" ] && continue
    vm_wait_progress "$w" "$(vm_committed "$w")" 15 || vm_fail "the workload $w stopped"
  done
  mkdir -p "$VM_CONTROL_DIR"
  for w in $writers db; do echo "$w $(vm_committed "$w")"; done >"$VM_CONTROL_DIR/before"
  echo "$inner" >"$VM_CONTROL_DIR/frozen-window-ms"
  VM_BACKUP_DIR=$WORK/control vm_backup --no-quiesce >"$VM_CONTROL_DIR/driver.out" 2>&1 ||
    { cat "$VM_CONTROL_DIR/driver.out"; vm_fail "the --no-quiesce backup failed"; }
  [ "$(vm_report result)" = crash-consistent ] || vm_fail "--no-quiesce: result $(vm_report result)"
  cp "$WORK/report" "$VM_CONTROL_DIR/report"
  echo "${VM_EXAMPLE:-}" >"$VM_CONTROL_DIR/example"
fi
cp "$WORK/report.frozen" "$WORK/report"
vm_stop
if [ -n "${VM_CONTROL_DIR:-}" ]; then
  mv "$WORK/control/data-ext4.img" "$WORK/control/data-xfs.img" "$VM_CONTROL_DIR/"
  cp "$WORK/console.log" "$VM_CONTROL_DIR/console.log"
  vm_log "control snapshot (no freeze) handed to vm/no-quiesce-control in $VM_CONTROL_DIR"
fi

# What only a frozen snapshot passes.
vm_check_snapshot "$WORK/backup/data-ext4.img" "$WORK/backup/data-xfs.img" "$inner" "the snapshot"
vm_log "raw snapshot: $q_ext4; $q_xfs"
vm_log "snapshot images pass e2fsck -fn and xfs_repair -n"
vm_log "snapshot holds ext4 records 1..${have[ext4]} (>= ${before[ext4]} committed), xfs 1..${have[xfs]} (>= ${before[xfs]})"
vm_log "snapshot holds buffered ext4-buf 1..${have[ext4-buf]} (>= ${before[ext4-buf]} written), xfs-buf 1..${have[xfs-buf]} (>= ${before[xfs-buf]})"
vm_log "stall at the snapshot (last record in it -> next): ext4 ${gap[ext4]}, xfs ${gap[xfs]}," \
       "ext4-buf ${gap[ext4-buf]}, xfs-buf ${gap[xfs-buf]} ms >= $inner ms frozen for sure (host)"

db_line="example SQLite writer: not built (libsqlite3-dev missing), skipped"
if [ -n "$VM_EXAMPLE" ]; then
  have_db=$(vm_check_sqlite "$WORK/snap-xfs/example.db" "${before[db]}") || vm_fail "example.db: $have_db"
  db_line="example.db in the snapshot: integrity_check ok, rows 1..$have_db (>= ${before[db]} committed)"
  grep -q 'quiesce-sqlite-writer sqlite: registered' "$WORK/console.log" ||
    vm_fail "the example socket writer never registered with the agent"
  db_line="$db_line; the socket writer took part"
fi
vm_log "$db_line"

cat <<EOF
vm[$VM_NAME]: PASS child-snapshot ($VM_ACCEL)
  boot to agent            $VM_BOOT_MS ms
  agent sync               $(vm_report sync-ms) ms
  check                    $(vm_report check-ms) ms
  prepare (writers+freeze) $(vm_report prepare-ms) ms
  snapshot (1 transaction) $(vm_report snapshot-ms) ms
  post (thaw)              $(vm_report post-ms) ms
  guest frozen             $(vm_report window-guest-ms) ms by the agent; from the host: >= $inner ms (prepare's answer to post's request, 1 s held), <= $(vm_report window-host-ms) ms
  stall at the snapshot    ext4 ${gap[ext4]}, xfs ${gap[xfs]}, ext4-buf ${gap[ext4-buf]}, xfs-buf ${gap[xfs-buf]} ms (longest write+fsync: ext4 $latency_ext4, xfs $latency_xfs ms)
  raw snapshot             $q_ext4; $q_xfs
  copy / merge back        $(vm_report copy-ms) / $(vm_report merge-ms) ms
  backup total             $(vm_report total-ms) ms
  frozen                   $frozen
  $db_line
EOF
