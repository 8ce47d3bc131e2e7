#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A negative control's verdict (tests/fuzz/CMakeLists.txt): runs COMMAND,
# which must FAIL with output matching PATTERN (grep -E). Passing, or failing
# for another reason, fails the control.
# usage: expect-finding.sh PATTERN COMMAND [ARG...]
set -u
pattern=$1
shift
log=$(mktemp /tmp/quiesce-fuzz-control.XXXXXX)
trap 'rm -f "$log"' EXIT
"$@" >"$log" 2>&1
rc=$?
runs=$(grep -oE '^#[0-9]+' "$log" | tail -1)
if [ "$rc" -eq 0 ]; then
  tail -n 5 "$log"
  echo "control FAILED: the command passed (${runs:-no} runs): the injected bug went unnoticed"
  exit 1
fi
if ! grep -Eq -- "$pattern" "$log"; then
  tail -n 30 "$log"
  echo "control FAILED: exit $rc, but nothing matched '$pattern'"
  exit 1
fi
grep -E -- "$pattern" "$log" | head -n 3
grep -E 'Test unit written to|^MS: ' "$log" | head -n 2
echo "control caught as intended: exit $rc after ${runs:-the seed} runs"
