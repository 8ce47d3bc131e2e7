#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What MariaDB's clients feel during a backup, with the MariaDB writer and
# without it. One boot of the systemd guest as vm/systemd-mariadb sets it up
# (tests/vm/mariadb-lib.sh: Debian's mariadb-server on a data disk, the
# writer's .deb), an InnoDB workload committing one row per transaction
# every 20 ms, then N child-snapshot backups through host/quiesce-backup
# with the writer running and N with it stopped, interleaved (who goes
# first alternates). For each mode: the commit latency p50, p99 and max of
# every commit that finished during a backup (quiesce-backup running), and
# the median of each backup's longest commit (the stall); the backups'
# frozen window (host side) beside them.
#
# Needs what vm/systemd-mariadb needs: run `ctest -R vm/systemd-noport` once
# in the build (the installed overlay and the .debs). FLUSH is the guest
# server's innodb_flush_log_at_trx_commit (1, Debian's default; 0 shows the
# writer's wait for the redo log).
# usage: bench/mariadb-vm.sh [N] [FLUSH]   (default 6 1)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-6}
flush=${2:-1}
build=${QUIESCE_BENCH_BUILD:-$top/build/main}

cmake --build "$build" -j2 --target quiesce-backup vm-workload quiesce-mariadb-workload >/dev/null
export QUIESCE_BACKUP=$build/host/quiesce-backup VM_WORKLOAD=$build/tests/vm/vm-workload
export MARIADB_WORKLOAD=$build/db-writers/mariadb/quiesce-mariadb-workload
export VM_SD_STATE=${VM_SD_STATE:-$build/tests/vm/systemd-guest} VM_NAME=mariadb-bench
. "$top/tests/vm/lib.sh"
. "$top/tests/vm/sd-lib.sh"
. "$top/tests/vm/mariadb-lib.sh"

sd_setup
mdb_setup "$flush"
sd_boot yes
mdb_install
mdb_workload innodb 20
sleep 3

writer() { # on|off
  if [ "$1" = on ]; then
    sd_sh 'systemctl -q is-active quiesce-writer-mariadb && exit 0
      n=$(journalctl -b -u quiesce-writer-mariadb -o cat | grep -c "registered with the agent")
      systemctl start quiesce-writer-mariadb
      end=$((SECONDS + 30)); while [ $SECONDS -lt $end ]; do
        [ "$(journalctl -b -u quiesce-writer-mariadb -o cat | grep -c "registered with the agent")" -gt "$n" ] &&
          exit 0; sleep 0.2; done; exit 1' >/dev/null ||
      vm_fail "the writer did not start"
  else
    sd_sh 'systemctl stop quiesce-writer-mariadb' >/dev/null
  fi
}

: >"$WORK/rounds"
echo "== MariaDB $(sd_sh 'mariadb -N -e "SELECT VERSION()"'), innodb_flush_log_at_trx_commit=$flush," \
     "$n backups per mode, interleaved ($VM_ACCEL)"
for round in $(seq "$n"); do
  order="on off"
  [ $((round % 2)) = 0 ] && order="off on"
  for mode in $order; do
    writer "$mode"
    # A stop or start is not instant for the agent: the writer's hello, or
    # its hang-up, before the backup's prepare.
    sleep 1
    offset=$(vm_console_size)
    VM_BACKUP_DIR=$WORK/backup vm_backup >"$WORK/backup.out" 2>&1 ||
      { cat "$WORK/backup.out"; vm_fail "round $round ($mode): the backup failed"; }
    [ "$(vm_report method)" = child-snapshot ] || vm_fail "round $round ($mode): $(vm_report method)"
    sleep 1 # the commit held across the window reaches the console
    tail -c +"$((offset + 1))" "$WORK/console.log" | tr -d '\r' |
      awk -v m="$mode" '$1 == "committed" && $2 == "innodb" && NF == 5 {print m, $5}' >>"$WORK/latencies"
    echo "$mode $(vm_report window-inner-ms) $(vm_report total-ms) $(vm_max_latency_ms innodb "$offset")" >>"$WORK/rounds"
    rm -rf "$WORK/backup"
    vm_log "round $round, writer $mode: window $(vm_report window-inner-ms) ms, backup $(vm_report total-ms) ms," \
           "longest commit $(vm_max_latency_ms innodb "$offset") ms"
  done
done
python3 - "$WORK/latencies" "$WORK/rounds" <<'PY'
import sys
lat = {"on": [], "off": []}
for line in open(sys.argv[1]):
    mode, us = line.split()
    lat[mode].append(int(us) / 1000.0)
rounds = {"on": [], "off": []}
for line in open(sys.argv[2]):
    mode, window, total, stall = line.split()
    rounds[mode].append((int(window), int(total), int(stall)))
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, (len(v) * p + 99) // 100 - 1))]
def med(v):
    v = sorted(v)
    return v[len(v) // 2]
print("%-12s %8s %8s %8s %8s %12s %10s %10s" % ("writer", "commits", "p50", "p99", "max",
      "stall p50", "window p50", "backup p50"))
for mode in ("on", "off"):
    v, r = lat[mode], rounds[mode]
    print("%-12s %8d %8.1f %8.1f %8.1f %12d %10d %10d ms" % (mode, len(v), pct(v, 50), pct(v, 99),
          max(v), med([x[2] for x in r]), med([x[0] for x in r]), med([x[1] for x in r])))
PY
sd_shutdown
