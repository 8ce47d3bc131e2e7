#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The application stall of a freeze, side by side: quiesced and Debian's
# qemu-ga in one QEMU guest (as bench/freeze-vm.sh), on two guests:
#   light  ext4 + xfs, an fsync'ing writer every 10 ms on each;
#   dirty  6 data disks (2 ext4, 2 xfs, 2 btrfs), on each an fsync'ing
#          writer every 20 ms and 16 MB of buffered rewrites every 0.3 s
#          (periodic writeback off: tens of MB stay dirty until a sync).
# qga-bench drives N rounds, agents interleaved (who goes first alternates),
# with a pause after each window so the writers dirty the disks again; each
# round quiesced also runs guest-snapshot-prepare + post. Printed per agent:
# freeze and thaw round trips (host side), and the stall the writers saw:
# the longest write+fsync of any writer that was running inside the window
# (guest clock; offset from guest-get-time). Then the ratios quiesced/qemu-ga
# and where quiesced's round trips went by its own timers (p50 of each
# part: probe, state file and writers, open, knobs, pre-sync, FIFREEZE, the
# rest; FITHAW and the rest), then its last timing lines as logged.
# Both agents log to memory, as to a journal: quiesced's log goes to a file
# in the guest's /run (read back at the end), not to the serial console,
# where under TCG each line written after a thaw cost its reply about
# 0.3 ms (light guest, thaw p50 1.07-1.13 of qemu-ga's on the console,
# 0.96 with the file); qemu-ga logs nothing at its default level.
# Freezes happen only inside the guest (tests/vm/lib.sh).
# usage: bench/freeze-vm-dirty.sh [N] [light|dirty]   (default 20 dirty)
# QUIESCE_BENCH_FREEZE_CONFIG: more lines for quiesced's [freeze] section,
# e.g. "flush-priority=false" to measure it without that.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20}
shape=${2:-dirty}
build=${QUIESCE_BENCH_BUILD:-$top/build/main}

cmake --build "$build" -j2 --target quiesced quiesce-backup vm-workload qga-bench >/dev/null
export QUIESCED=$build/agent/quiesced QUIESCE_BACKUP=$build/host/quiesce-backup
export VM_WORKLOAD=$build/tests/vm/vm-workload VM_NAME=freeze-$shape
qemu_ga=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
export VM_EXTRA_BINS=$qemu_ga
[ "$shape" = dirty ] && export VM_EXTRA_MODULES=btrfs

. "$top/tests/vm/lib.sh"
vm_setup
case $shape in
  light) disks=("e1 ext4" "x1 xfs"); every=10; bulk=0 ;;
  dirty) disks=("e1 ext4" "e2 ext4" "x1 xfs" "x2 xfs" "b1 btrfs" "b2 btrfs"); every=20; bulk=16 ;;
  *) vm_fail "shape must be light or dirty" ;;
esac
for d in "${disks[@]}"; do
  set -- $d
  case $2 in xfs) size=400 ;; btrfs) size=400 ;; *) size=200 ;; esac
  vm_disk "$1" "$2" $size
done
vm_config <<CONF
[freeze]
window=60
running-state-command=
${QUIESCE_BENCH_FREEZE_CONFIG:-}
CONF
VM_QEMU_EXTRA=(-chardev "socket,id=ref,path=$WORK/ref.sock,server=on,wait=off"
               -device virtserialport,chardev=ref,name=org.qemu.guest_agent.1)
{
  echo "vm_no_writeback"
  for d in "${disks[@]}"; do
    set -- $d
    echo "vm_mount $1 $2 /data/$1"
    echo "vm_workload $1 /data/$1/workload.log $every"
    if [ "$bulk" -gt 0 ]; then
      echo "( while :; do dd if=/dev/zero of=/data/$1/bulk bs=1M count=$bulk conv=notrunc 2>/dev/null; sleep 0.3; done ) &"
    fi
  done
  echo "vm_agent 2>>/run/quiesced.log"
  echo "qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.1 -t /run -f /run/qemu-ga.pid &"
  echo "vm_control"
  echo "vm_ready"
} | vm_scenario
vm_boot
for d in "${disks[@]}"; do
  set -- $d
  vm_wait_progress "$1" 5 60 || vm_fail "the workload $1 does not write"
done
sleep 3

# One untimed freeze and thaw of each agent first: the first freeze after
# the boot meets all that was dirtied since, more than any round's gap.
for sock in qga.sock ref.sock; do
  for req in freeze thaw; do
    "$QUIESCE_BACKUP" --agent "$WORK/$sock" --agent-timeout 20 --command-timeout 120 \
      agent "{\"execute\":\"guest-fsfreeze-$req\"}" >/dev/null ||
      vm_fail "the untimed $req on $sock failed"
  done
done
echo "== $shape guest: ${#disks[@]} data disks, $n rounds each, interleaved ($VM_ACCEL)"
echo "   quiesced $("$QUIESCED" --version | awk '{print $2}'), qemu-ga $("$qemu_ga" --version | awk '{print $NF; exit}')"
QGA_BENCH_WINDOWS=$WORK/windows QGA_BENCH_SESSION=quiesced QGA_BENCH_PAUSE_MS=700 \
  "$build/bench/qga-bench" --freeze "$n" "quiesced=$WORK/qga.sock" "qemu-ga=$WORK/ref.sock" |
  tee "$WORK/bench.txt"
sleep 2
# quiesced's log first: its timing lines are matched to the windows below
vm_guest_sh "cat /run/quiesced.log" || vm_log "cannot read quiesced's log back"
sleep 1
python3 - "$WORK/windows" "$WORK/console.log" "$WORK/bench.txt" <<'PY'
import sys, re
windows = [l.split() for l in open(sys.argv[1])]
recs = []  # (start_ns, end_ns, lat_us) of fsync'ing writers
froze, thawed = [], []  # quiesced's timing lines, in the order of its windows
part = lambda name, text: float((re.search(name + r" ([0-9.]+) ms", text) or [0, 0])[1])
for line in open(sys.argv[2], errors="replace"):
    f = line.replace("\r", "").split()
    if len(f) == 5 and f[0] == "committed":
        start, lat = int(f[3]), int(f[4])
        recs.append((start, start + lat * 1000, lat))
    elif re.search(r"session [0-9a-f-]+: froze ", line):
        froze.append({k: part(n, line) for k, n in (
            ("probe", "probe"), ("state+writers", "state file and writers"), ("open", "open"),
            ("pre-sync", "pre-sync"), ("FIFREEZE", "FIFREEZE"), ("knobs", r"\(knobs"))})
    elif re.search(r"session [0-9a-f-]+: thawed ", line):
        thawed.append(part("FITHAW", line))
def stall(s, e):
    # the longest write+fsync that overlapped the window
    return max([lat for (a, b, lat) in recs if a < e and b > s] or [0]) / 1000.0
def stats(v):
    v = sorted(v)
    return v[0], v[len(v) // 2], v[min(len(v) - 1, (len(v) * 99 + 99) // 100 - 1)]
rows = {}
for agent, rnd, kind, s, e, fus, tus in windows:
    r = rows.setdefault((agent, kind), {"stall": [], "freeze": [], "thaw": []})
    r["stall"].append(stall(int(s), int(e)))
    r["freeze"].append(int(fus) / 1000.0)
    r["thaw"].append(int(tus) / 1000.0)
names = {"fsfreeze": ("freeze", "thaw"), "session": ("prepare", "post")}
print("%-9s %-9s %-8s %8s %8s %8s" % ("agent", "request", "measure", "min", "p50", "p99"))
for (agent, kind), r in sorted(rows.items()):
    for key, label in (("freeze", names[kind][0]), ("thaw", names[kind][1]), ("stall", "stall")):
        print("%-9s %-9s %-8s %8.1f %8.1f %8.1f ms" % ((agent, kind, label) + stats(r[key])))
q, g = rows.get(("quiesced", "fsfreeze")), rows.get(("qemu-ga", "fsfreeze"))
if q and g:
    print("ratios quiesced/qemu-ga (min p50 p99):")
    for key in ("freeze", "thaw", "stall"):
        a, b = stats(q[key]), stats(g[key])
        print("  %-7s %s" % (key, "  ".join("%.2f" % (x / y if y else 0) for x, y in zip(a, b))))
    s = rows.get(("quiesced", "session"))
    if s:
        a, b = stats(s["stall"]), stats(g["stall"])
        print("  %-7s %s   (prepare->post stall vs qemu-ga's freeze stall)" % ("session", "  ".join("%.2f" % (x / y if y else 0) for x, y in zip(a, b))))
# Where quiesced's round trips went, from its own timers: the k-th timing
# line is the k-th window of quiesced (fsfreeze and session in run order);
# "rest" is the host's round trip less the agent's parts (the request and
# the reply on the channel, parsing, the engine's checks).
mine = [w for w in windows if w[0] == "quiesced"]
froze, thawed = froze[1:], thawed[1:]  # the untimed first round
if len(froze) != len(mine) or len(thawed) != len(mine):
    print("split: %d froze and %d thawed lines for %d windows: not matched" % (len(froze), len(thawed), len(mine)))
else:
    keys = ("probe", "state+writers", "open", "knobs", "pre-sync", "FIFREEZE")
    print("quiesced's split, p50 per part (ms): " + " ".join(keys) + " rest | FITHAW rest")
    for kind in ("fsfreeze", "session"):
        rows_k = [(t, h, w) for t, h, w in zip(froze, thawed, mine) if w[2] == kind]
        if not rows_k:
            continue
        cols = [stats([t[k] for t, h, w in rows_k])[1] for k in keys]
        cols.append(stats([int(w[5]) / 1000.0 - sum(t.values()) for t, h, w in rows_k])[1])
        cols.append(stats([h for t, h, w in rows_k])[1])
        cols.append(stats([int(w[6]) / 1000.0 - h for t, h, w in rows_k])[1])
        print("  %-9s %s" % (kind, " ".join("%.1f" % c for c in cols)))
PY
echo "== quiesced's own timers (last 4 rounds)"
tr -d '\r' <"$WORK/console.log" | grep -E 'session [0-9a-f-]+: (froze|thawed)' | tail -n "${QUIESCE_BENCH_TIMER_LINES:-8}" || true
vm_stop
