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

[ -n "${MARIADB_WORKLOAD:-}" ] || vm_fail "\$MARIADB_WORKLOAD must be set (run through ctest)"
export PATH=$PATH:/usr/sbin
for tool in mariadbd myisamchk mariadb; do
  command -v "$tool" >/dev/null || vm_fail "$tool is missing (scripts/install-deps.sh installs mariadb-server)"
done
sd_setup
shared=$VM_SD_STATE
[ -f "$shared/root.qcow2" ] || vm_fail "no installed overlay in $shared (vm/systemd-noport)"
writer_deb=$(ls "$shared"/debs/quiesce-writer-mariadb_*.deb 2>/dev/null | head -n 1)
[ -n "$writer_deb" ] || vm_fail "no quiesce-writer-mariadb .deb in $shared/debs (vm/systemd-setup)"
# An overlay of our own over the installed one, which stays as it was.
SD_OVERLAY=$WORK/root.qcow2
qemu-img create -q -f qcow2 -F qcow2 -b "$shared/root.qcow2" "$SD_OVERLAY"
chmod 0711 "$WORK" # the host's mariadbd runs as nobody on extracted snapshots below

mkdir -p "$WORK/debs/files"
cp "$writer_deb" "$WORK/debs/"
cp "$MARIADB_WORKLOAD" "$WORK/debs/files/quiesce-mariadb-workload"
# innodb settings shared by the guest's server and the host's check.
innodb=(--innodb-buffer-pool-size=64M --innodb-log-file-size=16M)
cat >"$WORK/debs/files/90-quiesce-vm.cnf" <<EOF
[mysqld]
datadir=/srv/mariadb/data
innodb_buffer_pool_size=64M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=0
EOF
vm_disk data-mariadb ext4 256
sd_boot yes

# --- set-up -----------------------------------------------------------------
sd_expect "MariaDB on the data disk, the writer installed and registered" '
  set -e
  mkdir -p /mnt/debs /srv/mariadb
  mount -o ro,noload /dev/disk/by-id/virtio-debs /mnt/debs
  mount -t ext4 /dev/disk/by-id/virtio-data-mariadb /srv/mariadb
  install -m 0644 /mnt/debs/files/90-quiesce-vm.cnf /etc/mysql/mariadb.conf.d/
  install -m 0755 /mnt/debs/files/quiesce-mariadb-workload /usr/local/bin/
  # mariadb-install-db looks the host name up; the image has no /etc/hosts.
  printf "127.0.0.1 localhost\n127.0.1.1 sdguest\n" >/etc/hosts
  t0=$(date +%s%N)
  mariadb-install-db --user=mysql --datadir=/srv/mariadb/data >/run/install-db.log 2>&1 ||
    { tail /run/install-db.log; exit 1; }
  systemctl start mariadb.service
  echo "mariadb-install-db and start: $(( ($(date +%s%N) - t0) / 1000000 )) ms; $(mariadb -N -e "SELECT VERSION()")"
  mariadb -N -e "SELECT @@datadir, @@innodb_flush_log_at_trx_commit"
  DEBIAN_FRONTEND=noninteractive dpkg -i /mnt/debs/quiesce-writer-mariadb_*.deb | tail -n 2
  umount /mnt/debs
  end=$((SECONDS + 30)); while [ $SECONDS -lt $end ]; do
    journalctl -b -u quiesce-writer-mariadb -o cat | grep -q "registered with the agent" && break; sleep 0.2; done
  echo "quiesce-writer-mariadb.service: $(systemctl is-enabled quiesce-writer-mariadb) $(systemctl is-active quiesce-writer-mariadb)"
  journalctl -b -u quiesce-writer-mariadb -o cat | tail -n 2
  journalctl -b -u quiesce-writer-mariadb -o cat | grep -q "registered with the agent"'
sd_expect "the workloads commit" '
  set -e
  w=/usr/local/bin/quiesce-mariadb-workload
  $w --user root --database app --create --count 1 >/dev/null
  $w --user root --database app --table wl_myisam --engine MyISAM --create --count 1 >/dev/null
  systemd-run -q --unit=wl-innodb -p StandardOutput=file:/dev/ttyS0 $w --user root --database app --interval-ms 20 --tag innodb
  systemd-run -q --unit=wl-myisam -p StandardOutput=file:/dev/ttyS0 $w --user root --database app --table wl_myisam --interval-ms 50 --tag myisam'
for w in innodb myisam; do vm_wait_progress "$w" 10 60 || vm_fail "the workload $w does not commit"; done

# mdb_check LABEL BACKUP_DIR BEFORE: the snapshot's data disk, extracted;
# sets MDB_MYISAM (the MyISAM header's status), MDB_RECOVERY (yes/no), MDB_N
# (the InnoDB table holds 1..N; "" when not), MDB_GAP (check_stall's output),
# MDB_GAP_OK (0/1).
mdb_check() {
  local label=$1 dir=$WORK/snap-$1 data pid i count max
  vm_extract "$2/data-mariadb.img" ext4 "$dir" || vm_fail "$label: reading the snapshot failed"
  data=$dir/data
  chmod 0755 "$dir"; chown -R nobody:nogroup "$data"
  MDB_MYISAM=$(myisamchk -dv "$data/app/wl_myisam.MYI" | sed -n 's/^Status: *//p')
  mariadbd --no-defaults --user=nobody --datadir="$data" --socket="$dir/mysqld.sock" \
    --pid-file="$dir/mysqld.pid" --skip-networking --log-error="$dir/error.log" "${innodb[@]}" >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 600); do
    mariadb --no-defaults -S "$dir/mysqld.sock" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || { cat "$dir/error.log"; vm_fail "$label: mariadbd did not start on the snapshot"; }
    sleep 0.1
  done
  read -r count max < <(mariadb --no-defaults -S "$dir/mysqld.sock" -u root -N -e \
    'SELECT COUNT(*), COALESCE(MAX(id), 0) FROM app.rows') || vm_fail "$label: reading app.rows failed"
  kill $pid; wait $pid 2>/dev/null || true
  MDB_RECOVERY=no
  grep -q 'Starting crash recovery' "$dir/error.log" && MDB_RECOVERY=yes
  grep -E 'InnoDB: (Starting crash recovery|.*recovery|Completed initialization)|ERROR' "$dir/error.log" |
    sed 's/^/    mariadbd: /' | head -n 8
  MDB_N=
  [ "$count" = "$max" ] && [ "$max" -ge "$3" ] && MDB_N=$max
  vm_log "$label: InnoDB rows $count, max id $max (>= $3 acknowledged before prepare), crash recovery $MDB_RECOVERY," \
         "MyISAM header status: $MDB_MYISAM"
  MDB_GAP_OK=0
  MDB_GAP=$(vm_check_stall innodb "$max" "$(vm_report window-inner-ms)") && MDB_GAP_OK=1
  vm_log "$label: commit $((max + 1)) against the window: $MDB_GAP"
  rm -rf "$dir"
}

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
mdb_check no-writer "$WORK/backup-none" "$before"
[ -n "$MDB_N" ] || vm_fail "(b) the InnoDB table is not 1..N with N >= $before"
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
vm_backup --prepare-timeout 30 >"$WORK/backup-c.out" 2>&1 || { cat "$WORK/backup-c.out"; vm_fail "(c) the fallback backup failed"; }
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
sd_expect "(c) the lock gone, nobody holds a backup stage" '
  systemctl stop locker.service
  mariadb -e "SET STATEMENT lock_wait_timeout=1 FOR BACKUP STAGE START; BACKUP STAGE END" && echo "our BACKUP STAGE START got through"'
sd_sh 'systemctl stop wl-innodb wl-myisam' >/dev/null
sd_shutdown
cat <<EOF
vm[$VM_NAME]: PASS MariaDB writer ($VM_ACCEL)
  (a) writer on      InnoDB 1..$a_n, crash recovery: $a_recovery; commit $((a_n + 1)) $a_gap ms apart (window >= $inner_a ms); MyISAM: $a_myisam
  (b) writer off     InnoDB 1..$b_n, crash recovery: $b_recovery; $b_gap; MyISAM: $b_myisam
  (c) lock timeout   prepare saved-state after $c_prepare_ms ms: $reasons; InnoDB workload's longest commit $c_stall ms
EOF
