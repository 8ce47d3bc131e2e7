#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vm-control — the test's hand in the systemd guest (only in the image
# scripts/vm/build-debian-guest.sh builds, never in a package). Serves the
# virtio-serial port org.quiesce.control.0: each line from the host is a
# base64-encoded bash script; it runs as root (at most 300 s) and the answer
# is its output, each line prefixed "| ", then "rc STATUS". A port whose host
# side is not connected reads as end of file: wait and open it again.
# Started by vm-control.service (multi-user.target). The port is found by its
# name in sysfs and opened as the kernel's /dev/vportNpM, which exists at
# once, not through udev's /dev/virtio-ports link, which under TCG comes
# some 20 s into the boot, when udev's coldplug reaches it.
# The scripts run without the port open (fd 3 closed): LVM tools, among
# others, warn about an inherited descriptor.
announced=0
while :; do
  port=
  for name in /sys/class/virtio-ports/*/name; do
    [ "$(cat "$name" 2>/dev/null)" = org.quiesce.control.0 ] && port=/dev/$(basename "$(dirname "$name")")
  done
  if [ -z "$port" ] || ! exec 3<>"$port"; then
    sleep 0.2
    continue
  fi
  if [ $announced = 0 ]; then
    # Through the kernel's log (critical, so the console shows it at
    # loglevel 4), not /dev/ttyS0: the serial getty's vhangup of ttyS0,
    # when it starts at that moment, can drop a line written to the tty
    # (one CI run lost it, and the host waited for a boot that had ended);
    # the kernel's console writes to the UART past the tty layer.
    echo "<2>vm-control: ready" >/dev/kmsg || echo "vm-control: ready" >/dev/ttyS0
    announced=1
  fi
  while IFS= read -r line <&3; do
    script=$(printf '%s' "$line" | base64 -d 2>/dev/null) || { echo "rc 254" >&3; continue; }
    out=$(timeout 300 bash -c "$script" 2>&1 </dev/null 3<&-)
    rc=$?
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/| /' >&3
    echo "rc $rc" >&3
  done
  exec 3<&-
  sleep 0.2
done
