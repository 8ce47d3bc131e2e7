#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# guest-init.sh — /init of the vm-test guest (busybox sh, PID 1).
#
# Loads the modules listed in /etc/modules.order (deps first, see
# build-guest.sh), makes the /dev/virtio-ports/NAME links that udev makes on a
# real system, then runs the scenario the host put in a second cpio archive
# (/etc/vm/scenario.sh, see tests/vm/lib.sh), which uses the vm_* functions
# below. Without a scenario it just runs the agent. All output goes to the
# serial console, which the host reads as a file: lines starting "vm-" are
# this init's, "committed" lines are the workload's.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs tmpfs /tmp
exec </dev/null >/dev/console 2>&1

say() { echo "vm-init: $*"; }

for m in $(cat /etc/modules.order); do
  insmod "/lib/modules/$m" || say "insmod $m failed"
done

# udev's 50-udev-default.rules job: /dev/virtio-ports/<name> -> /dev/vportNpM.
mkdir -p /dev/virtio-ports
i=0
while [ $i -lt 50 ] && ! ls /sys/class/virtio-ports/vport* >/dev/null 2>&1; do
  sleep 0.1; i=$((i + 1))
done
for p in /sys/class/virtio-ports/vport*; do
  [ -e "$p/name" ] || continue
  name=$(cat "$p/name")
  [ -n "$name" ] && ln -sf "/dev/${p##*/}" "/dev/virtio-ports/$name"
done

# --- functions for scenarios ------------------------------------------------

# vm_disk SERIAL: the /dev node of the virtio disk with that serial (the
# host names each drive by its serial; there is no udev for by-id links).
vm_disk() {
  local i=0 b
  while [ $i -lt 50 ]; do
    for b in /sys/block/vd*; do
      [ "$(cat "$b/serial" 2>/dev/null)" = "$1" ] && { echo "/dev/${b##*/}"; return 0; }
    done
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# vm_mount SERIAL FSTYPE DIR [OPTIONS]: mounts the disk with that serial.
vm_mount() {
  local dev
  dev=$(vm_disk "$1") || { say "FAILED to mount $1: no such disk"; return 1; }
  mkdir -p "$3"
  if mount -t "$2" ${4:+-o "$4"} "$dev" "$3"; then
    say "mounted $1 ($dev, $2) on $3"
  else
    say "FAILED to mount $1 ($dev, $2) on $3"
  fi
}

# vm_workload NAME FILE INTERVAL_MS: the timestamped fsync'ing writer.
vm_workload() {
  vm-workload "$1" "$2" "$3" &
  say "workload $1 on $2 pid $!"
}

# vm_buffered NAME FILE INTERVAL_MS: the same records, written and never
# fsynced ("written" lines): dirty page cache only a freeze's sync (or a
# writeback) puts on disk.
vm_buffered() {
  vm-workload --buffered "$1" "$2" "$3" &
  say "buffered writer $1 on $2 pid $!"
}

# vm_no_writeback: no periodic writeback and nothing expires, so buffered
# data (a few KB/s here, far below the dirty ratios) stays in the page cache
# until a sync — a freeze syncs. The vm tests' negative control relies on it:
# a snapshot taken without a freeze then surely lacks what was written since.
vm_no_writeback() {
  echo 0 >/proc/sys/vm/dirty_writeback_centisecs
  echo 8640000 >/proc/sys/vm/dirty_expire_centisecs
  say "periodic writeback off"
}

# vm_example_writer DB: the example SQLite workload on DB (its "committed
# ID NS STALL_NS" lines renamed to the workload format as "committed db ...")
# and the example socket writer that makes DB consistent for the snapshot,
# when the guest has them (examples/sqlite-writer).
vm_example_writer() {
  command -v quiesce-sqlite-workload >/dev/null || { say "no example writer in this guest"; return 0; }
  (
    quiesce-sqlite-workload --db "$1" --create --interval-ms 50 2>&1 |
      while read -r word id ns stall; do
        if [ "$word" = committed ]; then
          echo "committed db $id $ns $((stall / 1000))"
        else
          echo "sqlite-workload: $word $id $ns $stall"
        fi
      done
  ) &
  say "example sqlite workload on $1"
  local i=0
  while [ ! -s "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  if command -v quiesce-sqlite-writer >/dev/null; then
    quiesce-sqlite-writer --db "$1" &
    say "example sqlite writer on $1 pid $!"
  fi
}

# vm_agent [ARGS]: quiesced, respawned when it exits (like systemd's
# Restart=always), so a SIGKILLed agent comes back and thaws.
vm_agent() {
  (
    while :; do
      say "starting quiesced"
      quiesced "$@"
      say "quiesced exited with status $?"
      sleep 0.2
    done
  ) &
}

# vm_control: serves the host on the org.quiesce.control.0 port, one command
# per line, answering "ok CMD" or "error CMD". The host uses it to act inside
# the guest at a moment it chooses (kill the agent while frozen, ...).
vm_control() {
  local port=/dev/virtio-ports/org.quiesce.control.0
  [ -e $port ] || { say "no control port"; return; }
  (
    exec 3<>$port
    while :; do
      if ! read -r cmd arg <&3; then sleep 0.1; continue; fi
      case $cmd in
        kill-agent) kill -9 $(pidof quiesced) && echo "ok $cmd" >&3 || echo "error $cmd" >&3 ;;
        agent-pid) echo "ok $cmd $(pidof quiesced)" >&3 ;;
        sh) ( exec 3>&-; eval "$arg" ) >/dev/console 2>&1 </dev/null; echo "ok $cmd $?" >&3 ;;
        *) echo "error $cmd unknown" >&3 ;;
      esac
    done
  ) &
}

vm_ready() {
  say "ready uptime $(cut -d' ' -f1 /proc/uptime)"
}

# Resume from hibernation, as initramfs-tools' resume step does, before
# anything uses a disk: the host names the swap disk that may hold an image
# by its serial (vm.resume=SERIAL on the kernel command line). Writing its
# device number to /sys/power/resume makes the kernel load the image and
# jump back into the hibernated system, so this boot's init goes no
# further; with no image there, the write returns and the boot goes on.
# The kernel's info lines (image found, read back) go to the console.
for arg in $(cat /proc/cmdline); do
  case $arg in
    vm.resume=*)
      dev=$(vm_disk "${arg#vm.resume=}") || { say "FAILED to resume: no disk ${arg#vm.resume=}"; continue; }
      say "resuming from $dev ($(cat "/sys/block/${dev#/dev/}/dev"))"
      echo 7 >/proc/sys/kernel/printk
      cat "/sys/block/${dev#/dev/}/dev" >/sys/power/resume
      say "no hibernation image on $dev"
      ;;
  esac
done

if [ -f /etc/vm/scenario.sh ]; then
  . /etc/vm/scenario.sh
else
  vm_agent
  vm_ready
fi

# PID 1 reaps orphans and never exits.
while :; do wait; sleep 1; done
