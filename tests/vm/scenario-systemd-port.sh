#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd guest with the agent port (issue 12 point 9, a, d, e, f; the
# journal for g). One boot of the overlay vm/systemd-noport installed the
# .debs into, with the port org.qemu.guest_agent.0 from the start:
#
#   (a) udev started quiesced.service at boot, READY (active, "thawed");
#       a child-snapshot backup with the host driver while fsynced and
#       buffered writers run on an ext4 and an xfs disk, checked as
#       vm/child-snapshot checks (raw images frozen, buffered records,
#       stall >= the host's frozen window, e2fsck/xfs_repair, records);
#   (d) frozen (guest-fsfreeze-freeze), then: `systemctl stop` thaws before
#       the agent exits; kill -9: systemd restarts it and the successor
#       thaws; SIGSTOP: the watchdog (WatchdogSec=20s, a drop-in of the test)
#       ends it and the successor thaws. Times measured in the guest from the
#       signal to the end of a write the freeze held;
#   (f) with hv-vss-daemon masked (the README's way) an enabled
#       quiesced-hv-vss.service starts when the emulated /dev/vmbus/hv_vss
#       (tests/vm/hv-vss-cuse) appears and answers HOT_BACKUP, then a
#       FREEZE and a THAW under the unit's sandbox (its timing line logged,
#       nothing left frozen); Conflicts= with hv-vss-daemon.service keeps
#       them from both running;
#   (e) apt would remove quiesced to install qemu-guest-agent; with qemu-ga's
#       files unpacked beside quiesced (dpkg-deb -x) the port's add event
#       (udevadm trigger, then unplug and plug twice) starts quiesced and
#       not qemu-ga (99-quiesced.rules replaces qemu-ga's SYSTEMD_WANTS);
#       starting either unit by hand stops the other (Conflicts=);
#   the agent's journal of the backup is handed to vm/systemd-journal (g).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sd-lib.sh"

sd_setup
[ -f "$VM_SD_STATE/root.qcow2" ] || vm_fail "no installed overlay in $VM_SD_STATE (vm/systemd-noport)"
rm -f "$VM_SD_STATE"/journal-*
vm_disk data-ext4 ext4 128
vm_disk data-xfs xfs 320
VM_QEMU_EXTRA=(-chardev "socket,id=hvvss,path=$WORK/hvvss.sock,server=on,wait=off"
               -device virtserialport,bus=vser.0,chardev=hvvss,name=org.quiesce.hvvss-ctl.0)
sd_boot yes

# --- (a) ----------------------------------------------------------------------
sd_expect "(a) udev started quiesced.service at boot: active, READY, thawed" '
  systemctl show -p ActiveState,SubState,StatusText,WantedBy,BindsTo,NRestarts,ExecMainStartTimestampMonotonic quiesced.service
  journalctl -b -u quiesced.service -o short-monotonic --no-pager | head -n 6
  [ "$(systemctl show -p SubState --value quiesced.service)" = running ] &&
  systemctl show -p WantedBy --value quiesced.service | grep -q "virtio.*\\.device" &&
  systemctl show -p StatusText --value quiesced.service | grep -q thawed'
sd_expect "(a) the data disks mounted, writers started" '
  for d in ext4 xfs; do mkdir -p /data/$d; mount -t $d /dev/disk/by-id/virtio-data-$d /data/$d || exit 1; done
  echo 0 >/proc/sys/vm/dirty_writeback_centisecs; echo 8640000 >/proc/sys/vm/dirty_expire_centisecs
  for d in ext4 xfs; do
    systemd-run -q --unit=wl-$d -p StandardOutput=file:/dev/ttyS0 /usr/local/bin/vm-workload $d /data/$d/workload.log 20
    systemd-run -q --unit=wl-$d-buf -p StandardOutput=file:/dev/ttyS0 /usr/local/bin/vm-workload --buffered $d-buf /data/$d/buffered.log 10
  done
  for m in / /data/ext4 /data/xfs; do findmnt -n -o TARGET,SOURCE,FSTYPE,OPTIONS "$m"; done'
writers="ext4 xfs ext4-buf xfs-buf"
for w in $writers; do vm_wait_progress "$w" 10 30 || vm_fail "the workload $w does not write"; done
declare -A before
for w in $writers; do before[$w]=$(vm_committed "$w"); done
vm_backup --hold-frozen 1 >"$WORK/backup.out" 2>&1 || { cat "$WORK/backup.out"; vm_fail "the backup failed"; }
sed 's/^/    /' "$WORK/backup.out" | tail -n 4
[ "$(vm_report method)" = child-snapshot ] || vm_fail "method $(vm_report method), expected child-snapshot"
[ "$(vm_report result)" = consistent ] || vm_fail "result $(vm_report result)"
frozen=$(vm_report frozen)
for m in / /data/ext4 /data/xfs; do
  case " $frozen " in *" $m "*) ;; *) vm_fail "$m not frozen: [$frozen]" ;; esac
done
inner=$(vm_report window-inner-ms)
session=$(vm_report session)
cp "$WORK/report" "$VM_SD_STATE/report"
for w in $writers; do
  vm_wait_progress "$w" "$(vm_committed "$w")" 15 || vm_fail "the workload $w did not resume after post"
done
vm_check_snapshot "$WORK/backup/data-ext4.img" "$WORK/backup/data-xfs.img" "$inner" "the snapshot"
vm_log "ok: (a) child-snapshot backup, session $session, frozen [$frozen], prepare $(vm_report prepare-ms) ms," \
       "frozen >= $inner ms (host), $(vm_report window-guest-ms) ms (agent), total $(vm_report total-ms) ms"
vm_log "    raw snapshot: $q_ext4; $q_xfs; e2fsck -fn and xfs_repair -n pass"
vm_log "    records: ext4 1..${have[ext4]} (>= ${before[ext4]}), xfs 1..${have[xfs]} (>= ${before[xfs]})," \
       "buffered ext4-buf 1..${have[ext4-buf]} (>= ${before[ext4-buf]}), xfs-buf 1..${have[xfs-buf]} (>= ${before[xfs-buf]})"
vm_log "    stall at the snapshot: ext4 ${gap[ext4]}, xfs ${gap[xfs]}, ext4-buf ${gap[ext4-buf]}, xfs-buf ${gap[xfs-buf]} ms >= $inner ms"
sd_sh 'systemctl stop wl-ext4 wl-xfs wl-ext4-buf wl-xfs-buf' >/dev/null

# --- (d) ----------------------------------------------------------------------
# sd_frozen_probe TAG: in the guest, a write into /data/ext4 that the freeze
# holds, its end time in /run/probe-TAG; fails unless it is held.
probe='( echo x >>/data/ext4/probe-TAG; date +%s%N >/run/probe-TAG ) & sleep 1
  [ ! -e /run/probe-TAG ] || { echo "the probe write was not held: not frozen"; exit 1; }'
wait_probe='end=$((SECONDS + 60)); while [ $SECONDS -lt $end ]; do [ -s /run/probe-TAG ] && break; sleep 0.05; done
  [ -s /run/probe-TAG ] || { echo "still frozen 60 s after the signal"; exit 1; }
  t2=$(cat /run/probe-TAG)'
freeze() {
  sd_sh 'end=$((SECONDS + 15)); while [ $SECONDS -lt $end ]; do [ "$(systemctl show -p SubState --value quiesced.service)" = running ] &&
           systemctl show -p StatusText --value quiesced.service | grep -q thawed && exit 0; sleep 0.05; done; exit 1' ||
    vm_fail "(d) quiesced.service is not running and thawed before $1"
  local n
  n=$(vm_agent '{"execute":"guest-fsfreeze-freeze"}') || vm_fail "(d) guest-fsfreeze-freeze failed before $1"
  vm_log "(d) $1: guest-fsfreeze-freeze -> $n filesystems"
}

freeze "systemctl stop"
sd_expect "(d) systemctl stop while frozen: thawed before the agent exited" "${probe//TAG/stop}
  t0=\$(date +%s%N); systemctl stop quiesced.service; t1=\$(date +%s%N)
  ${wait_probe//TAG/stop}
  echo \"stop returned after \$(( (t1 - t0) / 1000000 )) ms; the held write ended \$(( (t2 - t0) / 1000000 )) ms after the stop request\"
  systemctl show -p ExecMainCode,ExecMainStatus,Result quiesced.service | tr '\n' ' '; echo
  journalctl -b -u quiesced.service -o short-monotonic --no-pager | tail -n 6
  [ \$t2 -le \$t1 ] && [ \"\$(systemctl show -p ExecMainStatus --value quiesced.service)\" = 0 ]"
sd_sh 'systemctl start quiesced.service' >/dev/null || vm_fail "(d) systemctl start quiesced failed"

freeze "kill -9"
sd_expect "(d) kill -9 while frozen: restarted, the successor thawed" "${probe//TAG/kill}
  pid=\$(systemctl show -p MainPID --value quiesced.service); n0=\$(systemctl show -p NRestarts --value quiesced.service)
  t0=\$(date +%s%N); kill -9 \$pid
  ${wait_probe//TAG/kill}
  pid2=\$(systemctl show -p MainPID --value quiesced.service); n1=\$(systemctl show -p NRestarts --value quiesced.service)
  echo \"kill -9 \$pid -> successor \$pid2 (NRestarts \$n0 -> \$n1); the held write ended \$(( (t2 - t0) / 1000000 )) ms after the kill\"
  journalctl -b -u quiesced.service -o short-monotonic --no-pager | tail -n 6
  [ \"\$pid2\" != \"\$pid\" ] && [ \$n1 -gt \$n0 ]"

freeze "SIGSTOP"
sd_expect "(d) SIGSTOP while frozen: the watchdog killed it, the successor thawed" "${probe//TAG/stopsig}
  pid=\$(systemctl show -p MainPID --value quiesced.service)
  echo \"WatchdogUSec=\$(systemctl show -p WatchdogUSec --value quiesced.service)\"
  t0=\$(date +%s%N); kill -STOP \$pid
  ${wait_probe//TAG/stopsig}
  pid2=\$(systemctl show -p MainPID --value quiesced.service)
  echo \"SIGSTOP \$pid -> successor \$pid2; the held write ended \$(( (t2 - t0) / 1000000 )) ms after SIGSTOP\"
  journalctl -b -u quiesced.service -o short-monotonic --no-pager | grep -iE 'watchdog|signal|start|thaw|recover' | tail -n 8
  [ \"\$pid2\" != \"\$pid\" ] && journalctl -b -u quiesced.service --no-pager | grep -q 'Watchdog timeout'"

# --- (f) ----------------------------------------------------------------------
if [ -x "${VM_HV_VSS_CUSE:-}" ]; then
  # The emulated device is a CUSE one (class cuse, not misc): the test's rule
  # gives it the systemd tag 99-quiesced-hv-vss.rules gives the real misc
  # device, and hv-vss-daemon.service is bound to its device unit instead of
  # the misc one (a copy in /run/systemd/system; Debian's binds to
  # sys-devices-virtual-misc-vmbus\x21hv_vss.device). hyperv-daemons' own
  # rule (60-hyperv-daemons.rules, KERNEL=="vmbus/hv_vss", no SUBSYSTEM)
  # matches the CUSE device too and wants hv-vss-daemon when it appears,
  # hence the README's mask.
  sd_expect "(f) as the README says: hv-vss-daemon masked, quiesced-hv-vss.service enabled; quiesced.service stopped (one agent per state dir)" '
    systemctl stop quiesced.service hv-vss-daemon.service
    systemctl mask hv-vss-daemon.service 2>&1
    systemctl enable quiesced-hv-vss.service 2>&1
    echo "SUBSYSTEM==\"cuse\", KERNEL==\"vmbus/hv_vss\", TAG+=\"systemd\"" >/etc/udev/rules.d/98-vm-cuse-hv-vss.rules
    mkdir -p /run/systemd/system
    sed "s|^BindsTo=.*|BindsTo=dev-vmbus-hv_vss.device|" /lib/systemd/system/hv-vss-daemon.service >/run/systemd/system/hv-vss-daemon.service
    udevadm control --reload; systemctl daemon-reload; modprobe cuse
    systemctl -q is-active quiesced-hv-vss.service && { echo "active before the device"; exit 1; }
    echo "before the device: quiesced-hv-vss $(systemctl is-active quiesced-hv-vss.service), hv-vss-daemon $(systemctl is-active hv-vss-daemon.service)"'
  sd_expect "(f) the device appears: quiesced-hv-vss.service starts, hv-vss-daemon does not" '
    t0=$(date +%s%N)
    systemd-run -q --unit=hv-vss-cuse /usr/local/bin/hv-vss-cuse --control /dev/virtio-ports/org.quiesce.hvvss-ctl.0
    end=$((SECONDS + 20)); while [ $SECONDS -lt $end ]; do systemctl -q is-active quiesced-hv-vss.service && break; sleep 0.05; done
    t1=$(date +%s%N); sleep 1
    q=$(systemctl is-active quiesced-hv-vss.service); h=$(systemctl is-active hv-vss-daemon.service)
    echo "device $(ls -l /dev/vmbus/hv_vss 2>&1): quiesced-hv-vss $q after $(( (t1 - t0) / 1000000 )) ms, hv-vss-daemon $h"
    systemctl show -p SubState,StatusText,WantedBy quiesced-hv-vss.service
    [ "$q $h" = "active inactive" ] ||
      { journalctl -b -u quiesced-hv-vss -u hv-vss-cuse -u hv-vss-daemon --no-pager | tail -n 25; exit 1; }'
  vm_port_open hvvss
  vm_port_ask hvvss 10 "wait-registered 10000"
  vm_log "(f) hvvss control: wait-registered -> $VM_PORT_REPLY"
  [ "$VM_PORT_REPLY" = registered ] || vm_fail "(f) quiesced-hv-vss did not register on the device"
  vm_port_ask hvvss 30 "send HOT_BACKUP"
  vm_log "(f) hvvss control: send HOT_BACKUP -> $VM_PORT_REPLY"
  case $VM_PORT_REPLY in "reply HOT_BACKUP 00000000 daemon "*) ;; *) vm_fail "(f) HOT_BACKUP: $VM_PORT_REPLY" ;; esac
  # A freeze and thaw under the unit's sandbox: its timing line says
  # whether the main thread was raised (not here: RestrictRealtime=yes
  # refuses SCHED_RESET_ON_FORK, docs/internals.md "Freeze speed"): logged,
  # not asserted; the freeze, the thaw and nothing left frozen are.
  vm_port_ask hvvss 120 "send FREEZE"
  vm_log "(f) hvvss control: send FREEZE -> $VM_PORT_REPLY"
  case $VM_PORT_REPLY in "reply FREEZE 00000000 daemon "*) ;; *) vm_fail "(f) FREEZE: $VM_PORT_REPLY" ;; esac
  vm_port_ask hvvss 60 "send THAW"
  vm_log "(f) hvvss control: send THAW -> $VM_PORT_REPLY"
  case $VM_PORT_REPLY in "reply THAW 00000000 daemon "*) ;; *) vm_fail "(f) THAW: $VM_PORT_REPLY" ;; esac
  # The agent writes its held lines once the reply is out: wait for them.
  # The write probe runs on its own stdio, in the background: a write into
  # a frozen filesystem would not end, and vm-control waits for the output.
  sd_expect "(f) quiesced-hv-vss froze and thawed; nothing is left frozen" '
    end=$((SECONDS + 10)); while [ $SECONDS -lt $end ]; do
      journalctl -b -u quiesced-hv-vss.service -o cat --no-pager | grep -qE "thawed [1-9][0-9]* filesystem" && break
      sleep 0.2
    done
    journalctl -b -u quiesced-hv-vss.service -o cat --no-pager | grep -E "(froze [0-9]+ filesystem.s.: probe|thawed [0-9]+ filesystem.s.: FITHAW)" | tail -n 2
    rm -f /run/vm-f-probe
    ( echo x >/root/.vm-f-probe && sync -f /root/.vm-f-probe && touch /run/vm-f-probe ) </dev/null >/dev/null 2>&1 &
    end=$((SECONDS + 10)); while [ $SECONDS -lt $end ] && [ ! -e /run/vm-f-probe ]; do sleep 0.1; done
    [ -e /run/vm-f-probe ] || { echo "/ still frozen: a write did not end in 10 s"; exit 1; }
    journalctl -b -u quiesced-hv-vss.service -o cat --no-pager | grep -qE "thawed [1-9][0-9]* filesystem"'
  # Conflicts= is listed; what starting each by hand does is recorded. Only
  # "never both running" is asserted: starting hv-vss-daemon, BindsTo= the
  # device, also queues the device's Wants= (the enabled quiesced-hv-vss),
  # which cancels the Conflicts= stop of quiesced-hv-vss, and hv_vss_daemon
  # then fails on the held device with EBUSY (docs/testing.md §8).
  sd_expect "(f) Conflicts=hv-vss-daemon.service: never both running" '
    echo "quiesced-hv-vss Conflicts=$(systemctl show -p Conflicts --value quiesced-hv-vss.service)"
    systemctl unmask -q hv-vss-daemon.service
    systemctl start hv-vss-daemon.service; sleep 1
    a=$(systemctl is-active quiesced-hv-vss.service); b=$(systemctl is-active hv-vss-daemon.service)
    echo "start hv-vss-daemon: quiesced-hv-vss $a, hv-vss-daemon $b"
    journalctl -b -u hv-vss-daemon --no-pager -o cat | grep -m1 -i "open /dev/vmbus/hv_vss" || true
    systemctl start quiesced-hv-vss.service; sleep 1
    c=$(systemctl is-active quiesced-hv-vss.service); d=$(systemctl is-active hv-vss-daemon.service)
    echo "start quiesced-hv-vss: quiesced-hv-vss $c, hv-vss-daemon $d"
    [ "$a $b" != "active active" ] && [ "$c $d" != "active active" ] && [ "$c" = active ]'
  sd_sh 'systemctl stop quiesced-hv-vss.service hv-vss-cuse.service; systemctl disable -q quiesced-hv-vss.service' >/dev/null
else
  vm_log "(f) not run: hv-vss-cuse is not built (libfuse3-dev)"
fi

# --- (e) ----------------------------------------------------------------------
sd_expect "(e) apt refuses qemu-guest-agent beside quiesced: it would remove quiesced" '
  apt-get install -s /root/extra-debs/qemu-guest-agent_*.deb 2>&1 | grep -E -A1 "REMOVED|^Remv|^Inst" | head -n 6
  apt-get install -s /root/extra-debs/qemu-guest-agent_*.deb 2>&1 | grep -q "^Remv quiesced"'
# Unpacked into a directory and copied: `dpkg-deb -x DEB /` would replace
# merged-/usr's /lib symlink by the package's ./lib/ directory and take the
# dynamic loader with it (docs/testing.md §8).
sd_expect "(e) qemu-ga unpacked too (dpkg-deb -x): the port's add event starts quiesced only" '
  dpkg-deb -x /root/extra-debs/qemu-guest-agent_*.deb /run/qga
  cp /run/qga/usr/sbin/qemu-ga /usr/sbin/
  cp /run/qga/lib/systemd/system/qemu-guest-agent.service /lib/systemd/system/
  cp /run/qga/lib/udev/rules.d/60-qemu-guest-agent.rules /lib/udev/rules.d/
  grep -h SYSTEMD_WANTS /lib/udev/rules.d/60-qemu-guest-agent.rules /lib/udev/rules.d/99-quiesced.rules
  systemctl daemon-reload; udevadm control --reload
  systemctl start quiesced.service
  vport=$(grep -l "^org.qemu.guest_agent.0$" /sys/class/virtio-ports/*/name); vport=${vport%/name}
  udevadm trigger --action=add --settle "$vport"; sleep 2
  udevadm info /dev/virtio-ports/org.qemu.guest_agent.0 | grep SYSTEMD_WANTS
  q=$(systemctl is-active quiesced.service); g=$(systemctl is-active qemu-guest-agent.service)
  echo "after the add event: quiesced $q, qemu-guest-agent $g"
  [ "$q $g" = "active inactive" ]'
# And at a real unplug and plug of the port, twice.
for round in 1 2; do
  sd_port_unplug || vm_fail "(e) device_del failed"
  sd_port_plug || vm_fail "(e) device_add failed"
  sd_expect "(e) both installed, port plugged again ($round): quiesced holds it, qemu-ga is not running" '
    end=$((SECONDS + 15)); while [ $SECONDS -lt $end ]; do systemctl -q is-active quiesced.service && break; sleep 0.05; done; sleep 1
    q=$(systemctl is-active quiesced.service); g=$(systemctl is-active qemu-guest-agent.service)
    echo "quiesced $q, qemu-guest-agent $g"
    [ "$q $g" = "active inactive" ]'
done
info=$(vm_agent '{"execute":"guest-info"}') || vm_fail "(e) no agent answers on the port"
vm_log "(e) guest-info on the port: $(printf '%s' "$info" | grep -o '"version": *"[^"]*"' | head -n 1)" \
       "(quiesced $(sd_sh 'quiesced --version'), qemu-ga $(sd_sh '/usr/sbin/qemu-ga --version | head -n 1'))"
sd_expect "(e) Conflicts=: starting qemu-guest-agent stops quiesced, and back" '
  systemctl start qemu-guest-agent.service; sleep 1
  a=$(systemctl is-active quiesced.service); b=$(systemctl is-active qemu-guest-agent.service)
  echo "start qemu-guest-agent: quiesced $a, qemu-guest-agent $b"
  systemctl start quiesced.service; sleep 1
  c=$(systemctl is-active quiesced.service); d=$(systemctl is-active qemu-guest-agent.service)
  echo "start quiesced: quiesced $c, qemu-guest-agent $d"
  [ "$a $b $c $d" = "inactive active active inactive" ]'

# --- the journal for (g) --------------------------------------------------------
sd_sh "journalctl -b -o json --no-pager QUIESCE_SESSION=$session" >"$VM_SD_STATE/journal-session.json" || true
sd_sh 'journalctl -b -o json --no-pager _SYSTEMD_UNIT=quiesced.service' >"$VM_SD_STATE/journal-quiesced.json" ||
  vm_fail "exporting the agent's journal failed"
vm_log "journal handed to vm/systemd-journal: $(wc -l <"$VM_SD_STATE/journal-quiesced.json") lines of quiesced.service," \
       "$(wc -l <"$VM_SD_STATE/journal-session.json") with QUIESCE_SESSION=$session"
sd_shutdown
vm_log "PASS (a) (d) (e) (f)"
