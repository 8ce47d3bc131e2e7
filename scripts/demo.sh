#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job (README): an application-consistent backup of a real QEMU
# guest. Installs what it needs, builds quiesced, the host driver and the test
# guest (Debian's kernel and busybox, cached under build/vm-cache), boots the
# guest with an ext4 and an xfs data disk, a workload and the example SQLite
# writer, runs one child-snapshot backup and checks the snapshot, printing a
# short report with the times. See scripts/vm/demo-backup.sh.
set -euo pipefail
exec "$(dirname "$0")/vm/demo-backup.sh" "$@"
