#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-journal-native.sh QUIESCED — the agent's native journal logging over
# the real wire (agent/log.h): quiesced runs with its stderr connected to a
# fake journal's stream socket, so g_log_writer_is_journald() says yes, and
# GLib's journald writer sends its entries to the fake's datagram socket.
# GLib hard-codes /run/systemd/journal/{socket,stdout}, so the test runs in
# a private mount namespace (unshare -m) with a tmpfs over /run/systemd:
# nothing outside it sees the fake journal, the loop image or its mount.
# Root only (exit 77 otherwise); the agent is confined to the image, the
# only filesystem it freezes. The fake journal and the checks are in Python
# (journal-fake.py).
set -eu
quiesced=${1:?usage: $0 QUIESCED}
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" != 0 ] || ! command -v python3 >/dev/null || ! command -v mkfs.ext4 >/dev/null ||
  ! command -v unshare >/dev/null; then
  echo "skipped: needs root, python3, mkfs.ext4 and unshare"
  [ "${QUIESCE_TEST_REQUIRE_ROOT:-0}" = 1 ] && exit 1
  exit 77
fi
if [ "${QUIESCE_JOURNAL_INSIDE:-}" != 1 ]; then
  # Into a mount namespace of our own, mounts private: nothing leaks out.
  QUIESCE_JOURNAL_INSIDE=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

dir=$(mktemp -d /tmp/quiesce-journal.XXXXXX)
cleanup() {
  umount "$dir/mnt" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir /run/systemd/journal
mkdir "$dir/mnt" "$dir/state"
truncate -s 32M "$dir/image"
mkfs.ext4 -q -F "$dir/image"
mount -o loop "$dir/image" "$dir/mnt"
printf '[freeze]\nrunning-state-command=\n' >"$dir/quiesced.conf"
python3 "$here/journal-fake.py" "$quiesced" "$dir"
