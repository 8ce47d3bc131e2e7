#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs a Windows test program under wine with a scratch prefix and quiet
# debug output; the program's exit status is returned (docs/testing.md §5).
#
# Two wine programs started together while wine sets up a prefix can fail
# ("wine: chdir to /tmp/wine-XXXXXX/server-...: No such file or directory"):
# Debian's wine names a fresh mkdtemp() server directory in
# $WINEPREFIX/wineserver, and the second program reads the name before the
# first has made the directory. So one set-up step runs first, alone, under
# a lock: it creates the prefix (wineboot) and waits for its wineserver to
# exit; the programs after it find the prefix and its directory in place.
: "${WINEPREFIX:=${TMPDIR:-/tmp}/quiesce-wineprefix}"
# QUIESCE_WINEDEBUG replaces the quiet default for a test that reads a
# channel (tests/windows/check-event-log.sh).
WINEDEBUG=${QUIESCE_WINEDEBUG:--all}
export WINEPREFIX WINEDEBUG
wine=/usr/lib/wine/wine64

wine_ready() {
  [ -s "$WINEPREFIX/wineserver" ] && [ -d "/tmp/$(cat "$WINEPREFIX/wineserver")" ]
}

if ! wine_ready; then
  mkdir -p "$(dirname "$WINEPREFIX")"
  (
    flock 9
    if ! wine_ready; then
      "$wine" wineboot --init >/dev/null 2>&1
      /usr/lib/wine/wineserver -w
    fi
  ) 9>"$WINEPREFIX.lock"
fi
exec "$wine" "$@"
