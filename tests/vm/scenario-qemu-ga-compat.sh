#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Compatibility in a real guest: quiesced and Debian's qemu-ga (the reference,
# copied from the host's qemu-guest-agent package) run side by side on two
# virtio-serial ports of one guest with ext4, xfs and a written vfat disk, and
# answer the same freeze-family requests — one agent at a time, each
# starting thawed, so they never see each other's freezes. Results and error
# classes/messages must match; guest-get-fsinfo must agree on every field
# qemu-ga reports that clients read (name, mountpoint, type, sizes, disk
# bus/dev). The protocol tests cannot do this on the host: they may not
# freeze anything there.
. "$(dirname "$0")/lib.sh"

qemu_ga=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
[ -x "$qemu_ga" ] || vm_fail "qemu-ga is not installed (package qemu-guest-agent, scripts/install-deps.sh)"
VM_EXTRA_BINS="$qemu_ga ${VM_EXTRA_BINS:-}"
vm_setup
vm_disk data-ext4 ext4 128
vm_disk data-xfs xfs 320
vm_disk data-vfat vfat 64
VM_QEMU_EXTRA=(-chardev "socket,id=ref,path=$WORK/ref.sock,server=on,wait=off"
               -device virtserialport,chardev=ref,name=org.qemu.guest_agent.1)
vm_scenario <<'EOF'
vm_mount data-ext4 ext4 /data/ext4
vm_mount data-xfs xfs /data/xfs
vm_mount data-vfat vfat /data/vfat
echo data >/data/vfat/file
vm_agent
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.1 -t /run -f /run/qemu-ga.pid &
vm_ready
EOF
vm_boot

ask() { vm_ask "$@"; }

# The sequence, in order; each agent runs all of it while the other is idle.
cases=(
  '{"execute":"guest-fsfreeze-status"}'
  '{"execute":"guest-fsfreeze-thaw"}'
  '{"execute":"guest-fsfreeze-freeze"}'
  '{"execute":"guest-fsfreeze-status"}'
  '{"execute":"guest-fsfreeze-freeze"}'
  '{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/data/ext4"]}}'
  '{"execute":"guest-get-fsinfo"}'
  '{"execute":"guest-fsfreeze-thaw"}'
  '{"execute":"guest-fsfreeze-status"}'
  '{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/data/ext4"]}}'
  '{"execute":"guest-fsfreeze-thaw"}'
  '{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/data/vfat"]}}'
  '{"execute":"guest-fsfreeze-thaw"}'
  '{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/data/xfs","/data/ext4"]}}'
  '{"execute":"guest-fsfreeze-thaw"}'
  '{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/data/nope"]}}'
  '{"execute":"guest-fsfreeze-thaw"}'
  '{"execute":"guest-get-fsinfo"}'
)
# Deliberate differences (docs/protocol.md §QGA commands): each answer is
# asserted exactly, both agents' ("quiesced answer|qemu-ga answer"), so a
# timeout or any other error of either fails. qemu-ga 7.2's freeze-list
# freezes the mounts that match the list and counts them, 0 when none does
# (and it is then "frozen" with nothing frozen: the next thaw answers 0 on
# both); quiesced refuses a path it cannot freeze.
nope='{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/data/nope"]}}'
vfat='{"execute":"guest-fsfreeze-freeze-list","arguments":{"mountpoints":["/data/vfat"]}}'
declare -A known=(
  [$nope]="error GenericError: /data/nope is not a mounted filesystem that can be frozen|0"
  [$vfat]="error GenericError: /data/vfat is not a mounted filesystem that can be frozen: vfat does not support freezing; exclude /data/vfat to snapshot without it|0"
)
declare -A known_why=(
  [$nope]="qemu-ga ignores a path that is not mounted; quiesced refuses it"
  [$vfat]="qemu-ga silently skips a filesystem it cannot freeze; quiesced refuses it"
)

# guest-get-fsinfo: the fields qemu-ga reports, in order, values included;
# fields only quiesced adds (serial, total-bytes-privileged) are not compared.
fsinfo_fields() {
  grep -oE '"(name|mountpoint|type|dev|bus-type)": "[^"]*"|"(total-bytes|used-bytes|bus|unit|target|domain|slot|function)": [0-9]+' <<<"$1"
}

run_all() { # SOCKET OUT
  local c
  for c in "${cases[@]}"; do ask "$1" "$c"; done >"$2"
}
run_all "$WORK/qga.sock" "$WORK/quiesced.out"
run_all "$WORK/ref.sock" "$WORK/qemu-ga.out"

failures=0
for i in "${!cases[@]}"; do
  ours=$(sed -n "$((i + 1))p" "$WORK/quiesced.out")
  ref=$(sed -n "$((i + 1))p" "$WORK/qemu-ga.out")
  case ${cases[$i]} in
    *guest-get-fsinfo*) same=$([ "$(fsinfo_fields "$ours")" = "$(fsinfo_fields "$ref")" ] && echo y || true) ;;
    *) same=$([ "$ours" = "$ref" ] && echo y || true) ;;
  esac
  if [ -n "${known[${cases[$i]}]:-}" ]; then
    if [ "$ours|$ref" = "${known[${cases[$i]}]}" ]; then
      vm_log "KNOWN DIFFERENCE ${cases[$i]}: quiesced '$ours', qemu-ga '$ref' (${known_why[${cases[$i]}]})"
    else
      vm_log "NOT THE KNOWN DIFFERENCE ${cases[$i]}"
      echo "    quiesced: $ours"
      echo "    expected: ${known[${cases[$i]}]%|*}"
      echo "    qemu-ga:  $ref"
      echo "    expected: ${known[${cases[$i]}]##*|}"
      failures=$((failures + 1))
    fi
  elif [ -n "$same" ]; then
    vm_log "same   ${cases[$i]} -> ${ref:0:100}"
  else
    vm_log "DIFFERENT ${cases[$i]}"
    echo "    quiesced: $ours"
    echo "    qemu-ga:  $ref"
    failures=$((failures + 1))
  fi
done
[ $failures -eq 0 ] || vm_fail "$failures answer(s) differ from qemu-ga's, or from the known difference"
vm_stop
echo "vm[$VM_NAME]: PASS quiesced answers ${#cases[@]} freeze-family requests as Debian's qemu-ga does ($VM_ACCEL)"
