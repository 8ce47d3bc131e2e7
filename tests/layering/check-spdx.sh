#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every source file names its licence in an SPDX line near its top:
# LGPL-2.1-or-later for the writer client library (client/quiesce-writer.{c,h},
# which applications link), GPL-2.0-or-later for everything else.
#   check-spdx.sh TREE            checks the files git tracks in TREE
#   check-spdx.sh --self-test TREE  shows the check fails on a copy with one
#                                 line removed and one licence swapped
set -euo pipefail

check() { # ROOT: prints every file that is wrong, exit 1 if any
  local root=$1 bad=0 f want
  while IFS= read -r f; do
    case $f in
      tests/fixtures/*|tests/fuzz/corpus/*) continue ;;
      *.c|*.h|*.sh|*.py|*.cmake|*/CMakeLists.txt|CMakeLists.txt) ;;
      *) continue ;;
    esac
    case $f in
      client/quiesce-writer.c|client/quiesce-writer.h) want=LGPL-2.1-or-later ;;
      *) want=GPL-2.0-or-later ;;
    esac
    if ! head -n 3 "$root/$f" | grep -q "SPDX-License-Identifier: $want\b"; then
      echo "$f: no 'SPDX-License-Identifier: $want' in its first lines"
      bad=1
    fi
  done < <(cd "$root" && { git ls-files 2>/dev/null || find . -type f | sed 's|^\./||'; })
  return $bad
}

if [ "${1:-}" = --self-test ]; then
  root=$2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/agent" "$work/client"
  cp "$root/agent/agent.c" "$work/agent/agent.c"
  cp "$root/client/quiesce-writer.h" "$work/client/quiesce-writer.h"
  check "$work" >/dev/null || { echo "self-test: the unmodified copy fails"; exit 1; }
  sed -i '/SPDX-License-Identifier/d' "$work/agent/agent.c"
  sed -i 's/LGPL-2.1-or-later/GPL-2.0-or-later/' "$work/client/quiesce-writer.h"
  out=$(check "$work") && { echo "self-test: the check let both faults through"; exit 1; }
  echo "$out"
  [ "$(echo "$out" | wc -l)" -eq 2 ] || { echo "self-test: expected 2 findings"; exit 1; }
  echo "self-test: both faults caught"
  exit 0
fi

root=${1:-.}
if check "$root"; then
  echo "spdx: every source file names its licence"
else
  exit 1
fi
