#!/usr/bin/env bash
# Side-by-side freeze benchmark in a QEMU guest: quiesced and Debian's qemu-ga
# (copied from the host's qemu-guest-agent package) on two virtio-serial
# ports of one guest with an ext4 and an xfs data disk that two workloads keep
# writing to. bench/qga-bench.c --freeze drives N rounds of
# guest-fsfreeze-freeze + guest-fsfreeze-thaw on each agent in turn (never
# both frozen at once) and prints p50/p99/max per agent, measured on the host
# at the chardev socket. Freezes happen only inside the guest (tests/vm/lib.sh).
# Under TCG the absolute figures are several times slower than under KVM; the
# comparison holds because both agents run in the same guest, interleaved.
# usage: bench/freeze-vm.sh [N]   (default 20)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20}
build=$top/build/main

"$top/scripts/install-deps.sh" >&2
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" --target quiesced quiesce-backup vm-workload qga-bench >/dev/null
export QUIESCED=$build/agent/quiesced QUIESCE_BACKUP=$build/host/quiesce-backup
export VM_WORKLOAD=$build/tests/vm/vm-workload VM_NAME=freeze-bench
qemu_ga=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
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
vm_ready
GUEST
vm_boot
vm_wait_progress ext4 5 30 && vm_wait_progress xfs 5 30 || vm_fail "the workload does not write"

echo "== freeze/thaw round trips, $n rounds each, interleaved ($VM_ACCEL)"
echo "   quiesced $("$QUIESCED" --version | awk '{print $2}'), qemu-ga $("$qemu_ga" --version | awk '{print $NF; exit}')"
"$build/bench/qga-bench" --freeze "$n" "quiesced=$WORK/qga.sock" "qemu-ga=$WORK/ref.sock"
vm_stop
