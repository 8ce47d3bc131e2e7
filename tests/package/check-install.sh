#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ctest package/install: `cmake --install` of BUILD_DIR into a scratch
# DESTDIR, then checks what a user of the installed files would: the set of
# programs, the units' ExecStart= and Documentation= targets, --version,
# the library through pkg-config, systemd-analyze verify. Environment (from
# tests/package/CMakeLists.txt): BUILD_DIR VERSION BINDIR SBINDIR LIBDIR
# UNITDIR MANDIR, and DB_WRITERS (the db-writers/ programs this build has,
# each with a unit of the same name).
set -euo pipefail
dest=$(mktemp -d)
root=$(mktemp -d) # systemd-analyze's root: a copy of dest beside it, never inside
trap 'rm -rf "$dest" "$root"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

DESTDIR=$dest cmake --install "$BUILD_DIR" >/dev/null

# Programs: these and nothing else (no test or example program).
db_writers=${DB_WRITERS:-}
programs=$(cd "$dest" && ls "./$BINDIR" "./$SBINDIR" 2>/dev/null | grep -v -e '^$' -e ':$' | sort | tr '\n' ' ')
expected=$(printf '%s\n' quiesce-backup quiesce-writer quiesced $db_writers | sort | tr '\n' ' ')
[ "$programs" = "$expected" ] ||
  fail "installed programs are '$programs', not '$expected'"

# Every unit runs a program that is installed and names docs that are.
for unit in "$dest$UNITDIR"/*.service; do
  exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
  [ -x "$dest$exec_path" ] || fail "$(basename "$unit"): ExecStart=$exec_path is not installed"
  for doc in $(sed -n 's/^Documentation=//p' "$unit"); do
    case $doc in
      file://*) [ -f "$dest${doc#file://}" ] || fail "$(basename "$unit"): $doc is not installed" ;;
      man:*)
        page=${doc#man:}; name=${page%(*}; section=${page#*(}; section=${section%)}
        [ -f "$dest$MANDIR/man$section/$name.$section" ] ||
          fail "$(basename "$unit"): $doc is not installed" ;;
    esac
  done
done
[ -d "$dest/etc/quiesce/writers.d" ] || fail "/etc/quiesce/writers.d is not created"
[ -f "$dest/etc/quiesce/quiesced.conf" ] || fail "/etc/quiesce/quiesced.conf is not installed"

# --version: "NAME VERSION", the library found where it was installed.
for program in "$SBINDIR/quiesced" "$BINDIR/quiesce-writer" "$BINDIR/quiesce-backup" \
               $(for w in $db_writers; do echo "$SBINDIR/$w"; done); do
  got=$(LD_LIBRARY_PATH="$dest$LIBDIR" "$dest$program" --version 2>&1 || true)
  [ "$got" = "$(basename "$program") $VERSION" ] ||
    fail "$program --version printed '$got', not '$(basename "$program") $VERSION'"
done

# An application built against the installed header and library.
cat >"$dest/app.c" <<'APP'
#include <quiesce-writer.h>
int main(void) { return !quiesce_writer_name_is_valid("db"); }
APP
flags=$(PKG_CONFIG_PATH="$dest$LIBDIR/pkgconfig" PKG_CONFIG_SYSROOT_DIR=$dest \
        pkg-config --cflags --libs quiesce-writer) || fail "pkg-config knows no quiesce-writer"
# shellcheck disable=SC2086 # the flags are words
if cc -Wall -Werror -o "$dest/app" "$dest/app.c" $flags; then
  LD_LIBRARY_PATH="$dest$LIBDIR" "$dest/app" || fail "the application built on the library failed"
else
  fail "an application does not build against the installed header and library"
fi

# systemd's own check, against a root that holds the system's units and
# ours (without --root it would look for the programs on this machine).
if command -v systemd-analyze >/dev/null && [ -e /lib/systemd/system/sysinit.target ]; then
  cp -a "$dest/." "$root/" || fail "copying the installed tree for systemd-analyze failed"
  mkdir -p "$root$UNITDIR" && cp -rn /lib/systemd/system/. "$root$UNITDIR/"
  if ! out=$(MANPATH="$dest$MANDIR:" systemd-analyze verify --root="$root" \
             "$UNITDIR"/quiesced.service "$UNITDIR"/quiesced-hv-vss.service \
             $(for w in $db_writers; do echo "$UNITDIR/$w.service"; done) 2>&1) || [ -n "$out" ]; then
    fail "systemd-analyze verify: $out"
  fi
else
  echo "NOTE: no systemd-analyze or system units here: units not verified"
fi

if [ "$failures" -ne 0 ]; then
  exit 1
fi
echo "PASS: installed layout, units, --version, pkg-config and systemd-analyze verify"
