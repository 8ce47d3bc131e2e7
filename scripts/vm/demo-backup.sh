#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo-backup.sh — an application-consistent backup of a real QEMU guest,
# end to end, with the times: builds quiesced, the host driver and the guest
# (Debian's kernel and busybox; cached under build/vm-cache), boots the guest
# with an ext4 and an xfs data disk and a workload that fsyncs timestamped
# records, runs one child-snapshot backup (prepare -> one QMP transaction ->
# post), and checks the snapshot: no needs_recovery in the raw ext4, only the
# freeze's log cover in the raw xfs log, every buffered record written before
# prepare present, the writers stalled across the frozen window; e2fsck -fn,
# xfs_repair -n after log replay, whole records only, everything committed
# before prepare present.
# This is scenario (a) of the vm tests (tests/vm/scenario-child-snapshot.sh).
#
# usage: scripts/vm/demo-backup.sh [BUILD_DIR]   (default build/main)
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
build=${1:-$top/build/main}

scripts/install-deps.sh >&2
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

log=$(mktemp /tmp/quiesce-demo-backup.XXXXXX)
trap 'rm -f "$log"' EXIT
export QUIESCED=$build/agent/quiesced
export QUIESCE_BACKUP=$build/host/quiesce-backup
export VM_WORKLOAD=$build/tests/vm/vm-workload
export VM_BUILD_DIR=$build
export QUIESCE_VM_CACHE=${QUIESCE_VM_CACHE:-$top/build/vm-cache}
export VM_NAME=demo

echo "== quiesce: a child-VM snapshot backup of a running QEMU guest =="
start=$(date +%s%N)
rc=0
bash tests/vm/scenario-child-snapshot.sh >"$log" 2>&1 || rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc -ne 0 ]; then
  cat "$log"
  echo "== demo FAILED (exit $rc) after $took ms =="
  exit $rc
fi
grep -E '^vm\[demo\]: (guest |before prepare|raw snapshot|snapshot |stall at|example)' "$log" | sed 's/^vm\[demo\]: /  /'
echo
echo "-- the host driver (host/quiesce-backup), times since its start --"
grep -E '^\[ *[0-9.]+\] ' "$log" | sed 's/^/  /'
echo
echo "-- result --"
sed -n '/PASS child-snapshot/,$p' "$log" | sed '1s/^vm\[demo\]: /  /'
echo
echo "== demo passed in $took ms (guest build, boot, backup, checks) =="
