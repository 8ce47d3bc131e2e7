#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# check-msi-install.sh WINE-RUN WXS STAGE — the MSI's whole life under
# wine's msiexec, in a wine prefix of its own: install, major upgrade,
# removal. STAGE holds what the MSI packs, with the test build of
# quiesced.exe (fake VSS and COM+ catalog; the catalog is a file named in
# HKLM\Software\quiesce-test, which the deferred actions read since they
# do not inherit our environment). Built here with wixl: the MSI from WXS
# and an upgrade (the same with Version 9.9.9). A stand-in QEMU-GA service
# (automatic start) plays qemu-ga. Checked after each step (docs/windows.md):
#   installed  our service (automatic, `--service`), the provider's COM+
#              application, QEMU-GA disabled and its start type recorded,
#              the files in Program Files;
#   removed    none of ours left, QEMU-GA automatic again, no record.
# Each check is also run where it must fail (before the install, after the
# removal), so it is known to catch the other state.
# Not shown here (wine is lenient): a deferred action scheduled outside the
# install script runs anyway (msi-tables checks the numbers), and wine's
# upgrade removes the old version before the new one's script runs.
set -eu
wine_run=$1
wxs=$2
stage=$3
command -v wixl >/dev/null || { echo "SKIP: no wixl"; exit 77; }

WINEPREFIX=${WINEPREFIX_MSI:-$(dirname "$stage")/msi-wineprefix}
export WINEPREFIX
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
catalog_unix=$work/catalog.txt
catalog_win="Z:$(echo "$catalog_unix" | tr / '\\')"
w() { "$wine_run" "$@" 2>/dev/null | tr -d '\r'; }
reg_value() { # KEY NAME: the value's data, or nothing
  w reg query "$1" /v "$2" | awk -v n="$2" '$1 == n { print $3 }'
}
fail() { echo "FAIL: $*"; exit 1; }

# The MSIs.
sed -E 's/(<Product [^>]*Version=")[^"]*"/\19.9.9"/' "$wxs" >"$work/upgrade.wxs"
grep -q 'Version="9.9.9"' "$work/upgrade.wxs" || fail "cannot make the upgrade's wxs"
(cd "$stage" && wixl -a x64 -o "$work/v1.msi" "$wxs" && wixl -a x64 -o "$work/v2.msi" "$work/upgrade.wxs")
v1="Z:$(echo "$work/v1.msi" | tr / '\\')"
v2="Z:$(echo "$work/v2.msi" | tr / '\\')"

services='HKLM\System\CurrentControlSet\Services'
record='HKLM\Software\quiesce\qemu-ga-start'
program_files=$WINEPREFIX/drive_c/Program\ Files/quiesce

# A run killed half-way may have left a product or the stand-in.
w msiexec /x "$v2" /qn >/dev/null || true
w msiexec /x "$v1" /qn >/dev/null || true
w sc delete QEMU-GA >/dev/null || true
w reg delete "$record" /f >/dev/null || true
w reg add 'HKLM\Software\quiesce-test' /v QUIESCE_FAKE_CATALOG /t REG_SZ /d "$catalog_win" /f >/dev/null
w sc create QEMU-GA binpath= 'C:\windows\system32\cmd.exe' start= auto >/dev/null
[ "$(reg_value "$services\\QEMU-GA" Start)" = 0x2 ] || fail "the stand-in QEMU-GA is not automatic"

# installed_wrong / removed_wrong: nothing when the state is right, else what is wrong.
installed_wrong() {
  w reg query "$services\\quiesced" /v ImagePath | grep -q 'quiesced.exe --service' ||
    { echo "our service is not registered"; return; }
  [ "$(reg_value "$services\\quiesced" Start)" = 0x2 ] || { echo "our service is not automatic"; return; }
  grep -q 'Name=s:quiesce VSS provider' "$catalog_unix" 2>/dev/null ||
    { echo "the provider's COM+ application is missing"; return; }
  [ "$(reg_value "$services\\QEMU-GA" Start)" = 0x4 ] || { echo "QEMU-GA is not disabled"; return; }
  [ "$(reg_value "$record" QEMU-GA)" = 0x2 ] || { echo "QEMU-GA's start type is not recorded"; return; }
  [ -f "$program_files/quiesced.exe" ] && [ -f "$program_files/quiesce-vss-provider.dll" ] &&
    [ -f "$program_files/quiesce-vss-provider.tlb" ] || { echo "files are missing"; return; }
}
removed_wrong() {
  w reg query "$services\\quiesced" | grep -q ImagePath && { echo "our service is left"; return; }
  grep -q 'Applications' "$catalog_unix" 2>/dev/null && { echo "the COM+ application is left"; return; }
  [ "$(reg_value "$services\\QEMU-GA" Start)" = 0x2 ] || { echo "QEMU-GA is not automatic again"; return; }
  w reg query "$record" | grep -q QEMU-GA && { echo "the record is left"; return; }
  [ -e "$program_files/quiesced.exe" ] && { echo "quiesced.exe is left"; return; }
  return 0
}
expect() { # STEP CHECK: the check finds nothing wrong
  wrong=$($2)
  [ -z "$wrong" ] || fail "after $1: $wrong"
  echo "ok: $1"
}
control() { # STEP CHECK: the check must find something wrong
  wrong=$($2)
  [ -n "$wrong" ] || fail "control: $2 found nothing wrong $1"
  echo "control: $2 $1 says \"$wrong\""
}

control "before the install" installed_wrong
w msiexec /i "$v1" /qn || fail "msiexec /i of the MSI failed"
expect "install" installed_wrong
control "after the install" removed_wrong
w msiexec /i "$v2" /qn || fail "msiexec /i of the upgrade failed"
expect "upgrade to 9.9.9" installed_wrong
w msiexec /x "$v2" /qn || fail "msiexec /x failed"
expect "removal" removed_wrong
control "after the removal" installed_wrong
w sc delete QEMU-GA >/dev/null || true
echo "ok: the MSI's install, upgrade and removal"
