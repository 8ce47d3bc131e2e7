# SPDX-License-Identifier: GPL-2.0-or-later
# sd-lib.sh — sourced by the systemd-guest scenarios (scenario-systemd-*.sh)
# after lib.sh: the Debian 12 guest of scripts/vm/build-debian-guest.sh
# (systemd as PID 1), booted from its cached image through a qcow2 overlay
# that the scenarios share through VM_SD_STATE (vm/systemd-noport installs the
# .debs into it, vm/systemd-port boots it again), and the test's hand in
# the guest: vm-control on org.quiesce.control.0 (tests/vm/systemd-guest).
#
# Safety: as lib.sh. The .debs are installed inside the guest only, into the
# overlay; every freeze happens in the guest.
#
# Environment (ctest): as lib.sh, plus VM_SD_STATE (the directory the
# scenarios hand on: overlay, .debs, journal export) and VM_HV_VSS_CUSE.

SD_GUEST=
SD_OVERLAY=
SD_CTL_W=
SD_CTL_R=
SD_CTL_PID=

# sd_setup: tools, the work dir, the image (built or cached), the
# accelerator. Skips (77) when QEMU cannot run, like vm_setup.
sd_setup() {
  if ! command -v qemu-system-x86_64 >/dev/null; then
    vm_skip "qemu-system-x86_64 is not installed (scripts/install-deps.sh installs qemu-system-x86)"
  fi
  vm_require_tools qemu-img mkfs.ext4 mkfs.xfs e2fsck dumpe2fs debugfs xfs_repair xfs_logprint socat base64
  for v in QUIESCE_BACKUP VM_WORKLOAD VM_SD_STATE; do
    [ -n "${!v:-}" ] || vm_fail "\$$v must be set (run through ctest)"
  done
  WORK=$(mktemp -d /tmp/quiesce-vm.XXXXXX)
  trap sd_cleanup EXIT
  [ -z "${VM_WATCHDOG:-}" ] || vm_watchdog "$VM_WATCHDOG"
  mkdir -p "$WORK/backup" "$VM_SD_STATE"
  SD_GUEST=$("$VM_TOP/scripts/vm/build-debian-guest.sh" --cache "$VM_CACHE") ||
    vm_fail "building the Debian guest image failed"
  sd_choose_accel
  vm_log "guest $(basename "$SD_GUEST"), accelerator $VM_ACCEL ${VM_ACCEL_WHY:-}"
}

sd_cleanup() {
  local rc=$?
  set +e
  if [ -n "$SD_CTL_PID" ]; then kill "$SD_CTL_PID" 2>/dev/null || true; fi
  if [ $rc -ne 0 ] && [ -n "$WORK" ] && [ -f "$WORK/console.log" ]; then
    cp "$WORK/console.log" "$VM_SD_STATE/console-$VM_NAME.log" 2>/dev/null || true
  fi
  (exit $rc)   # vm_cleanup takes the status from $?
  vm_cleanup
}

# The systemd guest's probe (lib.sh's vm_probe_accel): the Debian kernel on
# a throw-away overlay, up to systemd's banner.
sd_choose_accel() {
  local overlay=$WORK/kvm-probe-root.qcow2
  [ -n "${QUIESCE_VM_ACCEL:-}" ] ||
    qemu-img create -q -f qcow2 -F raw -b "$SD_GUEST/root.img" "$overlay"
  vm_probe_accel 'Welcome to' 15 systemd -m 512 \
    -kernel "$SD_GUEST/vmlinux" -initrd "$SD_GUEST/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 panic=-1" \
    -drive "file=$overlay,format=qcow2,if=virtio"
}

# sd_boot PORT [NAME]: boots the guest from the overlay $VM_SD_STATE/root.qcow2
# (created over the cached image when missing), or from $SD_OVERLAY when set
# (a scenario's own overlay over that one, which it then leaves as it was).
# PORT yes: the agent port org.qemu.guest_agent.0 is there from the start;
# no: only its chardev (qga), for a later device_add. Always: the control
# port, QMP, the data disks of VM_DRIVES, and the disk "debs" (read-only, so
# the backup leaves it out) with everything in $WORK/debs. Waits for
# vm-control's ready line and connects to it.
sd_boot() {
  local start i limit=2400 agent_port=()
  start=$(vm_now_ms)
  [ "$VM_ACCEL" = kvm ] && limit=600
  local overlay=${SD_OVERLAY:-$VM_SD_STATE/root.qcow2}
  [ -f "$overlay" ] ||
    qemu-img create -q -f qcow2 -F raw -b "$SD_GUEST/root.img" "$overlay"
  if [ -d "$WORK/debs" ]; then
    truncate -s 64M "$WORK/debs.img"
    mkfs.ext4 -q -F -L debs -d "$WORK/debs" "$WORK/debs.img"
    VM_DRIVES+=(-drive "file=$WORK/debs.img,format=raw,if=none,id=debs,readonly=on"
                -device "virtio-blk-pci,drive=debs,serial=debs")
  fi
  [ "$1" = yes ] && agent_port=(-device virtserialport,bus=vser.0,chardev=qga,name=org.qemu.guest_agent.0,id=qgaport)
  local cpu=()
  [ "$VM_ACCEL" = tcg ] && cpu=(-cpu max)
  : >"$WORK/console.log"
  qemu-system-x86_64 -accel "$VM_ACCEL" "${cpu[@]}" -m 1024 -smp 2 -nodefaults -display none \
    -no-reboot -kernel "$SD_GUEST/vmlinux" -initrd "$SD_GUEST/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 panic=-1 loglevel=4 systemd.show_status=1" \
    -drive "file=$overlay,format=qcow2,if=none,id=root,cache=writeback" \
    -device virtio-blk-pci,drive=root,serial=root \
    -chardev "file,id=con,path=$WORK/console.log" -serial chardev:con \
    -device virtio-serial-pci,id=vser \
    -chardev "socket,id=qga,path=$WORK/qga.sock,server=on,wait=off" "${agent_port[@]}" \
    -chardev "socket,id=ctl,path=$WORK/ctl.sock,server=on,wait=off" \
    -device virtserialport,bus=vser.0,chardev=ctl,name=org.quiesce.control.0 \
    -qmp "unix:$WORK/qmp.sock,server=on,wait=off" \
    "${VM_DRIVES[@]}" ${VM_QEMU_EXTRA:+"${VM_QEMU_EXTRA[@]}"} >"$WORK/qemu.log" 2>&1 &
  VM_QEMU_PID=$!
  sd_attach "$start" "$limit" 'kill -0 "$VM_QEMU_PID" 2>/dev/null'
}

# sd_attach START_MS LIMIT ALIVE: waits (LIMIT tenths of a second) for
# vm-control's ready line in $WORK/console.log while the shell test ALIVE
# holds (the guest's QEMU runs), connects to its port on $WORK/ctl.sock and
# waits for the end of the boot. sd_boot's second half; a guest started
# otherwise (by libvirt, lib-libvirt.sh) uses it alone.
sd_attach() {
  local start=$1 limit=$2 i
  for i in $(seq "$limit"); do
    grep -q 'vm-control: ready' "$WORK/console.log" 2>/dev/null && break
    eval "$3" || vm_fail "QEMU exited during boot"
    sleep 0.1
  done
  grep -q 'vm-control: ready' "$WORK/console.log" || vm_fail "the guest did not boot in $((limit / 10)) s"
  VM_BOOT_MS=$(( $(vm_now_ms) - start ))
  vm_log "guest up (vm-control ready) in $VM_BOOT_MS ms ($VM_ACCEL)"
  rm -f "$WORK/ctl.in" "$WORK/ctl.out"
  mkfifo "$WORK/ctl.in" "$WORK/ctl.out"
  socat - UNIX-CONNECT:"$WORK/ctl.sock" <"$WORK/ctl.in" >"$WORK/ctl.out" &
  SD_CTL_PID=$!
  exec {SD_CTL_W}>"$WORK/ctl.in" {SD_CTL_R}<"$WORK/ctl.out"
  # vm-control answers before the boot is over (it does not wait for udev):
  # wait for the end of the boot, so that every scenario starts from a
  # booted system. Bounded in the guest: vm-control runs one command at a
  # time, so a wait that outlived sd_sh's own limit would hold up every
  # later step and hand it this one's answer. A boot not over by then goes
  # on as it is, with the jobs still pending in the log (once seen: a boot
  # not over after 300 s on a quiet machine, cause unknown).
  SD_BOOT_STATE=$(sd_sh 'timeout 150 systemctl is-system-running --wait
    [ $? -ne 124 ] || { echo "(boot not over after 150 s; pending:)"; systemctl list-jobs --no-pager | head -n 20; }
    systemd-analyze | head -n 1' 200) || true
  VM_BOOT_MS=$(( $(vm_now_ms) - start ))
  vm_log "boot finished in $VM_BOOT_MS ms: $(echo $SD_BOOT_STATE)"
}

# sd_sh SCRIPT [SECONDS]: runs the bash SCRIPT in the guest as root; prints
# its output (also kept in $WORK/ctl.log) and returns its exit status.
# Fine in a $(...) subshell: the connection's fds are the test's for its
# whole life, and one command runs at a time.
sd_sh() {
  local line rc=255
  printf '%s\n' "$(printf '%s' "$1" | base64 -w0)" >&"$SD_CTL_W"
  echo "## $1" >>"$WORK/ctl.log"
  while IFS= read -r -t "${2:-120}" line <&"$SD_CTL_R"; do
    case $line in
      "rc "*) rc=${line#rc }; break ;;
      "| "*) printf '%s\n' "${line#| }"; printf '%s\n' "${line#| }" >>"$WORK/ctl.log" ;;
    esac
  done
  echo "## rc $rc" >>"$WORK/ctl.log"
  return "$rc"
}

# sd_shutdown: powers the guest off (systemd's shutdown, so the overlay is
# clean for the next scenario) and waits for QEMU to exit.
sd_shutdown() {
  sd_sh 'systemctl --no-block poweroff' >/dev/null || true
  sd_gone 60 || { vm_log "the guest did not power off in 60 s; stopping QEMU"; vm_stop; sd_gone 1; }
}

# sd_gone SECONDS: waits that long for QEMU to exit (a power-off, or a
# reboot: QEMU runs with -no-reboot), then closes the control connection.
# Fails, leaving everything as it is, when QEMU still runs.
sd_gone() {
  local i
  for i in $(seq $(( $1 * 10 ))); do kill -0 "$VM_QEMU_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$VM_QEMU_PID" 2>/dev/null && return 1
  wait "$VM_QEMU_PID" 2>/dev/null || true
  VM_QEMU_PID=
  sd_detach
}

# sd_detach: closes the connection to vm-control that sd_attach opened.
sd_detach() {
  [ -n "$SD_CTL_PID" ] || return 0
  kill "$SD_CTL_PID" 2>/dev/null || true
  exec {SD_CTL_W}>&- {SD_CTL_R}<&-
  SD_CTL_PID=
}

# sd_port_plug / sd_port_unplug: the agent port org.qemu.guest_agent.0
# (chardev qga, id qgaport) hot-plugged and unplugged over QMP. QEMU frees
# the chardev of an unplugged port a moment after device_del returns (a
# device_add at once fails with "Device 'qga' is in use"): retry for 5 s.
sd_port_plug() {
  local i
  for i in $(seq 50); do
    vm_qmp '{"execute":"device_add","arguments":{"driver":"virtserialport","bus":"vser.0","chardev":"qga",
             "name":"org.qemu.guest_agent.0","id":"qgaport"}}' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  vm_qmp '{"execute":"device_add","arguments":{"driver":"virtserialport","bus":"vser.0","chardev":"qga",
           "name":"org.qemu.guest_agent.0","id":"qgaport"}}'
}
sd_port_unplug() { vm_qmp '{"execute":"device_del","arguments":{"id":"qgaport"}}' >/dev/null; }

# sd_expect WHAT SCRIPT [SECONDS]: SCRIPT must succeed in the guest (within
# SECONDS, default sd_sh's 120); its output is shown indented, then
# "ok: WHAT"; else the scenario fails with WHAT.
sd_expect() {
  local out
  out=$(sd_sh "$2" "${3:-120}") || { printf '%s\n' "$out"; vm_fail "$1"; }
  [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
  vm_log "ok: $1"
}
