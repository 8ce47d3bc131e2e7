#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ctest package/debs: builds the Debian packages from SOURCE into OUT with
# scripts/build-debs.sh and runs lintian on them, failing on any error or
# warning. Skips (77) without dpkg-buildpackage or lintian, unless
# QUIESCE_TEST_REQUIRE_ROOT=1.
#   check-debs.sh SOURCE OUT
set -euo pipefail
source_dir=$1
out=$2

for tool in dpkg-buildpackage dh lintian scdoc; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is missing (scripts/install-deps.sh installs it)"
    [ "${QUIESCE_TEST_REQUIRE_ROOT:-0}" = 1 ] && exit 1
    exit 77
  fi
done
# The build's own log is long: keep it in OUT and show its end on failure.
mkdir -p "$out"
if ! "$source_dir/scripts/build-debs.sh" --lintian "$out" >"$out/build-debs.log" 2>&1; then
  tail -n 60 "$out/build-debs.log"
  echo "FAIL: the package build or lintian failed (whole log: $out/build-debs.log)"
  exit 1
fi
sed -n '/^=== lintian/,$p' "$out/build-debs.log"
for package in quiesced libquiesce-writer1 libquiesce-writer-dev quiesce-writer \
               quiesce-host-tools quiesce-writer-mariadb quiesce-writer-postgresql; do
  ls "$out/${package}"_*.deb >/dev/null || { echo "FAIL: no $package .deb"; exit 1; }
done
echo "PASS: 7 packages built, lintian clean"
