#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The PostgreSQL writer in the systemd guest (issue 17, PostgreSQL's half).
# One boot of the overlay vm/systemd-noport installed the .debs into
# (quiesce-writer-postgresql among them; Debian's postgresql-15 is in the
# image), through a qcow2 of its own over it (the shared overlay is not
# changed), with a data disk for the cluster:
#
#   set-up   a cluster made on the data disk
#            (ext4, /srv/pg) with checkpoint_timeout 30 min (no timed
#            checkpoint falls inside the scenario), the role root with
#            pg_checkpoint, the unit enabled as the manual says; a workload
#            (pg-workload.c) commits one row per 50 ms and reports each
#            commit on the console;
#   (w)      with the writer: ~13 MB of WAL written (a bulk INSERT), then a
#            child-snapshot backup through quiesce-backup;
#   (n)      the negative control: the writer stopped, the same bulk write
#            and the same backup;
#   (f)      the writer cannot get its checkpoint (the checkpointer
#            SIGSTOPped): guest-snapshot-prepare answers saved-state with
#            writer-failed naming PostgreSQL's statement timeout, nothing is
#            frozen (a write to /srv/pg goes through, the agent says
#            thawed), nothing of the writer is left in the server, and the
#            workload kept committing.
# Offline, on the host: each snapshot's data disk is mounted from a copy,
# its cluster copied out, pg_controldata read, and Debian's postgres 15 of
# the host started on it (as nobody, on a socket in the work dir). Both
# start and hold every row the workload reported committed before
# prepare (the WAL makes an atomic snapshot crash-consistent; that is
# PostgreSQL's design, not the writer's doing). What the writer changes:
# (w)'s latest checkpoint is past every WAL record written before the
# backup began and recovery replays under 1 MiB; (n)'s checkpoint is older
# than the bulk write and recovery replays all of it (>= 8 MiB).
# The commit latency of the workload during each backup (p50/max) is
# printed; bench/db-writer-stall.sh reports it over several rounds
# (PG_ROUNDS backups per mode, default 1).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sd-lib.sh"

sd_setup
[ -f "$VM_SD_STATE/root.qcow2" ] || vm_fail "no installed overlay in $VM_SD_STATE (vm/systemd-noport)"
[ -x "${PG_WORKLOAD:-}" ] || vm_fail "\$PG_WORKLOAD must be set (run through ctest)"
[ -x "${QUIESCE_PG_BINDIR:-}/postgres" ] || vm_fail "no PostgreSQL server on the host (postgresql-15; scripts/install-deps.sh)"
vm_require_tools setpriv psql
rounds=${PG_ROUNDS:-1}
PG_OFFLINE_PID=
pg_cleanup() {
  local rc=$?
  set +e # or `(exit $rc)` below would end the trap before sd_cleanup
  if [ -n "$PG_OFFLINE_PID" ]; then kill -INT "$PG_OFFLINE_PID" 2>/dev/null; wait "$PG_OFFLINE_PID" 2>/dev/null; fi
  (exit $rc)
  sd_cleanup
}
trap pg_cleanup EXIT

# A qcow2 of our own over the installed overlay: the shared one is left
# exactly as vm/systemd-noport made it, whatever happens here.
shared_state=$VM_SD_STATE
VM_SD_STATE=$WORK/state
mkdir -p "$VM_SD_STATE"
qemu-img create -q -f qcow2 -F qcow2 -b "$shared_state/root.qcow2" "$VM_SD_STATE/root.qcow2"

vm_disk pgdata ext4 512
mkdir -p "$WORK/debs/files"
cp "$PG_WORKLOAD" "$WORK/debs/files/pg-workload"
sd_boot yes

psql_wl='runuser -u postgres -- psql -X -d wl -Atqc'
sd_expect "set-up: the cluster on /srv/pg, the writer's role, the unit enabled, the workload running" '
  set -e
  dpkg-query -W -f="\${Package} \${Version}\n" quiesce-writer-postgresql postgresql-15
  mkdir -p /mnt/debs && mount -o ro,noload /dev/disk/by-id/virtio-debs /mnt/debs
  install -m 0755 /mnt/debs/files/pg-workload /usr/local/bin/pg-workload
  umount /mnt/debs
  mkdir -p /srv/pg && mount /dev/disk/by-id/virtio-pgdata /srv/pg && chown postgres: /srv/pg
  [ -z "$(pg_lsclusters -h)" ]   # the image has none (scripts/vm/build-debian-guest.sh)
  pg_createcluster 15 main -d /srv/pg/15/main >/dev/null
  echo "checkpoint_timeout = 30min" >/etc/postgresql/15/main/conf.d/vm-test.conf
  pg_ctlcluster 15 main start
  pg_lsclusters -h
  runuser -u postgres -- createuser root
  runuser -u postgres -- psql -X -qc "GRANT pg_checkpoint TO root"
  runuser -u postgres -- createdb wl
  printf "[freeze]\nwindow=20\n\n[writers]\ntimeout=20\ntotal-timeout=30\n" >/etc/quiesce/quiesced.conf
  printf "QUIESCE_PG_CONNINFO=dbname=postgres\nQUIESCE_PG_PREPARE_TIMEOUT_MS=15000\nQUIESCE_PG_FREEZE_TIMEOUT_MS=5000\n" \
    >/etc/default/quiesce-writer-postgresql
  systemctl restart quiesced
  systemctl enable -q --now quiesce-writer-postgresql
  systemd-run -q --unit=pgwl --uid=postgres -p StandardOutput=file:/dev/ttyS0 \
    /usr/local/bin/pg-workload "dbname=wl" pg 50
  for i in $(seq 100); do journalctl -b -u quiesce-writer-postgresql | grep -q registered && break; sleep 0.1; done
  journalctl -b -u quiesce-writer-postgresql -o cat --no-pager | tail -n 2
  journalctl -b -u quiesce-writer-postgresql | grep -q registered
  findmnt -n -o TARGET,SOURCE,FSTYPE /srv/pg' 600
vm_wait_progress pg 10 60 || vm_fail "the workload does not commit"

# lsn TEXT: "0/1A2B3C" as a number.
lsn() { local hi=${1%/*} lo=${1#*/}; echo $(( (0x$hi << 32) + 0x$lo )); }

# latencies OFFSET END: the commit latencies (us) reported between those
# console offsets, one a line.
latencies() {
  head -c "$2" "$WORK/console.log" | tail -c +"$(( $1 + 1 ))" | awk '$1 == "committed" && $2 == "pg" {print $5}'
}
# p50_max FILE: "p50 max n" in ms of the latencies in FILE.
p50_max() {
  sort -n "$1" | awk '{v[NR] = $1} END {if (NR == 0) {print "- - 0"; exit}
    printf "%.1f %.1f %d\n", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000, NR}'
}

# backup MODE ROUND: the bulk write, then a child-snapshot backup into
# $WORK/backup-MODE-ROUND; sets BEFORE (last commit reported before it) and
# LSN_BEFORE (the WAL insert position just before it); appends the commit
# latencies seen during it to $WORK/lat-MODE.
backup() {
  local dir=$WORK/backup-$1-$2 off end
  sd_sh "$psql_wl \"CREATE TABLE IF NOT EXISTS bulk (id int, pad text);
         INSERT INTO bulk SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, 12000) g\"" 300 >/dev/null ||
    vm_fail "($1) the bulk write failed"
  LSN_BEFORE=$(sd_sh "$psql_wl 'SELECT pg_current_wal_insert_lsn()'") || vm_fail "($1) reading the WAL position"
  BEFORE=$(vm_committed pg)
  off=$(vm_console_size)
  VM_BACKUP_DIR=$dir vm_backup --hold-frozen 1 >"$WORK/backup-$1-$2.out" 2>&1 ||
    { cat "$WORK/backup-$1-$2.out"; vm_fail "($1) the backup failed"; }
  [ "$(vm_report method)" = child-snapshot ] || vm_fail "($1) method $(vm_report method)"
  [ "$(vm_report result)" = consistent ] || vm_fail "($1) result $(vm_report result)"
  case " $(vm_report frozen) " in *" /srv/pg "*) ;; *) vm_fail "($1) /srv/pg not frozen: $(vm_report frozen)" ;; esac
  vm_wait_progress pg "$(vm_committed pg)" 20 || vm_fail "($1) the workload did not resume"
  end=$(vm_console_size)
  latencies "$off" "$end" >>"$WORK/lat-$1"
  vm_log "($1) round $2: backup of $(vm_report total-ms) ms (prepare $(vm_report prepare-ms) ms," \
         "frozen >= $(vm_report window-inner-ms) ms), WAL at $LSN_BEFORE, commit $BEFORE reported before it;" \
         "commits during it: p50/max/n $(latencies "$off" "$end" >"$WORK/lat.tmp"; p50_max "$WORK/lat.tmp")"
}

: >"$WORK/lat-writer"; : >"$WORK/lat-nowriter"
for round in $(seq "$rounds"); do
  backup writer "$round"
  W_BEFORE=$BEFORE W_LSN=$LSN_BEFORE
  sd_sh 'systemctl stop quiesce-writer-postgresql' >/dev/null
  backup nowriter "$round"
  N_BEFORE=$BEFORE N_LSN=$LSN_BEFORE
  sd_sh 'systemctl start quiesce-writer-postgresql
         for i in $(seq 100); do [ "$(journalctl -b -u quiesce-writer-postgresql | grep -c registered)" -ge '"$((round + 1))"' ] && break; sleep 0.1; done' >/dev/null
done
sd_expect "(w) the writer logged its checkpoints" '
  journalctl -b -u quiesce-writer-postgresql -o cat --no-pager | grep -E "CHECKPOINT done|nothing held" | tail -n 4
  journalctl -b -u quiesce-writer-postgresql -o cat | grep -q "freeze: PostgreSQL at /var/run/postgresql:5432: CHECKPOINT done"'

# --- (f) ----------------------------------------------------------------------
answer=$(sd_sh '
  ckpt=$('"$psql_wl"' "SELECT pid FROM pg_stat_activity WHERE backend_type = '"'checkpointer'"'")
  kill -STOP $ckpt && echo $ckpt >/run/ckpt-pid') || vm_fail "(f) stopping the checkpointer"
n_before=$(vm_committed pg)
t0=$(vm_now_ms)
# The writer's prepare limit is 15 s here: the command may take that long.
answer=$("$QUIESCE_BACKUP" --agent "$WORK/qga.sock" --agent-timeout 20 --command-timeout 60 \
           agent '{"execute":"guest-snapshot-prepare"}') || vm_fail "(f) prepare failed: $answer"
f_ms=$(( $(vm_now_ms) - t0 ))
echo "    $answer"
case $answer in *'"method": "saved-state"'*) ;; *) vm_fail "(f) not saved-state" ;; esac
case $answer in *'"frozen": []'*) ;; *) vm_fail "(f) something is frozen" ;; esac
case $answer in *writer-failed*'PostgreSQL at /var/run/postgresql:5432'*'canceling statement due to statement timeout'*) ;;
  *) vm_fail "(f) the reason does not name PostgreSQL and its error" ;; esac
sd_expect "(f) nothing frozen, nothing of the writer in the server, the workload committing" '
  timeout 5 sh -c "echo probe >/srv/pg/probe && sync /srv/pg/probe" || { echo "a write to /srv/pg is held"; exit 1; }
  systemctl show -p StatusText --value quiesced.service
  systemctl show -p StatusText --value quiesced.service | grep -q thawed
  for i in $(seq 50); do
    n=$('"$psql_wl"' "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"'quiesce-writer-postgresql'"'")
    [ "$n" = 0 ] && break; sleep 0.1
  done
  echo "writer sessions in the server: $n"; [ "$n" = 0 ]
  kill -CONT $(cat /run/ckpt-pid)'
vm_wait_progress pg "$n_before" 10 || vm_fail "(f) the workload stopped committing"
vm_log "ok: (f) prepare -> saved-state in $f_ms ms, writer-failed with PostgreSQL's statement timeout; nothing frozen or held"

sd_shutdown

# --- offline: start PostgreSQL on each snapshot --------------------------------
# pg_offline LABEL IMG: the cluster from the snapshot's data disk, started
# with the host's postgres; sets STATE, REDO, REPLAYED (bytes) and prints
# the server's recovery lines.
pg_offline() {
  local dir=$WORK/offline-$1 copy=$WORK/offline-$1.img mnt start done_at i
  mkdir -p "$dir"
  cp --sparse=always "$2" "$copy"
  mnt=$(mktemp -d "$WORK/mnt.XXXXXX")
  mount -o loop "$copy" "$mnt" || vm_fail "($1) mounting the snapshot's data disk"
  cp -a "$mnt/15/main" "$dir/data"
  umount "$mnt"; rm -f "$copy"
  # A restore leaves out the running server's lock file (its pid means
  # nothing here).
  rm -f "$dir/data/postmaster.pid"
  # Debian keeps the configuration in /etc/postgresql: the copy gets a
  # minimal one of its own.
  : >"$dir/data/postgresql.conf"; : >"$dir/data/pg_ident.conf"
  echo "local all all trust" >"$dir/data/pg_hba.conf"
  chown -R nobody:nogroup "$dir"; chmod 0700 "$dir/data"; chmod 0711 "$WORK"
  "$QUIESCE_PG_BINDIR/pg_controldata" "$dir/data" >"$dir/controldata"
  STATE=$(sed -n 's/^Database cluster state: *//p' "$dir/controldata")
  REDO=$(sed -n "s/^Latest checkpoint's REDO location: *//p" "$dir/controldata")
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$QUIESCE_PG_BINDIR/postgres" -D "$dir/data" \
    -p 5497 -c listen_addresses= -c "unix_socket_directories=$dir" >"$dir/server.log" 2>&1 &
  PG_OFFLINE_PID=$!
  for i in $(seq 1200); do
    grep -q "database system is ready to accept connections" "$dir/server.log" && break
    kill -0 "$PG_OFFLINE_PID" 2>/dev/null || break
    sleep 0.1
  done
  grep -E "not properly shut down|redo starts|redo done|redo is not required|ready to accept" "$dir/server.log" |
    sed 's/^/    /' || true
  grep -q "database system is ready to accept connections" "$dir/server.log" ||
    { cat "$dir/server.log"; vm_fail "($1) PostgreSQL did not start on the snapshot"; }
  start=$(sed -n 's/.*redo starts at \([0-9A-F]*\/[0-9A-F]*\).*/\1/p' "$dir/server.log")
  done_at=$(sed -n 's/.*redo done at \([0-9A-F]*\/[0-9A-F]*\).*/\1/p' "$dir/server.log")
  REPLAYED=0
  [ -n "$start" ] && [ -n "$done_at" ] && REPLAYED=$(( $(lsn "$done_at") - $(lsn "$start") ))
  PSQL=(psql -X -h "$dir" -p 5497 -U postgres -d wl -Atc)
}
pg_offline_stop() { kill -INT "$PG_OFFLINE_PID"; wait "$PG_OFFLINE_PID" 2>/dev/null; PG_OFFLINE_PID=; }

# pg_check LABEL MIN_SEQ: rows 1..MIN_SEQ all there, as the workload saw them.
pg_check() {
  local have max
  have=$("${PSQL[@]}" "SELECT count(*) FROM wl WHERE seq <= $2") || { echo "($1) querying the snapshot failed"; return 1; }
  max=$("${PSQL[@]}" "SELECT max(seq) FROM wl")
  [ "$have" = "$2" ] || { echo "($1) rows 1..$2 were reported committed before prepare; the snapshot has $have of them"; return 1; }
  echo "$max"
}

# pg_snapshot MODE BEFORE LSN: the snapshot of the last round of MODE
# started offline and its rows checked; then STATE, REDO, REPLAYED as
# pg_offline set them.
pg_snapshot() {
  local max
  pg_offline "$1" "$WORK/backup-$1-$rounds/pgdata.img"
  max=$(pg_check "$1" "$2") || vm_fail "$max"
  pg_offline_stop
  vm_log "($1) snapshot: state '$STATE', checkpoint REDO $REDO (WAL before the backup $3)," \
         "replayed $REPLAYED bytes, rows 1..$2 present (max $max)"
}

pg_snapshot writer "$W_BEFORE" "$W_LSN"
[ "$(lsn "$REDO")" -ge "$(lsn "$W_LSN")" ] ||
  vm_fail "(writer) the snapshot's checkpoint ($REDO) is older than the WAL written before the backup ($W_LSN)"
[ "$REPLAYED" -lt 1048576 ] || vm_fail "(writer) recovery replayed $REPLAYED bytes, expected < 1 MiB"
W_REPLAYED=$REPLAYED
pg_snapshot nowriter "$N_BEFORE" "$N_LSN"
[ "$(lsn "$REDO")" -lt "$(lsn "$N_LSN")" ] ||
  vm_fail "(nowriter) without the writer the snapshot's checkpoint should predate the bulk write"
[ "$REPLAYED" -ge 8388608 ] || vm_fail "(nowriter) recovery replayed only $REPLAYED bytes, expected >= 8 MiB"
vm_log "ok: recovery of the snapshot replays $W_REPLAYED bytes with the writer, $REPLAYED bytes without"

read -r wp50 wmax wn < <(p50_max "$WORK/lat-writer")
read -r np50 nmax nn < <(p50_max "$WORK/lat-nowriter")
vm_log "commit latency during backups ($rounds per mode, $VM_ACCEL): with the writer p50 $wp50 ms max $wmax ms ($wn commits);" \
       "without p50 $np50 ms max $nmax ms ($nn commits)"
echo "stall writer p50_ms=$wp50 max_ms=$wmax n=$wn; nowriter p50_ms=$np50 max_ms=$nmax n=$nn; accel=$VM_ACCEL rounds=$rounds" \
  >"$shared_state/postgresql-stall.txt"
vm_log "PASS (w) writer snapshot, (n) negative control, (f) checkpoint not in time"
