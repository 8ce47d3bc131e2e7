# SPDX-License-Identifier: GPL-2.0-or-later
# lib-libvirt.sh — sourced after lib.sh by the scenarios that drive the
# guest through libvirt (scenario-libvirt-backend.sh): a private libvirtd
# started by the test, domains made of the vm-test guest, and their restore.
#
# The daemon (docs/testing.md §6) runs as root in a mount namespace of its
# own, where /run, /etc/libvirt, /var/lib/libvirt, /var/cache/libvirt and
# /var/log/libvirt are this test's directories under $WORK/libvirt, so it
# shares no state, lock or socket with any other libvirtd on the machine; its
# unix socket is in $WORK/libvirt/sock and the test connects with
# qemu:///system?socket=... (LV_URI). lv_start_ssh adds the way a fleet's
# hosts are reached: libvirt's remote driver over ssh (LV_SSH_URI,
# qemu+ssh://root@127.0.0.1:PORT/system), served by a dropbear of the
# test's own (package dropbear-bin: binaries only, no service) inside the
# daemon's namespace. Only the QEMU connection driver is
# loaded (LIBVIRT_DRIVER_DIR holds just it), so no network is started; no
# virtlogd (stdio_handler = "file"), no cgroups, no security driver, QEMU runs
# as root. The daemon and its domains are stopped by lv_stop, and by the
# EXIT trap whatever happens.

LV_DIR=
LV_URI=
LV_SSH_URI=
LV_SSH_PID=
LV_PID=
LV_DOMAINS=()

lv_virsh() { virsh -q -c "$LV_URI" "$@"; }

lv_start() {
  vm_require_tools libvirtd virsh unshare
  LV_DIR=$WORK/libvirt
  mkdir -p "$LV_DIR"/{etc,lib,cache,log,sock,drivers}
  ln -s /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so "$LV_DIR/drivers/" ||
    vm_fail "no libvirt QEMU driver (scripts/install-deps.sh installs libvirt-daemon-driver-qemu)"
  cat >"$LV_DIR/etc/libvirtd.conf" <<EOF
unix_sock_dir = "$LV_DIR/sock"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "2:file:$LV_DIR/libvirtd.log"
EOF
  cat >"$LV_DIR/etc/qemu.conf" <<EOF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = []
cgroup_controllers = []
stdio_handler = "file"
EOF
  # The namespace's set-up, then libvirtd -d: the daemon stays in it.
  cat >"$LV_DIR/start.sh" <<'EOF'
set -e
d=$1
mount --make-rprivate /
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/libvirt
for p in lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt etc:/etc/libvirt; do
  mount --bind "$d/${p%%:*}" "${p#*:}"
done
export LIBVIRT_DRIVER_DIR=$d/drivers
exec libvirtd -d --config "$d/etc/libvirtd.conf" --pid-file "$d/libvirtd.pid"
EOF
  unshare -m bash "$LV_DIR/start.sh" "$LV_DIR" || vm_fail "libvirtd did not start"
  LV_URI="qemu:///system?socket=$LV_DIR/sock/libvirt-sock"
  local i
  for i in $(seq 100); do
    [ -s "$LV_DIR/libvirtd.pid" ] && lv_virsh list >/dev/null 2>&1 && break
    sleep 0.1
  done
  LV_PID=$(cat "$LV_DIR/libvirtd.pid" 2>/dev/null) || vm_fail "libvirtd wrote no pid file"
  lv_virsh list >/dev/null || vm_fail "libvirtd does not answer: $(tail -n 5 "$LV_DIR/libvirtd.log")"
  vm_log "libvirtd $LV_PID up (private namespace), $LV_URI"
}

# lv_start_ssh: an ssh server for LV_SSH_URI. dropbear runs in a mount
# namespace nested in the daemon's, where /root is this test's directory
# (its .ssh/authorized_keys holds a key made here; the machine's /root is
# not touched) and /run/libvirt is the daemon's socket directory, so the
# virt-ssh-helper that libvirt's client starts over ssh finds
# qemu:///system's socket where it looks. The client's ssh (the URI's
# command=, a wrapper) uses the key and keeps no known_hosts.
lv_start_ssh() {
  vm_require_tools dropbear dropbearkey ssh ssh-keygen virt-ssh-helper nsenter
  local d=$LV_DIR/ssh port i
  mkdir -p "$d/root/.ssh"
  chmod 700 "$d/root" "$d/root/.ssh"
  ssh-keygen -q -t ed25519 -N '' -C quiesce-vm-test -f "$d/id" || vm_fail "ssh-keygen failed"
  install -m 0600 "$d/id.pub" "$d/root/.ssh/authorized_keys"
  dropbearkey -t ed25519 -f "$d/hostkey" >/dev/null 2>&1 || vm_fail "dropbearkey failed"
  printf '%s\n' '#!/bin/sh' \
    'exec ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR -o BatchMode=yes "$@"' \
    >"$d/ssh"
  chmod 0755 "$d/ssh"
  port=$(lv_free_port) || vm_fail "no free TCP port on 127.0.0.1 for dropbear"
  nsenter -t "$LV_PID" -m unshare -m sh -c \
    "mount --bind '$d/root' /root && mkdir -p /run/libvirt && mount --bind '$LV_DIR/sock' /run/libvirt &&
     exec dropbear -F -E -s -p '127.0.0.1:$port' -r '$d/hostkey'" >"$d/dropbear.log" 2>&1 &
  LV_SSH_PID=$!
  LV_SSH_URI="qemu+ssh://root@127.0.0.1:$port/system?keyfile=$d/id&command=$d/ssh&no_tty=1"
  for i in $(seq 50); do
    virsh -q -c "$LV_SSH_URI" list >/dev/null 2>&1 && break
    sleep 0.2
  done
  virsh -q -c "$LV_SSH_URI" list >/dev/null ||
    vm_fail "libvirtd does not answer over ssh: $(tail -n 5 "$d/dropbear.log")"
  vm_log "ssh server $LV_SSH_PID up: $LV_SSH_URI"
}

# lv_free_port: a TCP port no socket uses (/proc/net/tcp*, ports in hex),
# in the dynamic range, varied by this shell's pid so parallel runs differ.
lv_free_port() {
  local port i used hex
  used=$(for hex in $(awk 'NR > 1 {split($2, a, ":"); print a[2]}' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
           echo $(( 16#$hex )); done)
  for i in $(seq 0 99); do
    port=$(( 49152 + ($$ * 7 + i * 131) % 16000 ))
    grep -qx "$port" <<<"$used" || { echo "$port"; return 0; }
  done
  return 1
}

# lv_stop: destroys this test's domains, then stops the daemon it started.
lv_stop() {
  if [ -n "$LV_SSH_PID" ]; then kill "$LV_SSH_PID" 2>/dev/null || true; LV_SSH_PID=; fi
  [ -n "$LV_PID" ] || return 0
  local d i
  for d in $(lv_virsh list --name 2>/dev/null); do lv_virsh destroy "$d" >/dev/null 2>&1 || true; done
  kill "$LV_PID" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$LV_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$LV_PID" 2>/dev/null || true
  LV_PID=
}

lv_cleanup() {
  local rc=$?
  set +e
  [ "$rc" -eq 0 ] || { [ -n "$LV_DIR" ] && grep -E " (error|warning) : " "$LV_DIR/libvirtd.log" | tail -n 20 2>/dev/null; }
  lv_stop
  (exit $rc)
  vm_cleanup
}

# lv_disk DOMAIN SERIAL FSTYPE SIZE_MB: $WORK/DOMAIN-SERIAL.img, formatted.
lv_disk() {
  local img=$WORK/$1-$2.img
  truncate -s "${4}M" "$img"
  case $3 in
    ext4) mkfs.ext4 -q -F -L "$2" "$img" ;;
    xfs) mkfs.xfs -q -f -L "$2" "$img" ;;
    vfat) mkfs.vfat -n "$(echo "${2:0:11}" | tr a-z- A-Z_)" "$img" >/dev/null ;;
    *) vm_fail "lv_disk: $3" ;;
  esac
}

# lv_guest_file DOMAIN GUEST_PATH: a file for that domain's guest (stdin).
lv_guest_file() {
  mkdir -p "$WORK/overlay-$1/$(dirname "$2")"
  cat >"$WORK/overlay-$1/$2"
}

# lv_domain_xml DOMAIN SERIAL...: the domain's XML on stdout: the test
# guest's kernel and initrd, one virtio disk per SERIAL (vda, vdb, ... in
# order), the console in $WORK/DOMAIN.console, the agent's channel (libvirt's
# own socket) and the control port on $WORK/DOMAIN-ctl.sock.
lv_domain_xml() {
  local name=$1 type=qemu cpu="<cpu mode='maximum'/>" letters=abcdefgh i=0 s
  shift
  [ "$VM_ACCEL" = kvm ] && { type=kvm; cpu="<cpu mode='host-passthrough'/>"; }
  cat <<EOF
<domain type='$type'>
  <name>$name</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST/vmlinux</kernel><initrd>$WORK/$name.initrd</initrd>
    <cmdline>console=ttyS0 panic=-1 loglevel=4</cmdline></os>
  $cpu
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
EOF
  for s in "$@"; do
    cat <<EOF
    <disk type='file' device='disk'><driver name='qemu' type='raw' cache='writeback'/>
      <source file='$WORK/$name-$s.img'/><target dev='vd${letters:$i:1}' bus='virtio'/>
      <serial>$s</serial></disk>
EOF
    i=$((i + 1))
  done
  lv_xml_tail "$WORK/$name.console" "$WORK/$name-ctl.sock"
}

# lv_xml_tail CONSOLE CONTROL_SOCKET [XML]: the end of a domain's XML: the
# console in a file, the agent's channel (libvirt's own socket), the control
# port, and XML after the devices.
lv_xml_tail() {
  cat <<EOF
    <serial type='file'><source path='$1'/><target port='0'/></serial>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <channel type='unix'><source mode='bind' path='$2'/>
      <target type='virtio' name='org.quiesce.control.0'/></channel>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>${3:-}
</domain>
EOF
}

# lv_create DOMAIN SERIAL...: starts the domain (transient: destroy removes
# it) with its overlay (lv_guest_file) appended to the guest's initramfs.
lv_create() {
  local name=$1
  (cd "$WORK/overlay-$name" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) \
    >"$WORK/$name.overlay.cpio"
  cat "$GUEST/initramfs.cpio" "$WORK/$name.overlay.cpio" >"$WORK/$name.initrd"
  lv_domain_xml "$@" >"$WORK/$name.xml"
  lv_virsh create "$WORK/$name.xml" >/dev/null || vm_fail "virsh create $name failed"
  LV_DOMAINS+=("$name")
}

# lv_wait_ready DOMAIN SECONDS
lv_wait_ready() {
  vm_wait_file 'vm-init: ready' "$WORK/$1.console" "$2" || vm_fail "$1 did not boot in $2 s"
}

# lv_committed CONSOLE NAME: the highest SEQ workload NAME reported.
lv_committed() {
  awk -v n="$2" '($1 == "committed" || $1 == "written") && $2 == n && $3 + 0 > m {m = $3 + 0}
                 END {print m + 0}' "$1"
}

# lv_wait_progress CONSOLE NAME SEQ SECONDS: until NAME reports past SEQ.
lv_wait_progress() {
  local i
  for i in $(seq $(( $4 * 10 ))); do
    [ "$(lv_committed "$1" "$2")" -gt "$3" ] && return 0
    sleep 0.1
  done
  return 1
}

lv_report() { sed -n "s/^$1\.$2=//p" "$WORK/lv-report"; }

# lv_backup ARGS... DOMAIN...: quiesce-backup --connect into $WORK/backup,
# report in $WORK/lv-report; sets LV_RC to the exit status. Through LV_URI,
# or the URI in LV_BACKUP_URI when set.
lv_backup() {
  LV_RC=0
  "$QUIESCE_BACKUP" --connect "${LV_BACKUP_URI:-$LV_URI}" --dest "$WORK/backup" --report "$WORK/lv-report" \
    backup "$@" || LV_RC=$?
}

# lv_restore DOMAIN: the saved state in $WORK/backup (DOMAIN.memory and the
# disks), restored on copies under $WORK/restore after the domain is
# destroyed: the guest runs on from the backup instant. Its console goes to
# $WORK/DOMAIN.restored.console, its control port to
# $WORK/DOMAIN-restored-ctl.sock.
lv_restore() {
  local name=$1 xml=$WORK/$1.restore.xml s t i=0 letters=abcdefgh
  mkdir -p "$WORK/restore"
  lv_virsh save-image-dumpxml "$WORK/backup/$name.memory" >"$xml" ||
    vm_fail "$name.memory is not a libvirt save image"
  for s in $(sed -n "s|.*<source file='$WORK/$name-\([^']*\)\.img'/>.*|\1|p" "$xml"); do
    t=vd${letters:$i:1}
    cp --sparse=always "$WORK/backup/$name.$t.img" "$WORK/restore/$name.$t.img"
    sed -i "s|$WORK/$name-$s.img|$WORK/restore/$name.$t.img|" "$xml"
    i=$((i + 1))
  done
  sed -i "s|$WORK/$name.console|$WORK/$name.restored.console|; s|$WORK/$name-ctl.sock|$WORK/$name-restored-ctl.sock|" "$xml"
  lv_virsh destroy "$name" >/dev/null || vm_fail "virsh destroy $name"
  lv_virsh restore "$WORK/backup/$name.memory" --xml "$xml" --running >/dev/null ||
    vm_fail "virsh restore $name failed: $(tail -n 3 "$LV_DIR/libvirtd.log")"
}

# lv_sd_create DOMAIN OVERLAY: starts the systemd guest (sd-lib.sh,
# SD_GUEST; its kernel LV_SD_KERNEL, default the faster vmlinux, vmlinuz
# for a guest that sleeps) as a transient domain on the qcow2 OVERLAY (discard passed
# through, for guest-fstrim), with 2 vCPUs (one can go offline), a user-mode
# NIC (slirp: DHCP gives the guest 10.0.2.15; with only the QEMU driver
# loaded no libvirt network is needed), ACPI (without it libvirt starts
# QEMU with -no-acpi: a poweroff only halts the CPU and libvirt refuses any
# suspend, "Domain does not have suspend support"), the agent's channel
# org.qemu.guest_agent.0 (libvirt's own socket: libvirt is the agent's host),
# the control port on $WORK/ctl.sock (sd_attach) and the console in
# $WORK/console.log (LV_SD_CMDLINE: more kernel parameters). QEMU_ARGs go to QEMU's command line as they are
# (<qemu:commandline>: libvirt 9.0 has no guest NVMe controller, `-device
# nvme` gives one). libvirt puts them before its own devices, which take
# PCI slots from 2 on: a device there needs an address of its own.
lv_sd_create() {
  local name=$1 type=qemu cpu="<cpu mode='maximum'/>" extra= a
  [ "$VM_ACCEL" = kvm ] && { type=kvm; cpu="<cpu mode='host-passthrough'/>"; }
  if [ $# -gt 2 ]; then
    extra="<qemu:commandline>"
    for a in "${@:3}"; do extra+="<qemu:arg value='$a'/>"; done
    extra+="</qemu:commandline>"
  fi
  cat >"$WORK/$name.xml" <<XML
<domain type='$type' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${LV_SD_KERNEL:-$SD_GUEST/vmlinux}</kernel><initrd>$SD_GUEST/initrd.img</initrd>
    <cmdline>root=/dev/vda rw console=ttyS0 panic=-1 loglevel=4 systemd.show_status=1 ${LV_SD_CMDLINE:-}</cmdline></os>
  $cpu
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='writeback' discard='unmap'/>
      <source file='$2'/><target dev='vda' bus='virtio'/><serial>root</serial></disk>
    <interface type='user'><model type='virtio'/></interface>
XML
  lv_xml_tail "$WORK/console.log" "$WORK/ctl.sock" "$extra" >>"$WORK/$name.xml"
  rm -f "$WORK/console.log" "$WORK/ctl.sock"
  lv_virsh create "$WORK/$name.xml" >/dev/null || vm_fail "virsh create $name failed: $(tail -n 3 "$LV_DIR/libvirtd.log")"
  LV_DOMAINS+=("$name")
}
