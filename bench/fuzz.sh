#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Long fuzz runs with figures (tests/fuzz/): builds the fuzz build, then runs
# every libFuzzer target for SECONDS each, two at a time, from its seed
# corpus (tests/fuzz/corpus/<target>/, read-only) plus what earlier runs found
# (build/fuzz/tests/fuzz/corpus/<target>/, kept between runs). Prints per
# target: executions, exec/s, libFuzzer's coverage (cov: edges, ft: features),
# corpus size and findings (crash, leak, timeout or oom files written under
# build/fuzz/tests/fuzz/artifacts/; libFuzzer stops a target at its first).
# The engine the fuzzers reach freezes only synthetic machines through fake
# ioctls (tests/fuzz/fuzz-support.h); the whole-path targets also print how
# many of their inputs froze something (the "froze" column: inputs that
# froze / all inputs of the run).
# usage: bench/fuzz.sh [SECONDS] [TARGET...]   (default 600, all targets)
# SECONDS 0 = no time limit; QUIESCE_FUZZ_RUNS=N stops each target after N
# executions instead (issue 15's 10 M run of fuzz-qga-session:
# QUIESCE_FUZZ_RUNS=10000000 bench/fuzz.sh 0 fuzz-qga-session; measured
# at 290-470 executions per CPU-second with ASan, that is 6-10 hours of one
# idle core).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
seconds=${1:-600}
shift || true
build=$top/build/fuzz
dir=$build/tests/fuzz

scripts/install-deps.sh >&2
cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER=clang -DQUIESCE_FUZZ=ON -DQUIESCE_SANITIZE=ON \
  -DQUIESCE_VM_TESTS=OFF >/dev/null
cmake --build "$build" --target fuzzers -j 2 >/dev/null

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz-json-stream fuzz-qga-session fuzz-hv-vss fuzz-writer-conn fuzz-config)
fi
declare -A max_len=([fuzz-json-stream]=4096 [fuzz-qga-session]=4096 [fuzz-hv-vss]=1300
                    [fuzz-writer-conn]=2048 [fuzz-config]=4096)
logs=$(mktemp -d /tmp/quiesce-fuzz-logs.XXXXXX)
mkdir -p "$dir/artifacts"

run() {
  local t=$1
  mkdir -p "$dir/corpus/$t"
  "$dir/$t" -max_total_time="$seconds" ${QUIESCE_FUZZ_RUNS:+-runs=$QUIESCE_FUZZ_RUNS} \
    -max_len="${max_len[$t]:-4096}" -timeout=20 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" \
    "$dir/corpus/$t" "$top/tests/fuzz/corpus/$t" >"$logs/$t.log" 2>&1 || true
}

# Two at a time: the machine is shared.
running=0
for t in "${targets[@]}"; do
  run "$t" &
  running=$((running + 1))
  if [ $running -ge 2 ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

printf '%-18s %10s %8s %7s %7s %7s %19s  %s\n' target execs exec/s cov ft corpus froze findings
for t in "${targets[@]}"; do
  log=$logs/$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep -E ' cov: ' | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  finding=$(sed -n "s/.*Test unit written to \(.*\)/\1/p" "$log" | tail -1)
  summary=$(grep -m1 -E 'SUMMARY|ERROR: libFuzzer' "$log" || true)
  froze=$(sed -n 's/^fuzz: \([0-9]*\) of \([0-9]*\) inputs froze.*/\1\/\2/p' "$log" | tail -1)
  printf '%-18s %10s %8s %7s %7s %7s %19s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "${corp:-?}" "${froze:--}" "${finding:+$finding ($summary)}"
  [ -n "$finding" ] || [ -n "$execs" ] || echo "  (no statistics: see $log)"
done
echo "logs: $logs"
