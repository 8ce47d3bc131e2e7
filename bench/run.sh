#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Side-by-side protocol benchmark: quiesced and Debian's qemu-ga, each on a
# unix socket, driven by the same client (bench/qga-bench.c): libvirt-style
# sequential round trips, Proxmox-style connection per command, and a
# pipelined burst. ROUNDS rounds, each running the client once against each
# agent, who goes first alternating, so both meet the same load on a shared
# machine; prints per agent min and median over the rounds of each round's
# figure. quiesced runs confined to an empty directory and with writers off,
# so nothing can be frozen.
#
# On unix sockets neither agent meets a host's disconnect the way it does on
# virtio-serial (qemu-ga's 100 ms pause after a host closes the port,
# docs/qga-reference.md): bench/freeze-vm.sh measures the connection per
# command there, in a guest.
# usage: bench/run.sh [N] [ROUNDS]   (default 1000 requests, 5 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
n=${1:-1000}
rounds=${2:-5}

scripts/install-deps.sh >&2
cmake -S "$top" -B "$top/build/main" >/dev/null
cmake --build "$top/build/main" -j2 --target quiesced qga-bench >/dev/null

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

agents=(quiesced qemu-ga)
echo "== quiesced: $("$top/build/main/agent/quiesced" --version)"
echo "== qemu-ga: $(qemu-ga --version | head -1)"
echo "== $rounds rounds of N=$n, interleaved (who goes first alternates)"
# One "AGENT MEASURE VALUE" line per figure and round.
for r in $(seq "$rounds"); do
  order=(0 1)
  [ $((r % 2)) = 0 ] && order=(1 0)
  for i in "${order[@]}"; do
    "$top/build/main/bench/qga-bench" "$work/${agents[$i]}.sock" "$n" | sed 's/= */=/g' |
      awk -v a="${agents[$i]}" '
        $1 == "pipelined" { sub(/total=/, "", $3); print a, "pipelined-total-ms", $3; next }
        { for (f = 3; f <= NF; f++) if ($f ~ /^p(50|99)=/) { split($f, kv, "="); print a, $1 "-" kv[1] "-us", kv[2] } }'
  done
done >"$work/figures"

printf '%-28s %-22s %-22s\n' "figure (min / median)" "${agents[@]}"
for m in sequential-p50-us sequential-p99-us per-command-p50-us per-command-p99-us pipelined-total-ms; do
  row=$(printf '%-28s' "$m")
  for a in "${agents[@]}"; do
    cell=$(awk -v a="$a" -v m="$m" '$1 == a && $2 == m {print $3}' "$work/figures" | sort -n |
           awk '{v[NR] = $1} END {printf "%d / %d", v[1], NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
    row+=$(printf ' %-22s' "$cell")
  done
  echo "$row"
done
for i in 0 1; do
  # utime + stime (fields 14, 15 of /proc/PID/stat) in clock ticks
  awk -v a="${agents[$i]}" -v hz="$(getconf CLK_TCK)" -v rss="$(ps -o rss= -p "${pids[$i]}")" \
    '{printf "%-10s rss=%d KiB  cpu=%d ms (all rounds)\n", a, rss, ($14 + $15) * 1000 / hz}' \
    "/proc/${pids[$i]}/stat"
done
