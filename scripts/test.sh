#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The test command (README): installs dependencies, then configures, builds and
# runs ctest four times — the normal build (warnings as errors), an
# ASan/UBSan build, the portable protocol core and the Windows service
# (windows/) cross-built with mingw-w64, whose tests run under wine, and the
# libFuzzer targets (clang, ASan/UBSan, each run from its seed corpus for a
# bounded time: about three minutes).
# Run as root so the integration tests can loop-mount their own images;
# without root those tests are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
jobs=$(nproc)

scripts/install-deps.sh

run_build() {
  local name=$1; shift
  echo "=== $name build ==="
  cmake -S "$top" -B "$top/build/$name" -DQUIESCE_WERROR=ON "$@" >/dev/null
  cmake --build "$top/build/$name" -j "$jobs"
  (cd "$top/build/$name" && ctest --output-on-failure -j "$jobs" --timeout 600)
}

run_build main
# The vm tests boot guests with the agent inside, and the package tests build
# the .debs from source; once, in the main build, is enough.
run_build asan -DQUIESCE_SANITIZE=ON -DQUIESCE_VM_TESTS=OFF -DQUIESCE_PACKAGE_TESTS=OFF
# The mingw build also builds windows/ (quiesced.exe, the VSS provider, the
# MSI) and runs its end-to-end tests under wine. They start wine programs in
# parallel, and wine's very first start in a prefix fails when two race, so
# the build's own prefix is set up once first (cmake/wine-run.sh also takes
# a lock for it).
export WINEPREFIX="$top/build/mingw/wineprefix"
mkdir -p "$top/build/mingw"
[ -d "$WINEPREFIX" ] || WINEDEBUG=-all wineboot -i >/dev/null 2>&1 || true
run_build mingw -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64.cmake" -DQUIESCE_PROTOCOL_ONLY=ON
unset WINEPREFIX

# The fuzzers (tests/fuzz/CMakeLists.txt): only their targets are built and
# only the fuzz label runs; the other tests ran above. clang's warnings are
# errors here too.
echo "=== fuzz build ==="
cmake -S "$top" -B "$top/build/fuzz" -DCMAKE_C_COMPILER=clang -DQUIESCE_FUZZ=ON \
  -DQUIESCE_SANITIZE=ON -DQUIESCE_VM_TESTS=OFF -DQUIESCE_WERROR=ON >/dev/null
cmake --build "$top/build/fuzz" --target fuzzers -j "$jobs"
(cd "$top/build/fuzz" && ctest --output-on-failure -j "$jobs" -L fuzz)
echo "=== all test builds passed ==="
