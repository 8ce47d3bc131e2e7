#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# negative-control.sh [ROOT] — shows check-includes.sh can fail: copies the
# folders it checks to a temp dir, confirms the copy passes, then injects
# one forbidden #include per rule (one at a time) and expects the checker
# to fail naming that file. Exits 1 if the checker passes any of them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "${1:-$here/../..}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/quiesce-layering-XXXXXX")
trap 'rm -rf "$work"' EXIT

for folder in protocol common fsfreeze transports agent host client db-writers windows; do
  if [[ -d $root/$folder ]]; then
    cp -r "$root/$folder" "$work/"
  fi
done
# The future Windows service, with what it may include, when not there yet.
if [[ ! -d $work/windows ]]; then
  mkdir "$work/windows"
  printf '#include "protocol/json-value.h"\n#include "windows/service.h"\n' > "$work/windows/service.c"
  : > "$work/windows/service.h"
fi

if ! "$here/check-includes.sh" "$work" > "$work/clean.out"; then
  cat "$work/clean.out"
  echo "negative control: the unmodified copy already fails; nothing to show"
  exit 1
fi

# folder|header as written: one forbidden include per rule.
cases=(
  'protocol|<glib.h>'
  'protocol|<gio/gio.h>'
  'protocol|<unistd.h>'
  'protocol|<linux/fs.h>'
  'protocol|"common/quiesce-error.h"'
  'common|"fsfreeze/freezer.h"'
  'common|"agent/agent.h"'
  'fsfreeze|"agent/agent.h"'
  'fsfreeze|"host/backup.h"'
  'transports|"agent/agent.h"'
  'host|"agent/agent.h"'
  'host|"fsfreeze/freezer.h"'
  'host|"transports/transport.h"'
  'client|"common/quiesce-error.h"'
  'client|<glib.h>'
  'db-writers|"common/quiesce-error.h"'
  'db-writers|<glib.h>'
  'windows|"common/quiesce-error.h"'
)
passed=0
missed=0
for case in "${cases[@]}"; do
  folder=${case%%|*} header=${case#*|}
  file=$(find "$work/$folder" -name '*.c' | sort | head -n 1)
  cp "$file" "$work/saved"
  printf '#include %s\n' "$header" >> "$file"
  rel=${file#"$work"/}
  if out=$("$here/check-includes.sh" "$work"); then
    echo "MISSED: $folder including $header passed the checker"
    missed=$((missed + 1))
  elif grep -qF "$rel:" <<< "$out"; then
    echo "caught: $(grep -F "$rel:" <<< "$out" | head -n 1)"
    passed=$((passed + 1))
  else
    echo "MISSED: the checker failed, but not on $rel:"
    echo "$out"
    missed=$((missed + 1))
  fi
  mv "$work/saved" "$file"
done

echo "negative control: $passed of ${#cases[@]} forbidden includes caught"
((missed == 0))
