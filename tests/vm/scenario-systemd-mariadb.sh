#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The MariaDB writer in the systemd guest (issue 17, MariaDB). One boot of an
# overlay of its own over the one vm/systemd-noport installed the .debs into
# (so the other scenarios never see MariaDB), with Debian's mariadb-server
# (in the image, its unit disabled there) keeping its data on a data disk,
# quiesce-writer-mariadb installed from this tree's .deb (its unit enabled
# and started by the package), and two workloads committing through the
# backup: one row per transaction into an InnoDB table and into a MyISAM
# table. The server runs with innodb_flush_log_at_trx_commit=0, a setting
# people choose for speed, where InnoDB acknowledges commits its redo log
# on disk does not hold yet (docs/mariadb.md §5).
#
#   (a) writer on: a child-snapshot backup with the host driver. Offline, the
#       snapshot's data disk is read and the host's mariadbd (the same
#       10.11) started on it: InnoDB starts (whether it ran crash recovery
#       is reported), the InnoDB table holds ids 1..N without a gap, N at
#       least the last id acknowledged before prepare, and commit N+1 waited
#       out the host's whole frozen window (so no commit was acknowledged
#       and then lost); the MyISAM table's header says closed (not "open").
#   (b) negative control, writer stopped: the same backup and checks; the
#       MyISAM table is "open" (not closed properly) and InnoDB lost
#       acknowledged commits, or the scenario fails: the checks catch
#       what the writer prevents.
#   (c) a writer that cannot get its lock in time (another connection holds
#       LOCK TABLES ... WRITE, --prepare-timeout 2): prepare answers
#       saved-state naming the writer and MariaDB's error, nothing is frozen
#       (the agent says thawed, the InnoDB workload never stalled), and once
#       the lock is gone nobody holds a backup stage.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sd-lib.sh"
. "$(dirname "$0")/mariadb-lib.sh"

sd_setup
mdb_setup 0
sd_boot yes
mdb_install
mdb_workload innodb 20
mdb_workload myisam 50 --table wl_myisam --engine MyISAM

# --- (a) the writer on ----------------------------------------------------------
before=$(vm_committed innodb)
VM_BACKUP_DIR=$WORK/backup-writer vm_backup --hold-frozen 1 >"$WORK/backup-a.out" 2>&1 ||
  { cat "$WORK/backup-a.out"; vm_fail "(a) the backup failed"; }
[ "$(vm_report method)" = child-snapshot ] && [ "$(vm_report result)" = consistent ] ||
  vm_fail "(a) method $(vm_report method), result $(vm_report result)"
inner_a=$(vm_report window-inner-ms)
sd_expect "(a) the writer held BACKUP STAGE from prepare to thaw" '
  journalctl -b -u quiesce-writer-mariadb -o cat | tail -n 4
  journalctl -b -u quiesce-writer-mariadb -o cat | grep -q "thaw: BACKUP STAGE END"'
for w in innodb myisam; do vm_wait_progress "$w" "$(vm_committed "$w")" 20 || vm_fail "(a) $w did not resume"; done
mdb_check writer "$WORK/backup-writer" "$before"
[ -n "$MDB_N" ] || vm_fail "(a) the InnoDB table is not 1..N with N >= $before"
[ "$MDB_GAP_OK" = 1 ] || vm_fail "(a) an acknowledged commit is missing: $MDB_GAP"
case ",$MDB_MYISAM," in *,open,*) vm_fail "(a) the MyISAM table was not closed: $MDB_MYISAM" ;; esac
a_recovery=$MDB_RECOVERY a_n=$MDB_N a_gap=$MDB_GAP a_myisam=$MDB_MYISAM

# --- (b) negative control: the writer stopped -------------------------------------
sd_sh 'systemctl stop quiesce-writer-mariadb.service' >/dev/null
before=$(vm_committed innodb)
VM_BACKUP_DIR=$WORK/backup-none vm_backup --hold-frozen 1 >"$WORK/backup-b.out" 2>&1 ||
  { cat "$WORK/backup-b.out"; vm_fail "(b) the backup failed"; }
[ "$(vm_report method)" = child-snapshot ] || vm_fail "(b) method $(vm_report method)"
# Without the writer, flush_log_at_trx_commit=0 may lose up to a second of
# commits acknowledged before prepare too (seen: 27 of 141): only the rows'
# contiguity is required here; the loss is what the next checks expect.
mdb_check no-writer "$WORK/backup-none" 0
[ -n "$MDB_N" ] || vm_fail "(b) the InnoDB table is not 1..N"
case ",$MDB_MYISAM," in *,open,*) ;; *) vm_fail "(b) without the writer the MyISAM table was closed too: the check cannot tell" ;; esac
[ "$MDB_GAP_OK" = 0 ] || vm_fail "(b) without the writer no acknowledged commit was lost: the check cannot tell ($MDB_GAP)"
b_recovery=$MDB_RECOVERY b_n=$MDB_N b_gap=$MDB_GAP b_myisam=$MDB_MYISAM

# --- (c) the writer cannot get its lock ---------------------------------------------
sd_expect "(c) a connection holds LOCK TABLES WRITE; the writer has 2 s per prepare" '
  echo "OPTIONS=\"--prepare-timeout 2\"" >/etc/default/quiesce-writer-mariadb
  systemctl start quiesce-writer-mariadb.service
  systemd-run -q --unit=locker mariadb -e "LOCK TABLES app.wl_myisam WRITE; SELECT SLEEP(600)"
  end=$((SECONDS + 30)); while [ $SECONDS -lt $end ]; do
    [ "$(journalctl -b -u quiesce-writer-mariadb -o cat | grep -c "registered with the agent")" -ge 2 ] &&
      mariadb -N -e "SHOW PROCESSLIST" | grep -q "SLEEP(600)" && exit 0; sleep 0.2; done; exit 1'
offset=$(vm_console_size)
rc=0
vm_backup --prepare-timeout 30 >"$WORK/backup-c.out" 2>&1 || rc=$?
# 3: backed up, by the saved-state fallback (quiesce-backup(1)).
[ "$rc" = 3 ] || { cat "$WORK/backup-c.out"; vm_fail "(c) the fallback backup exited $rc, expected 3"; }
[ "$(vm_report prepare-method)" = saved-state ] ||
  vm_fail "(c) prepare answered '$(vm_report prepare-method)', expected saved-state"
reasons=$(vm_report reasons)
case $reasons in *mariadb*"MariaDB BACKUP STAGE START: Lock wait timeout exceeded"*) ;;
  *) vm_fail "(c) the reasons do not name the writer and MariaDB's error: $reasons" ;; esac
c_prepare_ms=$(vm_report prepare-ms)
status=$(vm_agent '{"execute":"guest-fsfreeze-status"}') || vm_fail "(c) status: $status"
[ "$status" = '"thawed"' ] || vm_fail "(c) guest-fsfreeze-status: $status"
c_stall=$(vm_max_latency_ms innodb "$offset")
[ "$c_stall" -lt 2000 ] || vm_fail "(c) the InnoDB workload stalled $c_stall ms: something was held or frozen"
# The locker's connection is killed in the server: a client killed during
# SLEEP() leaves its server thread, and its lock, until the sleep ends.
sd_expect "(c) the lock gone, nobody holds a backup stage" '
  id=$(mariadb -N -e "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE \"SELECT SLEEP(600)%\"")
  mariadb -e "KILL $id"; systemctl stop locker.service
  mariadb -e "SET STATEMENT lock_wait_timeout=1 FOR BACKUP STAGE START; BACKUP STAGE END" 2>&1 &&
    echo "our BACKUP STAGE START got through"'
sd_sh 'systemctl stop wl-innodb wl-myisam' >/dev/null
sd_shutdown
cat <<EOF
vm[$VM_NAME]: PASS MariaDB writer ($VM_ACCEL)
  (a) writer on      InnoDB 1..$a_n, crash recovery: $a_recovery; commit $((a_n + 1)) $a_gap ms apart (window >= $inner_a ms); MyISAM: $a_myisam
  (b) writer off     InnoDB 1..$b_n, crash recovery: $b_recovery; $b_gap; MyISAM: $b_myisam
  (c) lock timeout   prepare saved-state after $c_prepare_ms ms: $reasons; InnoDB workload's longest commit $c_stall ms
EOF
