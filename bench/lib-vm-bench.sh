# SPDX-License-Identifier: GPL-2.0-or-later
# lib-vm-bench.sh — sourced by the benchmarks that run both agents in the
# vm-test guest (freeze-vm.sh, footprint-vm.sh), with $top and $build set.

# bench_vm_build NAME TARGET...: builds quiesced, quiesce-backup, vm-workload
# and the TARGETs in $build; exports what tests/vm/lib.sh needs (VM_NAME
# NAME) and sets qemu_ga to the host's Debian qemu-ga, which the guest gets.
bench_vm_build() {
  local name=$1
  shift
  "$top/scripts/install-deps.sh" >&2
  cmake -S "$top" -B "$build" >/dev/null
  cmake --build "$build" -j2 --target quiesced quiesce-backup vm-workload "$@" >/dev/null
  export QUIESCED=$build/agent/quiesced QUIESCE_BACKUP=$build/host/quiesce-backup
  export VM_WORKLOAD=$build/tests/vm/vm-workload VM_NAME=$name
  qemu_ga=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
}
