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

# lib.sh's probe boots the busybox guest; this one boots the Debian kernel
# and waits for systemd's banner. The answer is shared with lib.sh's (same
# file: per host boot and QEMU version).
sd_choose_accel() {
  if [ -n "${QUIESCE_VM_ACCEL:-}" ]; then VM_ACCEL=$QUIESCE_VM_ACCEL; return; fi
  local key probe
  key=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)-$(qemu-system-x86_64 --version | head -1 | tr -c 'a-zA-Z0-9.\n' _)
  probe=$VM_CACHE/accel-$key
  if [ -f "$probe" ]; then
    read -r VM_ACCEL VM_ACCEL_WHY <"$probe"
    return
  fi
  VM_ACCEL=tcg
  VM_ACCEL_WHY="(no usable /dev/kvm)"
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    local dir pid i
    dir=$(mktemp -d "$WORK/kvm-probe.XXXXXX")
    qemu-img create -q -f qcow2 -F raw -b "$SD_GUEST/root.img" "$dir/root.qcow2"
    timeout 20 qemu-system-x86_64 -accel kvm -m 512 -smp 1 -nodefaults -display none -no-reboot \
      -kernel "$SD_GUEST/vmlinux" -initrd "$SD_GUEST/initrd.img" \
      -append "root=/dev/vda rw console=ttyS0 panic=-1" \
      -drive "file=$dir/root.qcow2,format=qcow2,if=virtio" \
      -chardev "file,id=con,path=$dir/console.log" -serial chardev:con >"$dir/qemu.log" 2>&1 &
    pid=$!
    for i in $(seq 150); do
      grep -q 'Welcome to' "$dir/console.log" 2>/dev/null && { VM_ACCEL=kvm; break; }
      kill -0 $pid 2>/dev/null || break
      sleep 0.1
    done
    kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
    if [ $VM_ACCEL = tcg ]; then
      VM_ACCEL_WHY="(KVM probe boot failed: $(grep -m1 -i -E 'error|fail' "$dir/qemu.log" || echo 'no systemd within 15 s'))"
    else
      VM_ACCEL_WHY="(KVM probe boot reached systemd)"
    fi
  fi
  echo "$VM_ACCEL $VM_ACCEL_WHY" >"$probe"
}

# sd_boot PORT [NAME]: boots the guest from the overlay $VM_SD_STATE/root.qcow2
# (created over the cached image when missing). PORT yes: the agent port
# org.qemu.guest_agent.0 is there from the start; no: only its chardev
# (qga), for a later device_add. Always: the control port, QMP, the data
# disks of VM_DRIVES, and the disk "debs" (read-only, so the backup leaves it
# out) with everything in $WORK/debs. Waits for vm-control's ready line and
# connects to it.
sd_boot() {
  local start i limit=2400 agent_port=()
  start=$(vm_now_ms)
  [ "$VM_ACCEL" = kvm ] && limit=600
  [ -f "$VM_SD_STATE/root.qcow2" ] ||
    qemu-img create -q -f qcow2 -F raw -b "$SD_GUEST/root.img" "$VM_SD_STATE/root.qcow2"
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
    -drive "file=$VM_SD_STATE/root.qcow2,format=qcow2,if=none,id=root,cache=writeback" \
    -device virtio-blk-pci,drive=root,serial=root \
    -chardev "file,id=con,path=$WORK/console.log" -serial chardev:con \
    -device virtio-serial-pci,id=vser \
    -chardev "socket,id=qga,path=$WORK/qga.sock,server=on,wait=off" "${agent_port[@]}" \
    -chardev "socket,id=ctl,path=$WORK/ctl.sock,server=on,wait=off" \
    -device virtserialport,bus=vser.0,chardev=ctl,name=org.quiesce.control.0 \
    -qmp "unix:$WORK/qmp.sock,server=on,wait=off" \
    "${VM_DRIVES[@]}" ${VM_QEMU_EXTRA:+"${VM_QEMU_EXTRA[@]}"} >"$WORK/qemu.log" 2>&1 &
  VM_QEMU_PID=$!
  for i in $(seq $limit); do
    grep -q 'vm-control: ready' "$WORK/console.log" 2>/dev/null && break
    kill -0 "$VM_QEMU_PID" 2>/dev/null || vm_fail "QEMU exited during boot"
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
  # booted system.
  SD_BOOT_STATE=$(sd_sh 'systemctl is-system-running --wait; systemd-analyze | head -n 1' 300) || true
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
  local i
  sd_sh 'systemctl --no-block poweroff' >/dev/null || true
  for i in $(seq 600); do kill -0 "$VM_QEMU_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$VM_QEMU_PID" 2>/dev/null; then
    vm_log "the guest did not power off in 60 s; stopping QEMU"
    vm_stop
  fi
  wait "$VM_QEMU_PID" 2>/dev/null || true
  VM_QEMU_PID=
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
# SECONDS, default sd_sh's); its output is shown indented, then "ok: WHAT";
# else the scenario fails with WHAT.
sd_expect() {
  local out
  out=$(sd_sh "$2" "${3:-120}") || { printf '%s\n' "$out"; vm_fail "$1"; }
  [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
  vm_log "ok: $1"
}
