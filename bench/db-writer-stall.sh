#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The stall a database's clients see during a backup, with its writer and
# without: the commit latency (p50 and max, ms) of a workload committing one
# transaction per 50 ms (tests/vm/pg-workload.c) while quiesce-backup takes
# a child-snapshot backup of the systemd guest (held frozen 1 s, as the vm
# tests do), ROUNDS backups with quiesce-writer-postgresql enabled and
# ROUNDS with it stopped, interleaved. It runs vm/systemd-postgresql's
# script with PG_ROUNDS=ROUNDS after its ctest fixtures (the image, the
# .debs, the installed overlay), so each mode's last snapshot is checked; the
# figures are the commits whose answer arrived while a backup ran, on the
# guest's console. Under TCG every figure is several times KVM's; the two
# modes share the guest, the workload and the backup, so they compare.
# usage: bench/db-writer-stall.sh [ROUNDS]   (default 5)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
build=$top/build/main

"$top/scripts/install-deps.sh" >&2
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j2 >/dev/null
state=$build/tests/vm/systemd-guest
rm -f "$state/postgresql-stall.txt"
# The two fixtures vm/systemd-postgresql requires (the image and .debs, the
# installed overlay) through ctest, then the scenario itself with ctest's
# environment for it (its TIMEOUT is sized for one round).
(cd "$build" && ctest -R '^vm/systemd-(setup|noport)$' --output-on-failure) >&2
env_lines=$(cd "$build" && ctest -R '^vm/systemd-postgresql$' --show-only=json-v1 | python3 -c '
import json, sys
for test in json.load(sys.stdin)["tests"]:
    if test["name"] != sys.argv[1]:
        continue
    for prop in test.get("properties", []):
        if prop["name"] == "ENVIRONMENT":
            print("\n".join(prop["value"]))' vm/systemd-postgresql)
while IFS= read -r line; do export "$line"; done <<<"$env_lines"
PG_ROUNDS=$rounds VM_NAME=db-writer-stall bash "$top/tests/vm/scenario-systemd-postgresql.sh" |
  grep -E 'round|commit latency|snapshot:|PASS|FAIL' >&2
cat "$state/postgresql-stall.txt"
