#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What each agent costs a guest that is not being backed up, quiesced and
# Debian's qemu-ga (copied from the host's qemu-guest-agent package) side by
# side in one QEMU guest (the busybox vm-test guest, tests/vm/lib.sh),
# measured inside it by bench/qga-footprint.c:
#
#   idle, no host    both agents on their virtio-serial ports
#                    (org.qemu.guest_agent.0 and .1) with nothing connected
#                    on the host side, as on a VM whose host is not using the
#                    agent: each one's context switches (every thread) and
#                    CPU time over IDLE seconds, and its RSS
#   idle, host on    the same with the host connected to both chardev
#                    sockets and sending nothing (libvirt keeps its agent
#                    socket open)
#   spawn → reply    R times each, interleaved (who goes first alternates):
#                    from fork() to the reply to a guest-sync, the agent
#                    listening on a unix socket in the guest (so the figure
#                    is the agent's start-up, not a host's connection), and
#                    its RSS right then; min / median / max
#
# usage: bench/footprint-vm.sh [IDLE_SECONDS] [ROUNDS]   (default 30, 7)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
idle=${1:-30}
rounds=${2:-7}
build=$top/build/main

. "$top/bench/lib-vm-bench.sh"
bench_vm_build footprint-bench qga-footprint
export VM_EXTRA_BINS="$qemu_ga $build/bench/qga-footprint"

. "$top/tests/vm/lib.sh"
vm_setup
# The spawned quiesced's own writers' socket: the running agent holds the
# default one, and a second agent listening there would refuse to start.
cat >"$WORK/overlay/etc/quiesce/footprint.conf" <<'CONF'
[writers]
socket=/run/fp-qs/writers.sock
CONF
VM_QEMU_EXTRA=(-chardev "socket,id=ref,path=$WORK/ref.sock,server=on,wait=off"
               -device virtserialport,chardev=ref,name=org.qemu.guest_agent.1)
vm_scenario <<'GUEST'
vm_agent
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.1 -t /run &
vm_control
vm_ready
GUEST
vm_boot
vm_wait_console 'serving QGA requests' 60 || vm_fail "quiesced did not start"
sleep 5
# Every figure goes to the console as "fp TAG ..." (the serial console ends
# lines with \r\n).
fp() { tr -d '\r' <"$WORK/console.log" | awk -v t="$1" '$1 == "fp" && $2 == t' ; }
# (one line: the control port reads a command per line)
# (qemu-ga writes its pid file only with -d)
vm_guest_sh 'echo fp pids $(pidof quiesced) $(pidof qemu-ga)' ||
  vm_fail "reading the agents' pids"
vm_wait_console '^fp pids' 15 || vm_fail "no pids"
read -r qs_pid qga_pid < <(fp pids | awk '{print $3, $4}')
[ -n "$qga_pid" ] || vm_fail "qemu-ga is not running in the guest"

# watch TAG: IDLE seconds of both agents, in the background in the guest (the
# control port answers within 15 s), the host waiting for its lines.
watch() {
  sleep 2
  vm_guest_sh "(qga-footprint watch $idle $qs_pid $qga_pid | sed 's/^/fp $1 /' >/dev/console) &" ||
    vm_fail "starting qga-footprint watch"
  vm_wait_file "^fp $1 pid $qga_pid" "$WORK/console.log" $(( idle * 3 + 30 )) ||
    vm_fail "no figures for $1"
}
watch idle-free
# The host connected to both ports, silent.
sleep $(( idle * 3 + 60 )) | socat - UNIX-CONNECT:"$WORK/qga.sock" >/dev/null &
hold1=$!
sleep $(( idle * 3 + 60 )) | socat - UNIX-CONNECT:"$WORK/ref.sock" >/dev/null &
hold2=$!
watch idle-held
kill $hold1 $hold2 2>/dev/null || true

spawn_qs="qga-footprint spawn /run/fp-qs.sock -- quiesced -f /etc/quiesce/footprint.conf -c unix-listen:/run/fp-qs.sock -t /run/fp-qs"
spawn_qga="qga-footprint spawn /run/fp-qga.sock -- qemu-ga -m unix-listen -p /run/fp-qga.sock -t /run/fp-qga -f /run/fp-qga.pid"
vm_guest_sh "mkdir -p /run/fp-qs /run/fp-qga" || vm_fail "mkdir"
for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then order="qs qga"; else order="qga qs"; fi
  for a in $order; do
    cmd=spawn_$a
    vm_guest_sh "${!cmd} 2>&1 | sed 's/^/fp spawn-$a /' >/dev/console" || vm_fail "spawn of $a, round $r"
  done
done
vm_stop
fp spawn-qs | grep -v ' spawn-us ' | sort | uniq -c | sed 's/^/quiesced: /' >&2 || true
fp spawn-qga | grep -v ' spawn-us ' | sort | uniq -c | sed 's/^/qemu-ga: /' >&2 || true

# min / median / max of column COL of the lines TAG.
stats() {
  fp "$1" | awk '$3 == "spawn-us"' | awk -v c="$2" '{print $c}' | sort -n |
    awk '{v[NR] = $1} END {if (NR) printf "%d / %d / %d", v[1], v[int((NR + 1) / 2)], v[NR]; else printf "failed"}'
}
col() { fp "$1" | awk -v p="$2" -v c="$3" '$4 == p {print $c}'; }
echo "== quiesced $("$QUIESCED" --version | awk '{print $2}') and qemu-ga $("$qemu_ga" --version | awk '{print $NF; exit}'), in one $VM_ACCEL guest"
printf '%-44s %-26s %-26s\n' "" quiesced qemu-ga
for t in idle-free idle-held; do
  case $t in idle-free) what="idle ${idle} s, no host connected" ;; *) what="idle ${idle} s, host connected, silent" ;; esac
  printf '%-44s %-26s %-26s\n' "$what: wake-ups" "$(col $t "$qs_pid" 8)" "$(col $t "$qga_pid" 8)"
  printf '%-44s %-26s %-26s\n' "  CPU ms" "$(col $t "$qs_pid" 10)" "$(col $t "$qga_pid" 10)"
  printf '%-44s %-26s %-26s\n' "  RSS KiB" "$(col $t "$qs_pid" 6)" "$(col $t "$qga_pid" 6)"
done
printf '%-44s %-26s %-26s\n' "spawn -> first reply, µs (min / med / max)" "$(stats spawn-qs 4)" "$(stats spawn-qga 4)"
printf '%-44s %-26s %-26s\n' "  RSS KiB at the first reply" "$(stats spawn-qs 6)" "$(stats spawn-qga 6)"
printf '%-44s %-26s %-26s\n' "  threads" "$(stats spawn-qs 8)" "$(stats spawn-qga 8)"
echo "($rounds spawns each, interleaved, on a unix socket in the guest)"
