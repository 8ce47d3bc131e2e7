#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the Debian packages (debian/) from a copy of this tree, so the
# package build never writes into the work tree: the .debs, .changes and
# .buildinfo end up in OUT (default build/debs/), which the vm tests
# install from. With --lintian, runs lintian on them afterwards and fails
# on any error or warning (overrides in debian/*.lintian-overrides say why).
#
#   scripts/build-debs.sh [--lintian] [OUT]
#
# Needs the Build-Depends of debian/control (scripts/install-deps.sh).
# DEB_BUILD_OPTIONS is passed through (nocheck skips the unit tests).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

lintian=0
if [ "${1:-}" = "--lintian" ]; then
  lintian=1
  shift
fi
out=$(mkdir -p "${1:-$top/build/debs}" && cd "${1:-$top/build/debs}" && pwd)
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
work="$out/work"
src="$work/quiesce-$version"

rm -rf "$work" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$src"
# The files git knows (tracked, or new and not ignored) as they are now; a
# tree that is no git checkout is copied whole but for build/.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$top" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do { [ -e "$f" ] || [ -L "$f" ]; } && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$src"
else
  tar -C "$top" --exclude=./build -cf - . | tar -xf - -C "$src"
fi

(cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)")
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
rm -rf "$work"
ls -l "$out"

if [ "$lintian" = 1 ]; then
  changes=$(ls "$out"/*.changes)
  echo "=== lintian $changes"
  lintian --fail-on error,warning --info "$changes"
  echo "lintian: no error, no warning"
fi
