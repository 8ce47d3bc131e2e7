#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# check-msi.sh MSI — the MSI holds what docs/windows.md promises: both
# files and the provider's type library, our service installed and
# controlled, qemu-ga's stopped, and the provider registered and
# unregistered, qemu-ga's services disabled and given back, by deferred
# actions.
set -eu
msi=$1
tables=$(msiinfo tables "$msi")
for t in File Component ServiceInstall ServiceControl CustomAction InstallExecuteSequence; do
  echo "$tables" | grep -qx "$t" || { echo "FAIL: no $t table"; exit 1; }
done
msiinfo export "$msi" File | grep -q quiesced.exe
msiinfo export "$msi" File | grep -q quiesce-vss-provider.dll
msiinfo export "$msi" File | grep -q quiesce-vss-provider.tlb
msiinfo export "$msi" ServiceInstall | grep -q -- '--service'
msiinfo export "$msi" ServiceControl | grep -q 'QEMU-GA'
msiinfo export "$msi" ServiceControl | grep -q 'QEMU Guest Agent VSS Provider'
msiinfo export "$msi" CustomAction | grep -q -- '--install-provider'
msiinfo export "$msi" CustomAction | grep -q -- '--uninstall-provider'
msiinfo export "$msi" CustomAction | grep -q -- '--disable-qemu-ga'
msiinfo export "$msi" CustomAction | grep -q -- '--restore-qemu-ga'
# qemu-ga is disabled at install and given back at removal, not in an upgrade.
msiinfo export "$msi" InstallExecuteSequence | grep -q 'DisableQemuGa.NOT REMOVE'
msiinfo export "$msi" InstallExecuteSequence |
  grep -q 'RestoreQemuGa.REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE'
msiinfo export "$msi" InstallExecuteSequence |
  grep -q 'UnregisterProvider.REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE'
# Every deferred action (type bit 0x400) runs inside the install script:
# after InstallInitialize, before InstallFinalize (else error 2762).
msiinfo export "$msi" CustomAction | awk -F'\t' 'NR > 3 { print $1, $2 }' >"${TMPDIR:-/tmp}/ca.$$"
msiinfo export "$msi" InstallExecuteSequence | awk -F'\t' -v ca="${TMPDIR:-/tmp}/ca.$$" '
  BEGIN { while ((getline line < ca) > 0) { split(line, f, " "); type[f[1]] = f[2] } }
  NR > 3 { seq[$1] = $3 }
  END {
    bad = 0
    for (a in type) {
      if (int(type[a] / 1024) % 2 == 0) continue
      if (!(a in seq) || seq[a] <= seq["InstallInitialize"] || seq[a] >= seq["InstallFinalize"]) {
        print "FAIL: deferred action " a " at sequence " seq[a] " is outside " \
              seq["InstallInitialize"] "-" seq["InstallFinalize"]
        bad = 1
      }
    }
    exit bad
  }' || { rm -f "${TMPDIR:-/tmp}/ca.$$"; exit 1; }
rm -f "${TMPDIR:-/tmp}/ca.$$"
echo "ok: $msi"
