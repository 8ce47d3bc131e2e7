#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What wine can show of the service's event log: wine 8's
# RegisterEventSourceW is a stub (a fixme on the advapi channel naming the
# source) and ReportEventW prints each string on the eventlog channel, as
# err, warn or trace by event type; nothing is stored or readable. So this
# checks the calls: source "quiesced", each level with its type and text,
# no debug line. Negative control: with the event log off, none of it.
# usage: check-event-log.sh WINE-RUN TEST-EVENT-LOG.EXE
set -u
run=$1 exe=$2
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT

QUIESCE_WINEDEBUG=-all,+eventlog,fixme+advapi "$run" "$exe" >/dev/null 2>"$out" || {
  cat "$out"; echo "FAIL: test-event-log.exe failed"; exit 1; }
status=0
for want in 'RegisterEventSourceW ((null),L"quiesced")' \
            'err:eventlog:ReportEventW L"test error 1"' \
            'warn:eventlog:ReportEventW L"test warning 2"' \
            'trace:eventlog:ReportEventW L"test info 3"'; do
  grep -qF "$want" "$out" || { echo "FAIL: missing: $want"; status=1; }
done
if grep -q 'test debug' "$out"; then echo "FAIL: a debug line was reported"; status=1; fi
[ $status = 0 ] || { cat "$out"; exit 1; }
grep -F -e 'RegisterEventSourceW' -e 'eventlog:ReportEventW' "$out"

QUIESCE_WINEDEBUG=-all,+eventlog,fixme+advapi "$run" "$exe" --no-event-log >/dev/null 2>"$out"
if grep -q -e 'RegisterEventSourceW' -e 'eventlog:ReportEventW' "$out"; then
  cat "$out"; echo "FAIL: negative control: event log calls without the event log"; exit 1
fi
echo "ok: event log calls (wine prints them; a real event log is unproven)"
