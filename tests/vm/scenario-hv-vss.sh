#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Hyper-V channel in a real guest (issue 6 item 4): /dev/vmbus/hv_vss is
# emulated with CUSE (tests/vm/hv-vss-cuse, the kernel's driver modelled on
# drivers/hv/hv_snapshot.c) and the host plays Hyper-V's part through the
# control port org.quiesce.hvvss-ctl.0 (vss-control.h): HOT_BACKUP, FREEZE,
# a QMP point-in-time copy of the data disks, THAW. One boot, two daemons,
# one after the other on the same device:
#
#   quiesced --channel hv-vss
#     (i)   backup: HOT_BACKUP and FREEZE answer S_OK, both data disks are
#           frozen (a write into each does not finish), the copy taken while
#           frozen passes e2fsck -fn / xfs_repair -n and holds whole records,
#           THAW answers S_OK and nothing stays frozen;
#     (ii)  a written vfat disk: HOT_BACKUP (and FREEZE) answer E_FAIL,
#           nothing frozen;
#     (iii) a writer hangs in freeze: FREEZE answers E_FAIL at the writer
#           timeout, nothing frozen, the writer killed;
#     (iv)  no THAW: the watchdog thaws by the freeze window (3 s here), and
#           the host's late THAW is answered E_FAIL (discard the snapshot);
#     (v)   the kernel times a FREEZE out (1 ms here): the host gets E_FAIL,
#           the late reply is refused, the daemon thaws and registers again;
#     plus the device's single holder: hv_vss_daemon cannot open it.
#   Debian's hv_vss_daemon -n (the reference, from the host's hyperv-daemons)
#     the same (i), (ii), (iv) and (v), and quiesced cannot open the device; what it does is recorded, not judged,
#     except that the guest must end thawed (THAW, else fsfreeze -u).
# Prints both side by side. Nothing on the host is frozen: the freezes happen
# in the guest, the copies are image files checked as lib.sh does.
. "$(dirname "$0")/lib.sh"

hv_vss_daemon=/usr/sbin/hv_vss_daemon
[ -x "$hv_vss_daemon" ] ||
  vm_fail "hv_vss_daemon is not installed (package hyperv-daemons, scripts/install-deps.sh)"
[ -x "${VM_HV_VSS_CUSE:-}" ] || vm_fail "\$VM_HV_VSS_CUSE must name the built hv-vss-cuse (run through ctest)"
VM_EXTRA_BINS="$VM_HV_VSS_CUSE $hv_vss_daemon ${VM_EXTRA_BINS:-}"
window=3
writer_timeout=3
vm_setup
vm_disk data-ext4 ext4 128
vm_disk data-xfs xfs 320
vm_disk data-vfat vfat 64
VM_QEMU_EXTRA=(-chardev "socket,id=hvvss,path=$WORK/hvvss.sock,server=on,wait=off"
               -device virtserialport,chardev=hvvss,name=org.quiesce.hvvss-ctl.0)
vm_config <<EOF
[freeze]
window=30

[writers]
timeout=$writer_timeout
EOF
vm_guest_file /etc/quiesce/writers.d/50-maybe-hang 0755 <<'EOF'
#!/bin/sh
# Hangs in its freeze phase while /run/hang-writer exists.
if [ "$1" = freeze ] && [ -e /run/hang-writer ]; then
  echo "50-maybe-hang: hanging in freeze"
  exec sleep 1000
fi
exit 0
EOF
vm_scenario <<'EOF'
vm_mount data-ext4 ext4 /data/ext4
vm_mount data-xfs xfs /data/xfs
vm_workload ext4 /data/ext4/workload.log 20
vm_workload xfs /data/xfs/workload.log 20
hv-vss-cuse --control /dev/virtio-ports/org.quiesce.hvvss-ctl.0 &
i=0
while [ ! -c /dev/vmbus/hv_vss ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -c /dev/vmbus/hv_vss ] && say "hv_vss device $(ls -l /dev/vmbus/hv_vss)" || say "no /dev/vmbus/hv_vss"

# The daemon under test, started and stopped by the host (control "sh").
hv_start() {
  "$@" </dev/null >/dev/console 2>&1 &
  echo $! >/run/hv-daemon.pid
  say "started $* pid $!"
}
# Not our child (the control handler's subshell started it): a zombie
# counts as gone.
hv_alive() { [ -e /proc/$1/stat ] && ! grep -q '^[0-9]* ([^)]*) Z' /proc/$1/stat 2>/dev/null; }
hv_stop() {
  local pid i=0
  pid=$(cat /run/hv-daemon.pid) || return 1
  kill "$pid" 2>/dev/null
  while hv_alive "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  rm -f /run/hv-daemon.pid
  ! hv_alive "$pid"
}
# probe_frozen DIR...: exit status with bit I set when the I-th DIR is
# frozen: an appending write into it has not finished after 1 s (it does
# after the thaw). The markers are on /run, which is never frozen.
probe_frozen() {
  local i=0 mask=0 d
  rm -f /run/probe.*
  for d in "$@"; do
    if grep -q " $d " /proc/mounts; then
      ( echo probe >>"$d/.hvvss-probe" && : >/run/probe.$i ) &
    else
      : >/run/probe.$i
    fi
    i=$((i + 1))
  done
  sleep 1
  i=0
  for d in "$@"; do
    [ -e /run/probe.$i ] || mask=$((mask | (1 << i)))
    i=$((i + 1))
  done
  return $mask
}
vm_control
vm_ready
EOF
vm_boot
vm_wait_progress ext4 5 30 && vm_wait_progress xfs 5 30 || vm_fail "the workload does not write"
vm_guest_sh '[ -c /dev/vmbus/hv_vss ]' || vm_fail "no /dev/vmbus/hv_vss in the guest (CUSE)"
vm_port_open hvvss

probe_dirs=(/data/ext4 /data/xfs /data/vfat)

# frozen_set: the probe_dirs frozen now, space-separated ("none" if none).
frozen_set() {
  vm_control sh "probe_frozen ${probe_dirs[*]}" || vm_fail "probe: $VM_CTL_REPLY"
  local mask=${VM_CTL_REPLY##* } i out=()
  for i in "${!probe_dirs[@]}"; do
    (( mask & (1 << i) )) && out+=("${probe_dirs[$i]}")
  done
  FROZEN=${out[*]:-none}
}

# hv OP [TIMEOUT_MS]: one host request; sets STATUS (8 hex digits), BY,
# ANSWER_MS (integer).
hv() {
  vm_port_ask hvvss 960 "send $*"
  vm_log "host: $* -> $VM_PORT_REPLY"
  local word op by read ms
  read -r word op STATUS by read ms <<<"$VM_PORT_REPLY"
  [ "$word" = reply ] || vm_fail "send $*: $VM_PORT_REPLY"
  BY=$by
  ANSWER_MS=${ms%.*}
}
expect() { # STATUS BY WHAT
  [ "$STATUS" = "$1" ] && [ "$BY" = "$2" ] || vm_fail "$3: got $STATUS by $BY, expected $1 by $2"
}
wait_registered() {
  vm_port_ask hvvss 40 "wait-registered 30000"
  [ "$VM_PORT_REPLY" = registered ] || vm_fail "$1 did not register with the device: $VM_PORT_REPLY"
}
status_field() { # KEY: from the device's status line
  vm_port_ask hvvss 10 status
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$VM_PORT_REPLY"
}

# snapshot TAG: a point-in-time copy of both data disks in one QMP
# transaction (drive-backup sync=full: the copy is the disks as of the
# transaction, whatever the guest writes afterwards), like a host's
# checkpoint. Sets SNAP_MS; wait_snapshot waits until the copies are done.
snapshot() {
  local t0 out
  t0=$(vm_now_ms)
  out=$(vm_qmp "{\"execute\":\"transaction\",\"arguments\":{\"actions\":[
    {\"type\":\"drive-backup\",\"data\":{\"device\":\"data-ext4\",\"job-id\":\"$1-ext4\",\"sync\":\"full\",\"format\":\"raw\",\"target\":\"$WORK/$1-ext4.img\"}},
    {\"type\":\"drive-backup\",\"data\":{\"device\":\"data-xfs\",\"job-id\":\"$1-xfs\",\"sync\":\"full\",\"format\":\"raw\",\"target\":\"$WORK/$1-xfs.img\"}}]}}") ||
    vm_fail "snapshot transaction: $out"
  SNAP_MS=$(( $(vm_now_ms) - t0 ))
}
wait_snapshot() {
  local i out
  for i in $(seq 600); do
    out=$(vm_qmp '{"execute":"query-block-jobs"}') || vm_fail "query-block-jobs: $out"
    [ "$out" = "[]" ] && return 0
    sleep 0.1
  done
  vm_fail "the snapshot copies did not finish: $out"
}
# check_snapshot TAG MIN_EXT4 MIN_XFS: fsck and whole records; sets SNAP_OK
# ("yes" or what failed) and SNAP_RECORDS.
check_snapshot() {
  SNAP_OK=yes
  vm_fsck "$WORK/$1-ext4.img" ext4 >"$WORK/$1-fsck.log" 2>&1 || { SNAP_OK="e2fsck -fn failed"; return; }
  vm_fsck "$WORK/$1-xfs.img" xfs >"$WORK/$1-fsck.log" 2>&1 || { SNAP_OK="xfs_repair -n failed"; return; }
  vm_extract "$WORK/$1-ext4.img" ext4 "$WORK/$1-snap-ext4" && vm_extract "$WORK/$1-xfs.img" xfs "$WORK/$1-snap-xfs" ||
    { SNAP_OK="cannot read the copy"; return; }
  local a b
  a=$(vm_check_workload "$WORK/$1-snap-ext4/workload.log" ext4 "$2" whole) || { SNAP_OK="ext4: $a"; return; }
  b=$(vm_check_workload "$WORK/$1-snap-xfs/workload.log" xfs "$3" whole) || { SNAP_OK="xfs: $b"; return; }
  SNAP_RECORDS="ext4 1..$a, xfs 1..$b"
  rm -f "$WORK/$1-ext4.img" "$WORK/$1-xfs.img"
  rm -rf "$WORK/$1-snap-ext4" "$WORK/$1-snap-xfs"
}

# backup NAME: (i) for one daemon; results in R_NAME_* variables.
backup() {
  local who=$1 c_ext4 c_xfs offset
  hv HOT_BACKUP
  eval "R_${who}_check=\"$STATUS $BY ${ANSWER_MS}ms\""
  [ "$who" = quiesced ] && expect 00000000 daemon "quiesced: HOT_BACKUP on an eligible guest"
  c_ext4=$(vm_committed ext4)
  c_xfs=$(vm_committed xfs)
  offset=$(vm_console_size)
  hv FREEZE
  local freeze="$STATUS $BY ${ANSWER_MS}ms"
  [ "$who" = quiesced ] && expect 00000000 daemon "quiesced: FREEZE"
  snapshot "$who"
  frozen_set
  local frozen=$FROZEN
  [ "$who" = quiesced ] && [ "$frozen" != "/data/ext4 /data/xfs" ] &&
    vm_fail "quiesced: frozen after FREEZE: [$frozen], expected /data/ext4 /data/xfs"
  hv THAW
  local thaw="$STATUS $BY ${ANSWER_MS}ms"
  [ "$who" = quiesced ] && expect 00000000 daemon "quiesced: THAW"
  frozen_set
  [ "$FROZEN" = none ] || vm_fail "$who: still frozen after THAW: $FROZEN"
  vm_wait_progress ext4 "$(vm_committed ext4)" 15 && vm_wait_progress xfs "$(vm_committed xfs)" 15 ||
    vm_fail "$who: the workload did not resume after THAW"
  wait_snapshot
  check_snapshot "$who" "$c_ext4" "$c_xfs"
  [ "$who" = quiesced ] && [ "$SNAP_OK" != yes ] && vm_fail "quiesced: the copy taken while frozen: $SNAP_OK"
  eval "R_${who}_freeze=\"$freeze\" R_${who}_frozen=\"$frozen\" R_${who}_thaw=\"$thaw\""
  eval "R_${who}_snapshot=\"$SNAP_OK (copy started in ${SNAP_MS}ms)\""
  eval "R_${who}_stall=\"ext4 $(vm_max_latency_ms ext4 "$offset")ms, xfs $(vm_max_latency_ms xfs "$offset")ms\""
  vm_log "$who (i): froze [$frozen]; copy: $SNAP_OK${SNAP_RECORDS:+ ($SNAP_RECORDS)}"
}

# ineligible NAME: (ii) with a written vfat disk mounted.
ineligible() {
  local who=$1
  vm_guest_sh 'vm_mount data-vfat vfat /data/vfat && echo data >/data/vfat/file && sync' ||
    vm_fail "mounting the vfat disk"
  hv HOT_BACKUP
  local check="$STATUS $BY"
  [ "$who" = quiesced ] && expect 80004005 daemon "quiesced: HOT_BACKUP with a written vfat disk"
  hv FREEZE
  local freeze="$STATUS $BY"
  [ "$who" = quiesced ] && expect 80004005 daemon "quiesced: FREEZE with a written vfat disk"
  frozen_set
  local frozen=$FROZEN
  [ "$who" = quiesced ] && [ "$frozen" != none ] && vm_fail "quiesced: frozen after a refused FREEZE: $frozen"
  if [ "$frozen" != none ]; then
    hv THAW
    frozen_set
    [ "$FROZEN" = none ] || vm_fail "$who: still frozen after THAW: $FROZEN"
  fi
  vm_guest_sh 'umount /data/vfat' || vm_fail "unmounting the vfat disk"
  eval "R_${who}_inel=\"HOT_BACKUP $check, FREEZE $freeze\" R_${who}_inel_frozen=\"$frozen\""
}

# timed_out NAME: (v) the kernel gives up on a FREEZE (its 900 s, 1 ms
# here) before the daemon answers: the host gets E_FAIL from the kernel, the
# daemon's late reply is refused (EINVAL), and it must thaw and register
# again on its own.
timed_out() {
  local who=$1 late0 late i
  late0=$(status_field late-rejected)
  hv FREEZE 1
  expect 80004005 timeout "$who: FREEZE with a 1 ms kernel timeout"
  for i in $(seq 100); do
    late=$(status_field late-rejected)
    [ "$late" -gt "$late0" ] && break
    sleep 0.2
  done
  [ "$late" -gt "$late0" ] || vm_fail "$who: no late reply reached the device in 20 s"
  wait_registered "$who (again)"
  frozen_set
  [ "$who" = quiesced ] && [ "$FROZEN" != none ] && vm_fail "quiesced: frozen after its FREEZE reply was refused: $FROZEN"
  local left=$FROZEN
  if [ "$left" != none ]; then
    vm_control sh "for d in $left; do fsfreeze -u \$d; done" || true
    frozen_set
    [ "$FROZEN" = none ] || vm_fail "$who: $FROZEN still frozen after fsfreeze -u"
  fi
  hv HOT_BACKUP
  [ "$who" = quiesced ] && expect 00000000 daemon "quiesced: HOT_BACKUP after registering again"
  eval "R_${who}_timeout=\"reply refused; registered again; frozen: $left\""
}

# no_thaw NAME: (iv) FREEZE, then no THAW for window + 3 s.
no_thaw() {
  local who=$1 t0 i thawed_ms=never console
  console=$(vm_console_size)
  hv FREEZE
  [ "$who" = quiesced ] && expect 00000000 daemon "quiesced: FREEZE (iv)"
  t0=$(vm_now_ms)
  frozen_set
  local frozen=$FROZEN
  [ "$who" = quiesced ] && [ "$frozen" = none ] && vm_fail "quiesced: nothing frozen after FREEZE (iv)"
  # quiesced says when its watchdog thawed (its log is held while frozen
  # and written after the thaw).
  for i in $(seq $(( (window + 3) * 10 ))); do
    if tail -c +"$((console + 1))" "$WORK/console.log" | grep -q 'freeze window of .* expired'; then
      thawed_ms=$(( $(vm_now_ms) - t0 )); break
    fi
    sleep 0.1
  done
  [ $(( $(vm_now_ms) - t0 )) -ge $(( (window + 3) * 1000 )) ] || sleep $(( window + 3 - ($(vm_now_ms) - t0) / 1000 ))
  frozen_set
  local left=$FROZEN
  if [ "$who" = quiesced ]; then
    [ "$thawed_ms" != never ] || vm_fail "quiesced: no watchdog thaw within $((window + 3)) s"
    [ "$left" = none ] || vm_fail "quiesced: still frozen $((window + 3)) s after FREEZE: $left"
    [ "$thawed_ms" -le $(( (window + 2) * 1000 )) ] ||
      vm_fail "quiesced: the watchdog thawed after $thawed_ms ms with a $window s window"
  fi
  hv THAW
  local late="$STATUS $BY"
  [ "$who" = quiesced ] && expect 80004005 daemon "quiesced: the late THAW after the watchdog's thaw"
  frozen_set
  local cleanup="THAW"
  if [ "$FROZEN" != none ]; then
    cleanup="fsfreeze -u"
    vm_control sh "for d in $FROZEN; do fsfreeze -u \$d; done" || true
    frozen_set
    [ "$FROZEN" = none ] || vm_fail "$who: $FROZEN still frozen after fsfreeze -u"
  fi
  eval "R_${who}_left=\"$left\" R_${who}_thawed=\"$thawed_ms\" R_${who}_late=\"$late\" R_${who}_cleanup=\"$cleanup\" R_${who}_frozen4=\"$frozen\""
}

t_start=$(vm_now_ms)
# --- quiesced ----------------------------------------------------------------
vm_guest_sh 'hv_start quiesced --channel hv-vss' || vm_fail "starting quiesced"
wait_registered quiesced
[ "$(status_field open)" = 1 ] || vm_fail "the device is not held: $VM_PORT_REPLY"
# One holder: hv_vss_daemon's open fails (EBUSY) and it exits.
vm_guest_sh '! hv_vss_daemon -n' || vm_fail "hv_vss_daemon opened the device quiesced holds"
backup quiesced
ineligible quiesced
# (iii) a hung writer.
vm_guest_sh 'touch /run/hang-writer' || vm_fail "touch /run/hang-writer"
hv FREEZE
expect 80004005 daemon "quiesced: FREEZE with a hung writer"
hung_ms=$ANSWER_MS
[ "$hung_ms" -ge $((writer_timeout * 1000 - 500)) ] && [ "$hung_ms" -le $((writer_timeout * 1000 + 10000)) ] ||
  vm_fail "quiesced: FREEZE with a hung writer answered after $hung_ms ms (writer timeout $writer_timeout s)"
frozen_set
[ "$FROZEN" = none ] || vm_fail "quiesced: frozen after the hung writer's FREEZE: $FROZEN"
vm_guest_sh '! ps | grep -v grep | grep -q "sleep 1000"' || vm_fail "the hung writer is still running"
vm_guest_sh 'rm -f /run/hang-writer' || vm_fail "rm /run/hang-writer"
timed_out quiesced
# (iv) with a short window.
vm_guest_sh "hv_stop && hv_start quiesced --channel hv-vss --freeze-window $window" ||
  vm_fail "restarting quiesced"
wait_registered quiesced
no_thaw quiesced
vm_guest_sh 'hv_stop' || vm_fail "quiesced did not stop"
t_quiesced=$(( $(vm_now_ms) - t_start ))

# --- hv_vss_daemon -------------------------------------------------------------
t_start=$(vm_now_ms)
vm_port_ask hvvss 10 "wait-registered 5000"
[ "$VM_PORT_REPLY" = "error not-registered" ] || vm_fail "the device still registered after quiesced stopped"
vm_guest_sh 'hv_start hv_vss_daemon -n' || vm_fail "starting hv_vss_daemon"
wait_registered hv_vss_daemon
# The other way round: quiesced refuses to start, naming the unit to stop.
vm_guest_sh '! quiesced --channel hv-vss' || vm_fail "quiesced opened the device hv_vss_daemon holds"
vm_wait_console 'another VSS daemon holds the device' 5 ||
  vm_fail "quiesced's EBUSY error does not say another VSS daemon holds the device"
backup hv_vss_daemon
ineligible hv_vss_daemon
timed_out hv_vss_daemon
no_thaw hv_vss_daemon
vm_guest_sh 'hv_stop' || vm_fail "hv_vss_daemon did not stop"
t_daemon=$(( $(vm_now_ms) - t_start ))
late=$(status_field late-rejected)
vm_stop

row() { printf '  %-25s %-50s %s\n' "$1" "$2" "$3"; }
echo "vm[$VM_NAME]: PASS quiesced on an emulated /dev/vmbus/hv_vss, and Debian's hv_vss_daemon beside it ($VM_ACCEL)"
row "" "quiesced --channel hv-vss" "hv_vss_daemon -n"
row "HOT_BACKUP (eligible)" "$R_quiesced_check" "$R_hv_vss_daemon_check"
row "FREEZE" "$R_quiesced_freeze" "$R_hv_vss_daemon_freeze"
row "frozen after FREEZE" "$R_quiesced_frozen" "$R_hv_vss_daemon_frozen"
row "copy taken while frozen" "$R_quiesced_snapshot" "$R_hv_vss_daemon_snapshot"
row "THAW" "$R_quiesced_thaw" "$R_hv_vss_daemon_thaw"
row "workload stall (+probe)" "$R_quiesced_stall" "$R_hv_vss_daemon_stall"
row "written vfat disk" "$R_quiesced_inel" "$R_hv_vss_daemon_inel"
row "  frozen" "$R_quiesced_inel_frozen" "$R_hv_vss_daemon_inel_frozen"
row "hung writer" "FREEZE 80004005 daemon ${hung_ms}ms; frozen: none" "n/a (runs no writers)"
row "kernel times FREEZE out" "$R_quiesced_timeout" "$R_hv_vss_daemon_timeout"
row "device already held" "hv_vss_daemon exits (EBUSY)" "quiesced exits (EBUSY), names the unit"
row "no THAW ($window s window)" "$R_quiesced_frozen4" "$R_hv_vss_daemon_frozen4"
row "  frozen $((window + 3)) s later" "$R_quiesced_left (watchdog thaw seen at ${R_quiesced_thawed}ms)" "$R_hv_vss_daemon_left"
row "  late THAW" "$R_quiesced_late" "$R_hv_vss_daemon_late"
row "  guest cleaned by" "$R_quiesced_cleanup" "$R_hv_vss_daemon_cleanup"
row "sub-cases took" "${t_quiesced}ms" "${t_daemon}ms"
echo "  (status 00000000 = HV_S_OK, 80004005 = HV_E_FAIL; times measured in the guest by the emulated device; late replies refused by the device: $late)"
