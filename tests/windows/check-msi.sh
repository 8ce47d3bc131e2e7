#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# check-msi.sh MSI — the MSI holds what docs/windows.md promises: both
# files and the provider's type library, our service installed and
# controlled, qemu-ga's stopped, and the provider registered and
# unregistered by deferred actions.
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
echo "ok: $msi"
