#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Long fuzz runs with figures (tests/fuzz/): builds the fuzz build, then runs
# every libFuzzer target for SECONDS each, two at a time, from its seed
# corpus (tests/fuzz/corpus/<target>/, read-only) plus what earlier runs found
# (build/fuzz/tests/fuzz/corpus/<target>/, kept between runs). Prints per
# target: executions, exec/s, libFuzzer's coverage (cov: edges, ft: features),
# corpus size and findings (crash, leak, timeout or oom files written under
# build/fuzz/tests/fuzz/artifacts/; libFuzzer stops a process at its first).
# The engine the fuzzers reach freezes only synthetic machines through fake
# ioctls (tests/fuzz/fuzz-support.h); the whole-path targets also print how
# many of their inputs froze something (the "froze" column: inputs that
# froze / all inputs of the run).
#
# usage: bench/fuzz.sh [SECONDS] [TARGET...]   (default 600, all targets)
# SECONDS 0 = no time limit. Environment:
#   QUIESCE_FUZZ_RUNS=N     stop after N executions in all (instead of, or
#                           as well as, SECONDS)
#   QUIESCE_FUZZ_WORKERS=W  W processes per target (libFuzzer's -jobs=W
#                           -workers=W over one shared corpus dir, each
#                           with N/W executions and SECONDS); default 1
#   QUIESCE_FUZZ_BUILD=DIR  the build dir (default build/fuzz); configured
#                           and built here unless QUIESCE_FUZZ_NO_BUILD=1
#   QUIESCE_FUZZ_LOGS=DIR   where the logs go (default a new temp dir)
#   QUIESCE_FUZZ_MAX_LEN=N  libFuzzer's -max_len for every target (default
#                           per target, below): a shorter limit keeps the
#                           executions per second up once the corpus has
#                           grown, at the cost of the longest sessions
#   QUIESCE_FUZZ_ASAN=0     configure the build with UBSan only (libFuzzer
#                           and UndefinedBehaviorSanitizer, no ASan): about
#                           twice the executions per second; default 1 (the
#                           CI's fuzz build, ASan + UBSan). Use its own
#                           build dir (QUIESCE_FUZZ_BUILD).
#   QUIESCE_FUZZ_CAMPAIGN=DIR  one target's campaign, in segments: the
#                           first segment copies the target's binary to DIR
#                           and every segment runs that copy (the same bytes,
#                           whatever the tree is by then) over DIR's corpus;
#                           each segment adds a line to DIR/ledger.tsv and
#                           the campaign's totals are printed. A segment is
#                           refused when DIR's binary no longer matches the
#                           sha256 recorded at the start. The ledger
#                           gives each segment's -max_len.
# With several workers the figures are summed from each process's own final
# statistics (stat::number_of_executed_units, the "froze" exit report, the
# artifacts each wrote), and cov/ft are those of one more libFuzzer pass
# over the merged corpus (-runs=0: the coverage of every input kept), not a
# sum of per-process coverage, which would count shared edges W times.
# Issue 15's 10 M run of fuzz-qga-session:
#   QUIESCE_FUZZ_RUNS=10000000 bench/fuzz.sh 0 fuzz-qga-session
# or, where no session of the machine lasts that long, a campaign whose
# segments end at SECONDS each and whose last one stops at 10 M in all
# (with a campaign, QUIESCE_FUZZ_RUNS is the campaign's total):
#   QUIESCE_FUZZ_CAMPAIGN=DIR QUIESCE_FUZZ_RUNS=10000000 bench/fuzz.sh 7200 fuzz-qga-session
# (about 1.9 ms of CPU per execution of the long inputs of a grown corpus
# with ASan/UBSan, 0.9-1.1 ms with UBSan only, on this 2-core machine: 2.5-5
# hours of an idle core). To keep it from disturbing others: a build dir
# nobody rebuilds, and
#   setsid nohup nice -n 19 ionice -c 3 env QUIESCE_FUZZ_BUILD=DIR \
#     QUIESCE_FUZZ_NO_BUILD=1 QUIESCE_FUZZ_LOGS=DIR/logs QUIESCE_FUZZ_RUNS=10000000 \
#     bench/fuzz.sh 0 fuzz-qga-session > DIR/run.log 2>&1 < /dev/null &
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
seconds=${1:-600}
shift || true
build=$(realpath -m "${QUIESCE_FUZZ_BUILD:-$top/build/fuzz}")
dir=$build/tests/fuzz
workers=${QUIESCE_FUZZ_WORKERS:-1}
asan=${QUIESCE_FUZZ_ASAN:-1}
runs=${QUIESCE_FUZZ_RUNS:-}
case $workers in
  '' | *[!0-9]* | 0) echo "QUIESCE_FUZZ_WORKERS must be a positive number" >&2; exit 2 ;;
esac
case $runs in
  *[!0-9]*) echo "QUIESCE_FUZZ_RUNS must be a number" >&2; exit 2 ;;
esac
case ${QUIESCE_FUZZ_MAX_LEN:-1} in
  *[!0-9]* | *[!0]*) ;; # not all zeros ("00" would be libFuzzer's 0)
  *) echo "QUIESCE_FUZZ_MAX_LEN must be a positive number" >&2; exit 2 ;;
esac
case ${QUIESCE_FUZZ_MAX_LEN:-1} in
  *[!0-9]*) echo "QUIESCE_FUZZ_MAX_LEN must be a positive number" >&2; exit 2 ;;
esac
case $asan in
  1) sanitize=(-DQUIESCE_SANITIZE=ON) ;;
  0) sanitize=(-DQUIESCE_SANITIZE=OFF
               "-DCMAKE_C_FLAGS=-fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
               -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=undefined) ;;
  *) echo "QUIESCE_FUZZ_ASAN must be 0 or 1" >&2; exit 2 ;;
esac

if [ "${QUIESCE_FUZZ_NO_BUILD:-0}" != 1 ]; then
  scripts/install-deps.sh >&2
  cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER=clang -DQUIESCE_FUZZ=ON "${sanitize[@]}" \
    -DQUIESCE_VM_TESTS=OFF >/dev/null
  cmake --build "$build" --target fuzzers -j 2 >/dev/null
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz-json-stream fuzz-qga-session fuzz-hv-vss fuzz-writer-conn fuzz-config)
fi
# Where each target's binary, corpus and artifacts are.
bin_dir=$dir
corpus_dir=$dir/corpus
artifacts_dir=$dir/artifacts
campaign=${QUIESCE_FUZZ_CAMPAIGN:-}
if [ -n "$campaign" ]; then
  [ ${#targets[@]} -eq 1 ] || { echo "QUIESCE_FUZZ_CAMPAIGN takes exactly one target" >&2; exit 2; }
  t=${targets[0]}
  mkdir -p "$campaign/corpus/$t"
  if [ ! -f "$campaign/binary.sha256" ]; then
    cp "$dir/$t" "$campaign/$t"
    # The campaign's first corpus: what earlier runs of the build found.
    [ -d "$dir/corpus/$t" ] && cp -n "$dir/corpus/$t"/* "$campaign/corpus/$t/" 2>/dev/null || true
    (cd "$campaign" && sha256sum "$t" >binary.sha256)
    # What the binary was built from, as far as this script knows.
    head=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo "an unknown tree")
    [ -z "$(git -C "$top" status --porcelain -- . 2>/dev/null)" ] || head="$head with uncommitted changes"
    if [ "${QUIESCE_FUZZ_NO_BUILD:-0}" = 1 ]; then
      echo "a build not made here (QUIESCE_FUZZ_NO_BUILD; this tree: $head)" >"$campaign/commit"
    else
      echo "$head" >"$campaign/commit"
    fi
    printf 'segment\tstart\tend\tseconds\texecs\tcov\tft\tcorpus\tfindings\tmax_len\n' >"$campaign/ledger.tsv"
  fi
  # A ledger begun before the max_len column: its header gains it (the
  # segments of then ran at their target's own -max_len).
  if ! head -1 "$campaign/ledger.tsv" | grep -q 'max_len$'; then
    sed -i '1s/$/\tmax_len/' "$campaign/ledger.tsv"
  fi
  (cd "$campaign" && sha256sum --quiet -c binary.sha256) ||
    { echo "$campaign/$t is not the binary the campaign started with" >&2; exit 2; }
  bin_dir=$campaign
  corpus_dir=$campaign/corpus
  artifacts_dir=$campaign/artifacts
  if [ -n "$runs" ]; then
    done_runs=$(awk -F'\t' 'NR > 1 { e += $5 } END { print e + 0 }' "$campaign/ledger.tsv")
    if [ "$done_runs" -ge "$runs" ]; then
      echo "campaign $campaign: $done_runs executions already, the total asked for is $runs" >&2
      exit 0
    fi
    runs=$((runs - done_runs))
  fi
  segment_start=$(date -u +%FT%TZ)
  segment_t0=$SECONDS
fi
declare -A max_len=([fuzz-json-stream]=4096 [fuzz-qga-session]=4096 [fuzz-hv-vss]=1300
                    [fuzz-writer-conn]=2048 [fuzz-config]=4096)
# A target's -max_len: QUIESCE_FUZZ_MAX_LEN, else its own, else 4096.
max_len_of() { echo "${QUIESCE_FUZZ_MAX_LEN:-${max_len[$1]:-4096}}"; }
logs=${QUIESCE_FUZZ_LOGS:-$(mktemp -d /tmp/quiesce-fuzz-logs.XXXXXX)}
mkdir -p "$logs" "$artifacts_dir"

# Each worker's share of the executions: the total, rounded up.
per_worker_runs=
if [ -n "$runs" ]; then
  per_worker_runs=$(((runs + workers - 1) / workers))
fi

run() {
  local t=$1
  local args=(-max_total_time="$seconds" ${per_worker_runs:+-runs=$per_worker_runs}
              -max_len="$(max_len_of "$t")" -timeout=20 -rss_limit_mb=2048
              -print_final_stats=1 -artifact_prefix="$artifacts_dir/$t-"
              "$corpus_dir/$t" "$top/tests/fuzz/corpus/$t")
  mkdir -p "$corpus_dir/$t" "$logs/$t"
  if [ "$workers" -eq 1 ]; then
    "$bin_dir/$t" "${args[@]}" >"$logs/$t/fuzz-0.log" 2>&1 || true
  else
    # libFuzzer writes job J's output to fuzz-J.log in the working dir.
    (cd "$logs/$t" && "$bin_dir/$t" -jobs="$workers" -workers="$workers" "${args[@]}" \
       >"$logs/$t/jobs.log" 2>&1) || true
  fi
}

# Two targets at a time: the machine is shared.
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

# The sum of a number found by sed expression $1 in every log of target $2.
sum_logs() {
  local total=0 n
  for log in "$logs/$2"/fuzz-*.log; do
    n=$(sed -n "$1" "$log" | tail -1)
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

printf '%-18s %3s %10s %8s %7s %7s %7s %19s  %s\n' target w execs exec/s cov ft corpus froze \
  findings
for t in "${targets[@]}"; do
  execs=$(sum_logs 's/^stat::number_of_executed_units: *//p' "$t")
  rate=$(sum_logs 's/^stat::average_exec_per_sec: *//p' "$t")
  froze_n=$(sum_logs 's/^fuzz: \([0-9]*\) of [0-9]* inputs froze.*/\1/p' "$t")
  froze_of=$(sum_logs 's/^fuzz: [0-9]* of \([0-9]*\) inputs froze.*/\1/p' "$t")
  froze=-
  [ "$froze_of" -eq 0 ] || froze=$froze_n/$froze_of
  if [ "$workers" -eq 1 ]; then
    last=$(grep -hE '^#[0-9]+' "$logs/$t/fuzz-0.log" | grep -E ' cov: ' | tail -1 || true)
  else
    # The merged corpus's coverage: one pass over every input kept.
    # (Its own findings, if any, stay in the logs dir: they are the run's.)
    "$bin_dir/$t" -runs=0 -max_len="$(max_len_of "$t")" -rss_limit_mb=2048 \
      -artifact_prefix="$logs/$t/coverage-pass-" \
      "$corpus_dir/$t" "$top/tests/fuzz/corpus/$t" >"$logs/$t/coverage.log" 2>&1 || true
    last=$(grep -E '^#[0-9]+.*INITED' "$logs/$t/coverage.log" | tail -1 || true)
  fi
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  findings=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$logs/$t"/fuzz-*.log | sort -u)
  nfind=$(grep -c . <<<"$findings" || true)
  summary=$(grep -h -m1 -E 'SUMMARY|ERROR: libFuzzer' "$logs/$t"/fuzz-*.log | head -1 || true)
  printf '%-18s %3s %10s %8s %7s %7s %7s %19s  %s\n' "$t" "$workers" "$execs" "$rate" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$froze" \
    "$( [ "$nfind" -eq 0 ] && echo 0 || echo "$nfind: $(head -1 <<<"$findings") ($summary)")"
  [ "$execs" -gt 0 ] || [ "$nfind" -gt 0 ] || echo "  (no statistics: see $logs/$t/)"
  if [ -n "$campaign" ]; then
    n=$(($(grep -c . "$campaign/ledger.tsv") ))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$segment_start" "$(date -u +%FT%TZ)" \
      $((SECONDS - segment_t0)) "$execs" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$nfind" \
      "$(max_len_of "$t")" >>"$campaign/ledger.tsv"
  fi
done
if [ -n "$campaign" ]; then
  echo "campaign $campaign: ${targets[0]} built from $(cat "$campaign/commit"), sha256 $(cut -c1-16 "$campaign/binary.sha256")..."
  awk -F'\t' '{ printf "  %-7s  %-20s  %-20s  %7s  %10s  %5s  %6s  %6s  %8s  %s\n",
                 $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$campaign/ledger.tsv"
  awk -F'\t' 'NR > 1 { e += $5; f += $9; s += $4 } END {
    printf "  total: %d executions in %d segments, %d s, findings %d\n", e, NR - 1, s, f }' "$campaign/ledger.tsv"
fi
echo "logs: $logs"
