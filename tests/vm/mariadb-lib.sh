# SPDX-License-Identifier: GPL-2.0-or-later
# mariadb-lib.sh — sourced after lib.sh and sd-lib.sh by what runs the MariaDB
# writer in the systemd guest (scenario-systemd-mariadb.sh,
# bench/mariadb-vm.sh): an overlay of its own over the one vm/systemd-noport
# installed the .debs into (so the other scenarios never see MariaDB),
# Debian's mariadb-server (in the image, its unit disabled there) with its
# data on a data disk, quiesce-writer-mariadb from this tree's .deb (enabled
# and started by the package), and workloads committing one row per
# transaction (quiesce-mariadb-workload, their lines on the console in
# vm-workload's form, so lib.sh's readers work on them).
#
# Environment: as sd-lib.sh, plus MARIADB_WORKLOAD (the workload binary).

# mdb_setup FLUSH: before sd_boot. FLUSH is the guest server's
# innodb_flush_log_at_trx_commit (docs/mariadb.md §5).
mdb_setup() {
  [ -n "${MARIADB_WORKLOAD:-}" ] || vm_fail "\$MARIADB_WORKLOAD must be set (run through ctest)"
  export PATH=$PATH:/usr/sbin
  local tool shared=$VM_SD_STATE deb
  for tool in mariadbd myisamchk mariadb; do
    command -v "$tool" >/dev/null || vm_fail "$tool is missing (scripts/install-deps.sh installs mariadb-server)"
  done
  [ -f "$shared/root.qcow2" ] || vm_fail "no installed overlay in $shared (vm/systemd-noport)"
  deb=$(ls "$shared"/debs/quiesce-writer-mariadb_*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || vm_fail "no quiesce-writer-mariadb .deb in $shared/debs (vm/systemd-setup)"
  SD_OVERLAY=$WORK/root.qcow2
  qemu-img create -q -f qcow2 -F qcow2 -b "$shared/root.qcow2" "$SD_OVERLAY"
  chmod 0711 "$WORK" # the host's mariadbd runs as nobody on extracted snapshots
  mkdir -p "$WORK/debs/files"
  cp "$deb" "$WORK/debs/"
  cp "$MARIADB_WORKLOAD" "$WORK/debs/files/quiesce-mariadb-workload"
  # The agent's defaults for the writers (vm/systemd-noport installed 1 s
  # limits and a 20 s watchdog for vm/systemd-port): the writer's phases
  # take longer than 1 s under TCG, its freeze up to a second more waiting
  # for InnoDB's redo log.
  cat >"$WORK/debs/files/quiesced.conf" <<'EOF'
[freeze]
window=60
EOF
  cat >"$WORK/debs/files/90-quiesce-vm.cnf" <<EOF
[mysqld]
datadir=/srv/mariadb/data
innodb_buffer_pool_size=64M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=$1
EOF
  vm_disk data-mariadb ext4 256
}

# InnoDB settings shared by the guest's server and the host's check.
MDB_INNODB=(--innodb-buffer-pool-size=64M --innodb-log-file-size=16M)

# mdb_install: after sd_boot. MariaDB on the data disk, the writer installed
# and registered with the agent. mariadb-install-db and the first start take
# ~50 s under TCG on a quiet machine, minutes on a loaded one.
mdb_install() {
  sd_expect "MariaDB on the data disk, the writer installed and registered" '
  set -e
  mkdir -p /mnt/debs /srv/mariadb
  mount -o ro,noload /dev/disk/by-id/virtio-debs /mnt/debs
  mount -t ext4 /dev/disk/by-id/virtio-data-mariadb /srv/mariadb
  install -m 0644 /mnt/debs/files/90-quiesce-vm.cnf /etc/mysql/mariadb.conf.d/
  install -m 0755 /mnt/debs/files/quiesce-mariadb-workload /usr/local/bin/
  install -m 0644 /mnt/debs/files/quiesced.conf /etc/quiesce/quiesced.conf
  rm -f /etc/systemd/system/quiesced.service.d/vm-test.conf
  systemctl daemon-reload
  systemctl restart quiesced.service
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
  journalctl -b -u quiesce-writer-mariadb -o cat | grep -q "registered with the agent"' 900
}

# mdb_workload TAG INTERVAL_MS [ARGS...]: a workload on database app, its
# lines tagged TAG on the console; waits until it commits.
mdb_workload() {
  local tag=$1 every=$2
  shift 2
  sd_sh "set -e; w=/usr/local/bin/quiesce-mariadb-workload
    \$w --user root --database app $* --create --count 1 >/dev/null
    systemd-run -q --unit=wl-$tag -p StandardOutput=file:/dev/ttyS0 \$w --user root --database app $* \\
      --interval-ms $every --tag $tag" >/dev/null || vm_fail "starting the workload $tag failed"
  vm_wait_progress "$tag" 10 60 || vm_fail "the workload $tag does not commit"
}

# mdb_check LABEL BACKUP_DIR BEFORE: the snapshot's data disk, extracted,
# and the host's mariadbd (the same 10.11) started on it. Sets MDB_MYISAM
# (the MyISAM table's header status), MDB_RECOVERY (did InnoDB run crash
# recovery: yes/no), MDB_N (app.rows holds 1..N with N >= BEFORE; "" when
# not), MDB_GAP and MDB_GAP_OK (vm_check_stall on the InnoDB workload: commit
# N+1 finished at least the host's frozen window after commit N, so no
# commit acknowledged before the snapshot is missing from it).
mdb_check() {
  local label=$1 dir=$WORK/snap-$1 data pid i count max
  vm_extract "$2/data-mariadb.img" ext4 "$dir" || vm_fail "$label: reading the snapshot failed"
  data=$dir/data
  chmod 0755 "$dir"
  chown -R nobody:nogroup "$dir"
  MDB_MYISAM=$(myisamchk -dv "$data/app/wl_myisam.MYI" | sed -n 's/^Status: *//p')
  mariadbd --no-defaults --user=nobody --datadir="$data" --socket="$dir/mysqld.sock" \
    --pid-file="$dir/mysqld.pid" --skip-networking --log-error="$dir/error.log" "${MDB_INNODB[@]}" \
    >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 600); do
    mariadb --no-defaults -S "$dir/mysqld.sock" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || { cat "$dir/error.log"; vm_fail "$label: mariadbd did not start on the snapshot"; }
    sleep 0.1
  done
  read -r count max < <(mariadb --no-defaults -S "$dir/mysqld.sock" -u root -N -e \
    'SELECT COUNT(*), COALESCE(MAX(id), 0) FROM app.rows') || vm_fail "$label: reading app.rows failed"
  kill $pid
  wait $pid 2>/dev/null || true
  MDB_RECOVERY=no
  grep -q 'Starting crash recovery' "$dir/error.log" && MDB_RECOVERY=yes
  cp "$dir/error.log" "$WORK/error-$label.log"
  grep -i -E 'recover|ERROR|crashed|marked' "$dir/error.log" | sed 's/^/    mariadbd: /' | head -n 8
  MDB_N=
  if [ "$count" = "$max" ] && [ "$max" -ge "$3" ]; then MDB_N=$max; fi
  vm_log "$label: InnoDB rows $count, max id $max (>= $3 acknowledged before prepare)," \
         "crash recovery $MDB_RECOVERY, MyISAM header status: $MDB_MYISAM"
  MDB_GAP_OK=0
  MDB_GAP=$(vm_check_stall innodb "$max" "$(vm_report window-inner-ms)") && MDB_GAP_OK=1
  vm_log "$label: commit $((max + 1)) against the window: $MDB_GAP"
  rm -rf "$dir"
}
