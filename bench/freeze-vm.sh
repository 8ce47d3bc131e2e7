#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Side-by-side freeze benchmark in a QEMU guest: quiesced and Debian's qemu-ga
# (copied from the host's qemu-guest-agent package) on two virtio-serial
# ports of one guest with an ext4 and an xfs data disk that two workloads keep
# writing to. bench/qga-bench.c --freeze drives N rounds of
# guest-fsfreeze-freeze + guest-fsfreeze-thaw on each agent in turn (never
# both frozen at once) and prints p50/p99/max per agent, measured on the host
# at the chardev socket. Freezes happen only inside the guest (tests/vm/lib.sh).
# Then M commands Proxmox style on each agent, interleaved the same way
# (qga-bench --per-command): the host opens the chardev socket, writes
# guest-sync-delimited and guest-ping in one buffer, reads both replies and
# closes, so each agent meets a host disconnect and reconnect per command on
# virtio-serial (qemu-ga's 100 ms pause after a disconnect,
# docs/qga-reference.md, shows here and not on bench/run.sh's unix sockets).
# Under TCG the absolute figures are several times slower than under KVM; the
# comparison holds because both agents run in the same guest, interleaved.
# usage: bench/freeze-vm.sh [N] [M]   (default 20 freeze rounds, 100 commands)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20}
m=${2:-100}
build=$top/build/main

. "$top/bench/lib-vm-bench.sh"
bench_vm_build freeze-bench qga-bench
export VM_EXTRA_BINS=$qemu_ga

. "$top/tests/vm/lib.sh"
vm_setup
vm_disk data-ext4 ext4 128
vm_disk data-xfs xfs 320
vm_config <<'CONF'
[freeze]
window=60
CONF
VM_QEMU_EXTRA=(-chardev "socket,id=ref,path=$WORK/ref.sock,server=on,wait=off"
               -device virtserialport,chardev=ref,name=org.qemu.guest_agent.1)
vm_scenario <<'GUEST'
vm_mount data-ext4 ext4 /data/ext4
vm_mount data-xfs xfs /data/xfs
vm_workload ext4 /data/ext4/workload.log 20
vm_workload xfs /data/xfs/workload.log 20
vm_agent
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.1 -t /run -f /run/qemu-ga.pid &
vm_control
vm_ready
GUEST
vm_boot
vm_wait_progress ext4 5 30 && vm_wait_progress xfs 5 30 || vm_fail "the workload does not write"

echo "== freeze/thaw round trips, $n rounds each, interleaved ($VM_ACCEL)"
echo "   quiesced $("$QUIESCED" --version | awk '{print $2}'), qemu-ga $("$qemu_ga" --version | awk '{print $NF; exit}')"
"$build/bench/qga-bench" --freeze "$n" "quiesced=$WORK/qga.sock" "qemu-ga=$WORK/ref.sock"

echo "== connection per command on virtio-serial (Proxmox style), $m each, interleaved ($VM_ACCEL)"
"$build/bench/qga-bench" --per-command "$m" "quiesced=$WORK/qga.sock" "qemu-ga=$WORK/ref.sock"

# Idle cost with no host connected (qga-bench has closed both chardev
# sockets): CPU ticks (utime + stime, /proc/PID/stat) and context switches
# of each agent over 10 s, read inside the guest.
idle=10
sample() { # TAG: one "idle TAG NAME TICKS SWITCHES" line per agent on the console
  # one line: the control port reads a command per line
  vm_guest_sh "for a in quiesced qemu-ga; do p=\$(pidof \$a | cut -d' ' -f1); echo idle $1 \$a \$(cut -d' ' -f14,15 /proc/\$p/stat | tr ' ' +) \$(grep -h ctxt_switches /proc/\$p/status | awk '{s+=\$2} END {print s}'); done" ||
    vm_fail "reading the agents' CPU time"
}
sleep 1
sample start
sleep $idle
sample end
echo "== idle, no host connected, ${idle} s"
for a in quiesced qemu-ga; do
  # the serial console ends lines with \r\n
  read -r t0 c0 < <(tr -d '\r' <"$WORK/console.log" | awk -v a=$a '$1 == "idle" && $2 == "start" && $3 == a {print $4, $5}')
  read -r t1 c1 < <(tr -d '\r' <"$WORK/console.log" | awk -v a=$a '$1 == "idle" && $2 == "end" && $3 == a {print $4, $5}')
  printf '%-10s cpu=%d ms  wakeups=%d (context switches)\n' "$a" \
    $(( ($(( t1 )) - $(( t0 ))) * 1000 / $(getconf CLK_TCK) )) $(( c1 - c0 ))
done
vm_stop
