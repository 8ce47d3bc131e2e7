#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-includes.sh [ROOT] — the layering rules of docs/internals.md, checked
# on every #include of the source tree at ROOT (default: this checkout):
#
#   protocol/   portable C: only ISO C headers and protocol/'s own; no GLib,
#               no POSIX or Linux header (it is also built with mingw-w64)
#   common/     nothing from fsfreeze/, transports/, agent/, host/
#   fsfreeze/, transports/   nothing from agent/ or host/
#   host/       nothing from agent/, fsfreeze/, transports/
#   client/     the LGPL writer client: nothing of ours outside client/, no GLib
#   db-writers/ database writers: only client/ and db-writers/ of ours, no GLib
#   windows/    (when it exists) only protocol/ and windows/ of ours
#
# Prints each violation as `file:line: <folder> must not include <header>`
# and a summary; exits 1 when there is any. A quoted name without a folder
# is resolved against the including file's folder, as the compiler does.
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/../..}" && pwd)

# ISO C11 headers: what mingw-w64 and every libc provide.
iso_c=" assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h
  locale.h math.h setjmp.h signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h
  stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h threads.h time.h uchar.h
  wchar.h wctype.h "
iso_c=" $(echo $iso_c) " # one space between names, for the match below

is_glib() {
  case $1 in
    glib.h | glib-object.h | glib-unix.h | glib/* | gio/* | gobject/* | gmodule.h) return 0 ;;
  esac
  return 1
}

# ours <header>: the header is one of our top-level folders.
ours() {
  local top=${1%%/*}
  [[ $1 == */* && -d $root/$top && $top != tests ]]
}

# rule <folder> <kind> <header>: prints why it is forbidden, or nothing.
rule() {
  local folder=$1 kind=$2 header=$3 top=${3%%/*}
  case $folder in
    protocol)
      if [[ $kind == angle ]]; then
        if is_glib "$header"; then echo "GLib"
        elif [[ $iso_c != *" $header "* ]]; then echo "a non-ISO-C system header"
        fi
      elif [[ $top != protocol ]]; then echo "a header outside protocol/"
      fi ;;
    common)
      [[ $kind == quote && $top =~ ^(fsfreeze|transports|agent|host)$ ]] && echo "$top/" ;;
    fsfreeze | transports)
      [[ $kind == quote && $top =~ ^(agent|host)$ ]] && echo "$top/" ;;
    host)
      [[ $kind == quote && $top =~ ^(agent|fsfreeze|transports)$ ]] && echo "$top/" ;;
    client)
      if [[ $kind == angle ]]; then is_glib "$header" && echo "GLib"
      elif [[ $top != client ]]; then echo "a header outside client/"
      fi ;;
    db-writers)
      if [[ $kind == angle ]]; then is_glib "$header" && echo "GLib"
      elif [[ ! $top =~ ^(client|db-writers)$ ]]; then echo "a header outside client/ and db-writers/"
      fi ;;
    windows)
      [[ $kind == quote && ! $top =~ ^(protocol|windows)$ ]] && echo "a header outside protocol/ and windows/" ;;
  esac
  return 0
}

include_re='^[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^>"]+)[>"]'
violations=0
files=0
for folder in protocol common fsfreeze transports host client db-writers windows; do
  [[ -d $root/$folder ]] || continue
  while IFS= read -r -d '' file; do
    files=$((files + 1))
    rel=${file#"$root"/}
    while IFS=: read -r line text; do
      [[ $text =~ $include_re ]] || continue
      header=${BASH_REMATCH[2]}
      if [[ ${BASH_REMATCH[1]} == '<' ]]; then
        kind=angle shown="<$header>"
      else
        kind=quote shown="\"$header\""
        if [[ $header != */* || $header == .* ]] && [[ -e $(dirname "$file")/$header ]]; then
          header=$(realpath -m --relative-to="$root" "$(dirname "$file")/$header")
        fi
      fi
      why=$(rule "$folder" "$kind" "$header")
      if [[ -n $why ]]; then
        echo "$rel:$line: $folder must not include $shown ($why)"
        violations=$((violations + 1))
      fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$file" || true)
  done < <(find "$root/$folder" -name build -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print0)
done

if ((violations > 0)); then
  echo "layering: $violations violation(s) in $files files"
  exit 1
fi
echo "layering: $files files, no violations"
