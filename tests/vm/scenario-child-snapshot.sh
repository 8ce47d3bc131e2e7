#!/usr/bin/env bash
# Scenario (a): a child-VM snapshot of a guest with an ext4 and an xfs data
# disk while the workload (and the example SQLite writer, when built) write.
# Afterwards the snapshot images pass e2fsck -fn and xfs_repair -n (after log
# replay on a copy), hold whole records only, hold everything the workload
# reported committed before prepare, and the database passes its integrity
# check. Prints the times (scripts/vm/demo-backup.sh shows them).
. "$(dirname "$0")/lib.sh"

vm_setup
vm_disk data-ext4 ext4 128
vm_disk data-xfs xfs 320
vm_config <<'EOF'
[freeze]
window=30
EOF
vm_scenario <<'EOF'
vm_mount data-ext4 ext4 /data/ext4
vm_mount data-xfs xfs /data/xfs
vm_workload ext4 /data/ext4/workload.log 20
vm_workload xfs /data/xfs/workload.log 20
vm_example_writer /data/xfs/example.db
vm_agent
vm_ready
EOF
vm_boot

vm_wait_progress ext4 10 30 && vm_wait_progress xfs 10 30 || vm_fail "the workload does not write"
if [ -n "$VM_EXAMPLE" ]; then
  vm_wait_progress db 5 30 || vm_fail "the example SQLite workload does not write"
  # The writer retries its connection every second until the agent is up;
  # the backup must not start before it takes part.
  vm_wait_console 'quiesce-sqlite-writer sqlite: registered' 15 ||
    vm_fail "the example socket writer never registered with the agent"
fi
committed_ext4=$(vm_committed ext4)
committed_xfs=$(vm_committed xfs)
committed_db=$(vm_committed db)
offset=$(vm_console_size)
vm_log "committed before prepare: ext4 $committed_ext4, xfs $committed_xfs${VM_EXAMPLE:+, example.db $committed_db}"

vm_backup || vm_fail "the backup failed"
[ "$(vm_report method)" = child-snapshot ] || vm_fail "method $(vm_report method), expected child-snapshot"
[ "$(vm_report result)" = consistent ] || vm_fail "result $(vm_report result)"
frozen=$(vm_report frozen)
case " $frozen " in *" /data/ext4 "*) ;; *) vm_fail "/data/ext4 not frozen: [$frozen]" ;; esac
case " $frozen " in *" /data/xfs "*) ;; *) vm_fail "/data/xfs not frozen: [$frozen]" ;; esac

# The guest goes on writing after post.
after=$(vm_committed ext4)
vm_wait_progress ext4 "$after" 15 || vm_fail "the ext4 workload did not resume after post"
stall_ext4=$(vm_max_latency_ms ext4 "$offset")
stall_xfs=$(vm_max_latency_ms xfs "$offset")

vm_fsck_strict "$WORK/backup/data-ext4.img" ext4 || vm_fail "e2fsck -fn on the ext4 snapshot"
vm_fsck_strict "$WORK/backup/data-xfs.img" xfs || vm_fail "xfs_repair -n on the xfs snapshot"
vm_log "snapshot images pass e2fsck -fn and xfs_repair -n"

vm_extract "$WORK/backup/data-ext4.img" ext4 "$WORK/snap-ext4" || vm_fail "reading the ext4 snapshot"
vm_extract "$WORK/backup/data-xfs.img" xfs "$WORK/snap-xfs" || vm_fail "reading the xfs snapshot"
have_ext4=$(vm_check_workload "$WORK/snap-ext4/workload.log" ext4 "$committed_ext4" whole) ||
  vm_fail "ext4 workload: $have_ext4"
have_xfs=$(vm_check_workload "$WORK/snap-xfs/workload.log" xfs "$committed_xfs" whole) ||
  vm_fail "xfs workload: $have_xfs"
vm_log "snapshot holds ext4 records 1..$have_ext4 (>= $committed_ext4 committed), xfs 1..$have_xfs (>= $committed_xfs)"

db_line="example SQLite writer: not built (libsqlite3-dev missing), skipped"
if [ -n "$VM_EXAMPLE" ]; then
  have_db=$(vm_check_sqlite "$WORK/snap-xfs/example.db" "$committed_db") || vm_fail "example.db: $have_db"
  db_line="example.db in the snapshot: integrity_check ok, rows 1..$have_db (>= $committed_db committed)"
  grep -q 'quiesce-sqlite-writer sqlite: registered' "$WORK/console.log" ||
    vm_fail "the example socket writer never registered with the agent"
  db_line="$db_line; the socket writer took part"
fi
vm_log "$db_line"

vm_stop
cat <<EOF
vm[$VM_NAME]: PASS child-snapshot ($VM_ACCEL)
  boot to agent            $VM_BOOT_MS ms
  agent sync               $(vm_report sync-ms) ms
  check                    $(vm_report check-ms) ms
  prepare (writers+freeze) $(vm_report prepare-ms) ms
  snapshot (1 transaction) $(vm_report snapshot-ms) ms
  post (thaw)              $(vm_report post-ms) ms
  guest frozen             $(vm_report window-guest-ms) ms by the agent, <= $(vm_report window-host-ms) ms seen from the host
  workload stall           ext4 $stall_ext4 ms, xfs $stall_xfs ms (longest write+fsync during the backup)
  copy / merge back        $(vm_report copy-ms) / $(vm_report merge-ms) ms
  backup total             $(vm_report total-ms) ms
  frozen                   $frozen
  $db_line
EOF
