# SPDX-License-Identifier: GPL-2.0-or-later
# virsh-nvme-lib.sh — vm/systemd-virsh's (scenario-systemd-virsh.sh) steps
# on its emulated NVMe disk, sourced by it after lib.sh, sd-lib.sh and
# lib-libvirt.sh. They use the scenario's DOM (the domain), v (virsh,
# output and errors) and $WORK/out (kept outputs).
#
# What moves between two reads of QEMU 7.2's SMART page (hw/nvme/ctrl.c,
# nvme_smart_info()): the data units read and written and the host read and
# write commands (the block layer's counts of the namespace), and
# power-on-hours, whole hours since the controller started (0 during this
# test's boot). controller-busy-time is always 0 there; the rest are
# constants of the model (temperature 323 K, spare, thresholds).

# The four counters set aside when two agents' replies are compared: the
# -lo halves (a -hi half would move only past 2^64).
NVME_MOVING='data-units-read data-units-written host-read-commands host-write-commands'

# smart_field FILE FIELD: FIELD of /dev/nvme0n1's smart member in the
# guest-get-disks reply FILE.
smart_field() {
  jq -r --arg f "$2" '.return[] | select(.name == "/dev/nvme0n1") | .smart[$f]' "$1"
}
# nvme_smart AGENT: guest-get-disks lists the NVMe disk with a smart member
# whose host-read-commands count the guest's reads. Keeps both replies
# ($WORK/out/AGENT-disks, -disks-2) as virsh printed them.
nvme_smart() {
  local a=$1 r0 r1
  v qemu-agent-command "$DOM" '{"execute":"guest-get-disks"}' | sed '/^$/d' >"$WORK/out/$a-disks" ||
    { cat "$WORK/out/$a-disks"; vm_fail "$a: guest-get-disks failed"; }
  jq -e '.return[] | select(.name == "/dev/nvme0n1" and .partition == false)
         | .smart | select(.type == "nvme" and .temperature > 0)' "$WORK/out/$a-disks" >/dev/null ||
    { cat "$WORK/out/$a-disks"; vm_fail "$a: guest-get-disks has no smart member for /dev/nvme0n1"; }
  jq -c '.return[] | select(.name == "/dev/nvme0n1")' "$WORK/out/$a-disks" | sed 's/^/    /'
  sd_sh 'dd if=/dev/nvme0n1 of=/dev/null bs=4096 count=256 iflag=direct status=none' ||
    vm_fail "reading the NVMe disk"
  v qemu-agent-command "$DOM" '{"execute":"guest-get-disks"}' | sed '/^$/d' >"$WORK/out/$a-disks-2" ||
    vm_fail "$a: guest-get-disks failed"
  r0=$(smart_field "$WORK/out/$a-disks" host-read-commands-lo)
  r1=$(smart_field "$WORK/out/$a-disks-2" host-read-commands-lo)
  echo "    smart host-read-commands $r0, then $r1 after 256 direct reads" | tee "$WORK/out/$a-smart-reads"
  [ $(( r1 - r0 )) -ge 256 ] || vm_fail "$a: smart's host-read-commands did not count the reads"
  vm_log "ok: $a: guest-get-disks: /dev/nvme0n1 with smart, counting the guest's reads"
}

# disks_norm FILE: the reply as virsh printed it, the moving counters' values
# replaced by N; every other byte as it was.
disks_norm() {
  local re
  re=$(tr ' ' '|' <<<"$NVME_MOVING")
  sed -E "s/\"(($re)-lo)\":[0-9]+/\"\\1\":N/g" "$1"
}
# disks_same EARLIER LATER: two guest-get-disks replies are the same but for
# the moving counters, and each of those did not go back from EARLIER to
# LATER (the same disk, read later).
disks_same() {
  local c e l
  cmp -s <(disks_norm "$1") <(disks_norm "$2") || return 1
  for c in $NVME_MOVING; do
    e=$(smart_field "$1" "$c-lo") l=$(smart_field "$2" "$c-lo")
    [ -n "$e" ] && [ -n "$l" ] && [ "$l" -ge "$e" ] || return 1
  done
}
# nvme_control NAME SED_SCRIPT: quiesced's reply edited by SED_SCRIPT (which
# must change it) must no longer pass disks_same against qemu-ga's.
nvme_control() {
  local q=$WORK/out/quiesced-disks-2 g=$WORK/out/qemu-ga-disks-2 c=$WORK/out/control-disks-$1
  sed -E "$2" "$q" >"$c"
  cmp -s "$q" "$c" && vm_fail "control $1: the edit changed nothing"
  if disks_same "$c" "$g"; then vm_fail "control $1: the guest-get-disks comparison misses it"; fi
  echo "    control $1: differs"
}

# nvme_compare: quiesced's and qemu-ga's replies (the second read of each,
# qemu-ga's later) are the same; each negative control makes them differ.
nvme_compare() {
  local q=$WORK/out/quiesced-disks-2 g=$WORK/out/qemu-ga-disks-2 t p r c raw
  if ! disks_same "$q" "$g"; then
    diff <(disks_norm "$q") <(disks_norm "$g")
    for c in $NVME_MOVING; do echo "    $c-lo: quiesced $(smart_field "$q" "$c-lo"), qemu-ga $(smart_field "$g" "$c-lo")"; done
    vm_fail "guest-get-disks differs between quiesced and qemu-ga"
  fi
  t=$(smart_field "$q" temperature)
  p=$(smart_field "$q" power-on-hours-lo)
  r=$(smart_field "$g" host-read-commands-lo)
  nvme_control temperature "s/\"temperature\":$t,/\"temperature\":$(( t + 1 )),/"
  nvme_control power-on-hours "s/\"power-on-hours-lo\":$p,/\"power-on-hours-lo\":$(( p + 1 )),/"
  nvme_control no-smart 's/,"smart":\{[^}]*\}//'
  nvme_control serial 's/quiesce-nvme-1/quiesce-nvme-2/'
  nvme_control reads-ahead "s/\"host-read-commands-lo\":[0-9]+,/\"host-read-commands-lo\":$(( r + 1 )),/"
  cmp -s "$q" "$g" && raw=same || raw="different counters"
  vm_log "ok: guest-get-disks is the same from both agents but for the NVMe I/O counters (raw: $raw), which only grew; the controls differ"
}
