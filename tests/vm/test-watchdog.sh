#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-watchdog.sh — lib.sh's vm_watchdog, without a guest: a scenario
# blocked in a foreground child fails with the watchdog's reason and its
# clean-up runs; one that only loops fails as soon as its step ends; one
# that ends in time passes, and nothing of the watchdog keeps its output
# open (ctest would wait for it). Each case is a scenario of its own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# scenario WATCHDOG-SECONDS BODY: a script sourcing lib.sh, as scenarios do.
scenario() {
  cat >"$tmp/case.sh" <<EOF
. "$here/lib.sh"
VM_NAME=watchdog-case
WORK=\$(mktemp -d "$tmp/work.XXXXXX")
trap 'rc=\$?; echo cleanup-ran; (exit \$rc); vm_cleanup' EXIT
vm_watchdog $1
$2
echo end-reached
EOF
}

# check NAME WANT-RC WANT-TEXT MAX-SECONDS: runs the case through a pipe.
check() {
  local name=$1 want_rc=$2 want=$3 max=$4 out rc t0 t
  t0=$(date +%s%N)
  set +e
  out=$(bash "$tmp/case.sh" 2>&1 | cat; exit "${PIPESTATUS[0]}")
  rc=$?
  set -e
  t=$(( ($(date +%s%N) - t0) / 1000000 ))
  if [ "$rc" = "$want_rc" ] && grep -q -- "$want" <<<"$out" && grep -q cleanup-ran <<<"$out" &&
    [ "$t" -le $((max * 1000)) ]; then
    echo "ok: $name (exit $rc in $t ms)"
  else
    echo "FAIL: $name: exit $rc (want $want_rc) in $t ms (max ${max} s), output:"
    sed 's/^/    /' <<<"$out"
    fails=$((fails + 1))
  fi
}

scenario 2 'x=$(sleep 300)'
check "blocked in a child for 300 s: failed by the watchdog after 2 s" 1 "still running after 2 s (vm_watchdog)" 10
scenario 1 'for i in $(seq 100); do sleep 0.1; done'
check "a loop of short steps: failed after 1 s" 1 "still running after 1 s (vm_watchdog)" 6
scenario 100 'sleep 0.5'
check "done in time: passes, the watchdog's sleep does not hold the pipe" 0 end-reached 6
# The negative control of the first case: the same blocked scenario
# without a watchdog is still running when timeout(1) cuts it.
scenario 100 'x=$(sleep 300)'
sed -i 's/^vm_watchdog 100$//' "$tmp/case.sh"
set +e
timeout 4 bash "$tmp/case.sh" >/dev/null 2>&1
rc=$?
set -e
if [ "$rc" = 124 ]; then
  echo "ok: control: without the watchdog the blocked scenario was still running after 4 s"
else
  echo "FAIL: control: without the watchdog the blocked scenario ended ($rc)"
  fails=$((fails + 1))
fi
[ "$fails" -eq 0 ]
