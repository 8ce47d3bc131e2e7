#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The negative control of the snapshot checks: vm/child-snapshot, after its
# real backup, takes the same atomic snapshot of the same running guest with
# `quiesce-backup --no-quiesce` (no prepare, no freeze, no post: a
# crash-consistent copy) and leaves it in VM_CONTROL_DIR (ctest fixture
# vm-control). This test runs the checks on it and PASSES ONLY IF EVERY
# CHECK THAT CLAIMS TO SEE A FREEZE FAILS:
#   * vm_fs_quiesced ext4: the raw image has needs_recovery;
#   * vm_fs_quiesced xfs: the raw log holds more than a freeze's log cover;
#   * the buffered writers' records written before the snapshot are missing
#     (the guest's periodic writeback is off: nothing wrote them);
#   * vm_check_stall on the fsynced writers, against the frozen window the
#     real backup held (window-inner-ms): at this snapshot they did not stall.
#     (Not on the buffered writers: their files here end where the real
#     backup's freeze synced them, so their gap is that freeze's stall.)
# The crash-consistency checks (e2fsck -fn, xfs_repair -n after replay,
# fsynced records, SQLite) are run and reported too; they pass on this copy
# as on any crash-consistent one, which is why they prove nothing about a
# freeze.
. "$(dirname "$0")/lib.sh"

dir=${VM_CONTROL_DIR:-}
[ -n "$dir" ] && [ -f "$dir/report" ] ||
  vm_fail "no control snapshot in '${dir}': vm/child-snapshot makes it (ctest runs it first: fixture vm-control)"
vm_setup_offline
cp "$dir/console.log" "$WORK/console.log"
declare -A before
while read -r w n; do before[$w]=$n; done <"$dir/before"
[ "$(sed -n 's/^result=//p' "$dir/report")" = crash-consistent ] ||
  vm_fail "the control was not a --no-quiesce snapshot: $(cat "$dir/report")"

caught=()
missed=()
# must_fail CHECK DETAIL RC: a check that must catch the missing freeze.
must_fail() {
  if [ "$3" -ne 0 ]; then
    caught+=("$1"); vm_log "caught   $1: $2"
  else
    missed+=("$1"); vm_log "MISSED   $1: passed on an unfrozen snapshot ($2)"
  fi
}
# passes_anyway CHECK DETAIL RC: a crash-consistency check, reported only.
passes_anyway() {
  if [ "$3" -eq 0 ]; then vm_log "info     $1 passes on the unfrozen snapshot too ($2)"
  else vm_log "info     $1 fails on the unfrozen snapshot ($2)"; fi
}

rc=0; out=$(vm_fs_quiesced "$dir/data-ext4.img" ext4) || rc=$?
must_fail "ext4 raw journal" "$out" $rc
rc=0; out=$(vm_fs_quiesced "$dir/data-xfs.img" xfs) || rc=$?
must_fail "xfs raw log" "$out" $rc

vm_extract "$dir/data-ext4.img" ext4 "$WORK/snap-ext4" || vm_fail "reading the ext4 control snapshot"
vm_extract "$dir/data-xfs.img" xfs "$WORK/snap-xfs" || vm_fail "reading the xfs control snapshot"
for w in ext4-buf xfs-buf; do
  rc=0; out=$(vm_check_workload "$WORK/snap-${w%-buf}/buffered.log" "$w" "${before[$w]}") || rc=$?
  must_fail "$w buffered records" "$out" $rc
done

rc=0; out=$(vm_fsck "$dir/data-ext4.img" ext4 2>&1) || rc=$?
passes_anyway "e2fsck -fn" "${out:-clean}" $rc
rc=0; out=$(vm_fsck "$dir/data-xfs.img" xfs 2>&1) || rc=$?
passes_anyway "xfs_repair -n after log replay" "${out:-clean}" $rc
window=$(cat "$dir/frozen-window-ms")
for w in ext4 xfs; do
  rc=0; last=$(vm_check_workload "$WORK/snap-$w/workload.log" "$w" "${before[$w]}" whole) || rc=$?
  passes_anyway "$w fsynced records" "records 1..$last, >= ${before[$w]} committed before the snapshot" $rc
  [ $rc -eq 0 ] || vm_fail "the control snapshot lacks fsynced $w records: $last"
  rc=0; out=$(vm_check_stall "$w" "$last" "$window") || rc=$?
  must_fail "$w stall at the snapshot (>= $window ms)" "$out" $rc
done
if [ -s "$dir/example" ]; then
  rc=0; out=$(vm_check_sqlite "$WORK/snap-xfs/example.db" "${before[db]}") || rc=$?
  passes_anyway "SQLite integrity_check + rows" "rows 1..$out" $rc
fi

[ ${#missed[@]} -eq 0 ] ||
  vm_fail "the snapshot checks did not catch the missing freeze: $(IFS=';'; echo "${missed[*]}")"
[ "${QUIESCE_VM_KEEP:-0}" = 1 ] || rm -rf "$dir"
vm_log "PASS: all ${#caught[@]} freeze checks fail on a snapshot taken without the freeze"
