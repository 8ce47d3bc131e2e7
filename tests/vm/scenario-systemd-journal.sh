#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd guest's journal of the backup (issue 12 point 9, g): no guest
# of its own; vm/systemd-port exported, from the guest's journald, the
# agent's lines (journal-quiesced.json) and what `journalctl
# QUIESCE_SESSION=<the backup's session>` finds (journal-session.json), as
# journalctl -o json, with the driver's report.
#
# Passes when the session's lines are there and the lines the agent held
# while frozen (docs/design.md §7: QUIESCE_HELD=1) carry their original time
# in QUIESCE_TIME (RFC 3339, UTC, microseconds) earlier than journald's
# receipt of the line (__REALTIME_TIMESTAMP). Skips (77) if no line has a
# QUIESCE_SESSION field (an agent that logs to stderr only).
. "$(dirname "$0")/lib.sh"

[ -n "${VM_SD_STATE:-}" ] || vm_fail "\$VM_SD_STATE must be set (run through ctest)"
all=$VM_SD_STATE/journal-quiesced.json
sess=$VM_SD_STATE/journal-session.json
[ -s "$all" ] && [ -f "$VM_SD_STATE/report" ] || vm_fail "no journal or report from vm/systemd-port in $VM_SD_STATE"
command -v python3 >/dev/null || vm_skip "python3 is needed to read the journal export"
session=$(sed -n 's/^session=//p' "$VM_SD_STATE/report")
vm_log "the backup's session: $session; quiesced.service logged $(wc -l <"$all") lines this boot"
if ! grep -q '"QUIESCE_SESSION"' "$all"; then
  vm_log "what the agent's lines carry: $(python3 -c 'import json,sys
keys=set()
for l in open(sys.argv[1]):
    keys.update(k for k in json.loads(l) if not k.startswith("_"))
print(" ".join(sorted(keys)))' "$all")"
  vm_skip "(g) quiesced emits no QUIESCE_SESSION= field (it logs to stderr, journald stores plain lines): native journald logging is not in this tree yet"
fi
python3 - "$sess" "$session" <<'PY' || vm_fail "(g) the session's journal"
import json, sys
from datetime import datetime, timezone
def usec(rfc3339):
    t = datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(t.timestamp()) * 1000000 + t.microsecond
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if not lines:
    sys.exit(f"journalctl QUIESCE_SESSION={sys.argv[2]} finds nothing")
held = 0
for e in lines:
    recv = int(e["__REALTIME_TIMESTAMP"])
    orig = e.get("QUIESCE_TIME")
    if e.get("QUIESCE_HELD") == "1" and orig is not None and usec(orig) < recv - 100000:
        held += 1
    print(f"  {e.get('QUIESCE_HELD', '-')} {orig or '-'} {recv} {e.get('MESSAGE')}")
if held == 0:
    sys.exit("no held line (QUIESCE_HELD=1) carries an original time (QUIESCE_TIME) before its receipt: the held lines' times are lost")
print(f"{len(lines)} lines of the session, {held} held while frozen and logged with their original time")
PY
vm_log "PASS (g)"
