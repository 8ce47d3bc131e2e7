#!/bin/sh
# Runs a Windows test program under wine with a scratch prefix and quiet
# debug output; the program's exit status is returned (docs/testing.md §5).
: "${WINEPREFIX:=${TMPDIR:-/tmp}/quiesce-wineprefix}"
export WINEPREFIX WINEDEBUG=-all
exec /usr/lib/wine/wine64 "$@"
