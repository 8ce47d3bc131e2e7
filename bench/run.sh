#!/usr/bin/env bash
# Side-by-side protocol benchmark: quiesced and Debian's qemu-ga, each on a
# unix socket, driven by the same client (bench/qga-bench.c) in one run:
# libvirt-style sequential round trips, Proxmox-style connection per command,
# and a pipelined burst. quiesced runs confined to an empty directory and
# with writers off, so nothing can be frozen.
# usage: bench/run.sh [N]   (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
n=${1:-1000}

scripts/install-deps.sh >&2
cmake -S "$top" -B "$top/build/main" >/dev/null
cmake --build "$top/build/main" -j "$(nproc)" --target quiesced qga-bench >/dev/null

work=$(mktemp -d /tmp/quiesce-bench.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
mkdir "$work/empty" "$work/qga-state"
printf '[freeze]\nrunning-state-command=\n[writers]\nsocket=\ndirectories=\ncompat-directories=\n' \
  >"$work/quiesced.conf"
"$top/build/main/agent/quiesced" --channel "unix-listen:$work/quiesced.sock" \
  --config "$work/quiesced.conf" --confine "$work/empty" --state-dir "$work/state" 2>/dev/null &
pids+=($!)
qemu-ga -m unix-listen -p "$work/qemu-ga.sock" -t "$work/qga-state" 2>/dev/null &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/quiesced.sock" ] && [ -S "$work/qemu-ga.sock" ] && break; sleep 0.1; done

versions=("$("$top/build/main/agent/quiesced" --version)" "$(qemu-ga --version | head -1)")
agents=(quiesced qemu-ga)
for i in 0 1; do
  echo "== ${agents[$i]}: ${versions[$i]}"
  "$top/build/main/bench/qga-bench" "$work/${agents[$i]}.sock" "$n"
  # utime + stime (fields 14, 15 of /proc/PID/stat) in clock ticks
  awk -v hz="$(getconf CLK_TCK)" -v rss="$(ps -o rss= -p "${pids[$i]}")" \
    '{printf "%-12s rss=%d KiB  cpu=%d ms (whole run)\n", "process", rss, ($14 + $15) * 1000 / hz}' \
    "/proc/${pids[$i]}/stat"
done
