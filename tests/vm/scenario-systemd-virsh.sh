#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A real libvirt manages the systemd guest through its agent (issue 11,
# point 3): Debian's libvirtd (lib-libvirt.sh: private namespace, QEMU
# driver only) runs the Debian 12 guest with this tree's .debs installed
# (vm/systemd-noport's overlay, under a qcow2 overlay of this test's own) as
# a domain with a user-mode NIC, the agent channel org.qemu.guest_agent.0
# and an emulated NVMe disk (QEMU's `-device nvme`, serial quiesce-nvme-1).
# The same routine management steps run through quiesced (started by udev
# from the port, as installed) and then, in the same boot, through Debian's
# qemu-ga (quiesced.service stopped, qemu-ga from the image's
# qemu-guest-agent .deb run on the same port); each step's effect is checked
# in the guest or on the host, and the two agents' outputs are compared:
#
#   domifaddr --source agent   the NIC's MAC and DHCP address (10.0.2.15)
#   guestinfo                  users (a login session of alice), os,
#                              timezone, hostname, filesystem, disk
#   domtime                    between the guest's clock before and after
#   domtime --sync, --now      the guest's clock, set an hour back, is the
#                              host's again (hwclock -s from the RTC, and
#                              settimeofday + hwclock -w)
#   set-user-password          su (typed on a pty by another user) accepts
#                              the new password, no longer the old one
#   domfstrim                  64 MiB written and deleted in the guest: the
#                              host's qcow2 overlay shrinks by it again
#   guestvcpus                 vCPU 1 offline (sysfs says 0) and online again
#   dompmsuspend mem           through systemd (systemctl suspend, then
#                              systemd-sleep): the domain pmsuspended, then
#                              running again after dompmwakeup
#   dompmsuspend hybrid        refused (no swap; /sys/power/state has no
#                              hybrid), the guest still running, the
#                              same error through both
#   guest-get-disks            the NVMe disk with qemu-ga's `smart`
#                              member; its host-read-commands grow by at
#                              least the 256 reads of a dd in the guest
#
# The two agents' guest-get-disks replies (as virsh prints them) are
# compared byte for byte but for the four NVMe I/O counters that move
# between two reads (data units and commands, read and written;
# virsh-nvme-lib.sh), which must only have grown from quiesced's read to
# qemu-ga's later one. Negative controls, each an edit of quiesced's reply
# that must make the comparison fail: the temperature one more,
# power-on-hours one more, the smart member dropped, the disk's serial
# changed, a read counter ahead of qemu-ga's.
#
# then `virsh shutdown --mode agent` through qemu-ga powers the guest off;
# a second boot, quiesced again, and the same shutdown through it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sd-lib.sh"
. "$(dirname "$0")/lib-libvirt.sh"
. "$(dirname "$0")/virsh-nvme-lib.sh"

vm_require_tools jq
sd_setup
sd_lv_cleanup() {
  local rc=$?
  set +e
  lv_stop
  (exit $rc)
  sd_cleanup
}
trap sd_lv_cleanup EXIT
[ -f "$VM_SD_STATE/root.qcow2" ] || vm_fail "no installed overlay in $VM_SD_STATE (vm/systemd-noport)"
# This test's overlay over vm/systemd-noport's, which stays as it was.
qemu-img create -q -f qcow2 -F qcow2 -b "$VM_SD_STATE/root.qcow2" "$WORK/root.qcow2"
truncate -s 1G "$WORK/nvme.img"
lv_start
DOM=sdvirsh
# The bzImage: the guest sleeps in S3 (lib-libvirt.sh, lv_sd_create).
LV_SD_KERNEL=$SD_GUEST/vmlinuz
LV_SD_CMDLINE=no_console_suspend
limit=2400
[ "$VM_ACCEL" = kvm ] && limit=600

# virsh with the domain, output kept under $WORK/out/AGENT-NAME.
mkdir -p "$WORK/out"
v() { lv_virsh "$@" 2>&1; }
keep() { # AGENT NAME virsh-args...: runs virsh, keeps and shows its output
  local agent=$1 name=$2 out rc=0
  shift 2
  out=$(v "$@") || rc=$?
  printf '%s\n' "$out" >"$WORK/out/$agent-$name"
  printf '%s\n' "$out" | sed 's/^/    /'
  return $rc
}
host_now() { date +%s; }

# agent_is NAME: waits (60 s) until libvirt reaches an agent whose guest-info
# says it is NAME (quiesced's version is ours, qemu-ga's 7.2.x), so every
# step afterwards is known to go to that agent.
agent_is() {
  local i info=
  for i in $(seq 120); do
    info=$(v qemu-agent-command "$DOM" '{"execute":"guest-info"}') && {
      case $1:$info in
        quiesced:*'"version":"'"$QUIESCED_VERSION"'"'*|qemu-ga:*'"version":"7.2.'*) return 0 ;;
      esac
    }
    sleep 0.5
  done
  vm_fail "libvirt does not reach $1 through the agent channel: ${info:0:200}"
}

boot() { # the domain, up to the end of systemd's boot
  local start
  start=$(vm_now_ms)
  lv_sd_create "$DOM" "$WORK/root.qcow2" \
    -drive "file=$WORK/nvme.img,format=raw,if=none,id=nvme0,cache=writeback" \
    -device nvme,serial=quiesce-nvme-1,drive=nvme0,bus=pci.0,addr=0x1e
  sd_attach "$start" "$limit" 'lv_virsh domstate "$DOM" 2>/dev/null | grep -q running'
}

# powered_off AGENT: virsh shutdown --mode agent, then the domain is gone
# (transient, on_poweroff destroy) within 120 s, the guest having shut down
# (systemd's and the kernel's power-down lines on the console).
powered_off() {
  local t0 i
  t0=$(vm_now_ms)
  v shutdown "$DOM" --mode agent || vm_fail "$1: virsh shutdown --mode agent failed"
  for i in $(seq 1200); do
    lv_virsh domstate "$DOM" >/dev/null 2>&1 || break
    sleep 0.1
  done
  lv_virsh domstate "$DOM" >/dev/null 2>&1 && vm_fail "$1: the domain still runs 120 s after shutdown --mode agent"
  sd_detach
  grep -aq 'reboot: Power down' "$WORK/console.log" || vm_fail "$1: no kernel power-down on the console"
  grep -a -m1 -E 'Reached target.*(Power-Off|System Power Off)' "$WORK/console.log" | tr -d '\r' | sed 's/^/    /' || true
  cp "$WORK/console.log" "$WORK/console-$1.log"
  vm_log "ok: $1: virsh shutdown --mode agent powered the guest off in $(( $(vm_now_ms) - t0 )) ms"
}

# --- boot 1 ----------------------------------------------------------------------
QUIESCED_VERSION=$("$QUIESCED" --version | awk '{print $2}')
boot
# The guest's side: the NIC on DHCP (systemd-networkd, not enabled in the
# image), two users (alice gets the passwords, bob types them to su), a
# login session of alice on a pty (utmp, for guest-get-users), qemu-ga
# unpacked from the image's .deb under /opt (the initramfs mounts /run noexec),
# and su-check.
sd_expect "guest prepared: network, users, a login session, qemu-ga unpacked" '
  set -e
  mkdir -p /run/systemd/network
  printf "[Match]\nName=en*\n[Network]\nDHCP=ipv4\n" >/run/systemd/network/50-vm-test.network
  systemctl start systemd-networkd
  /lib/systemd/systemd-networkd-wait-online -4 --timeout=60 >/dev/null
  useradd -m -s /bin/bash alice; useradd -m -s /bin/bash bob
  echo alice:Old-Pass-0 | chpasswd
  systemd-run -q --unit=alice-login sh -c "sleep infinity | script -qfc \"login -f alice\" /dev/null"
  for i in $(seq 100); do who | grep -q "^alice " && break; sleep 0.2; done
  who | grep "^alice "
  rm -rf /opt/qga; dpkg-deb -x /root/extra-debs/qemu-guest-agent_*.deb /opt/qga; mkdir -p /run/qga
  cat >/usr/local/bin/su-check <<"EOF"
#!/bin/bash
# su-check USER PASSWORD: bob runs `su USER` on a pseudo-terminal (script)
# and types PASSWORD at its prompt; exit 0 when su ran the command as USER.
coproc SU { exec runuser -u bob -- script -qfec "su -c \"echo SU-OK-\\\$(id -un)\" $1" /dev/null 2>&1; }
# (the fds of a coproc are closed in subshells: copies)
exec {rd}<&"${SU[0]}" {wr}>&"${SU[1]}"
IFS= read -r -d : -t 60 prompt <&$rd || { echo "no password prompt: $prompt"; exit 2; }
sleep 1
printf "%s\n" "$2" >&$wr
out=$(timeout 60 cat <&$rd | tr -d "\r")
echo "su $1: ${out//$'"'"'\n'"'"'/ }"
[[ $out == *SU-OK-$1* ]]
EOF
  chmod 0755 /usr/local/bin/su-check
  su-check alice Old-Pass-0 || { echo "su refused the password chpasswd set"; exit 1; }
  if su-check alice Wrong-Pass; then echo "su accepted a wrong password"; exit 1; fi
  echo "quiesced.service $(systemctl is-active quiesced.service), main pid $(systemctl show -p MainPID --value quiesced.service)"
  systemctl -q is-active quiesced.service'
agent_is quiesced
sd_expect "the NVMe disk is there" '
  for i in $(seq 150); do [ -b /dev/nvme0n1 ] && exit 0; sleep 0.2; done
  echo "no /dev/nvme0n1"; lsmod | grep -i nvme; exit 1'

# round AGENT PASSWORD: the management steps through AGENT.
round() {
  local a=$1 pw=$2 g d0 d1 d2 t h i n0 n1 r0 r1 st out try
  vm_log "--- through $a"
  keep "$a" domifaddr domifaddr "$DOM" --source agent || vm_fail "$a: domifaddr --source agent failed"
  grep -Eq ' ipv4 +10\.0\.2\.15/24' "$WORK/out/$a-domifaddr" || vm_fail "$a: domifaddr lists no 10.0.2.15/24"
  g=$(sd_sh 'cat /sys/class/net/en*/address')
  grep -q "$g" "$WORK/out/$a-domifaddr" || vm_fail "$a: domifaddr does not list the NIC's MAC $g"
  vm_log "ok: $a: domifaddr --source agent"

  keep "$a" guestinfo guestinfo "$DOM" || vm_fail "$a: guestinfo failed"
  for f in 'user\.[0-9]+\.name *: alice$' 'os\.id *: debian$' 'os\.version-id *: 12$' 'hostname *: sdguest$' \
           'timezone\.name *: ' 'fs\.[0-9]+\.mountpoint *: /$' 'fs\.[0-9]+\.disk\.0\.serial *: root$' \
           'disk\.[0-9]+\.name *: /dev/vda$'; do
    grep -Eq "^$f" "$WORK/out/$a-guestinfo" || vm_fail "$a: guestinfo has no line '$f'"
  done
  vm_log "ok: $a: guestinfo (users, os, timezone, hostname, filesystem, disk)"

  # The guest's clock read before and after: a loaded TCG guest takes
  # seconds per command, so the answer is checked against that interval.
  d0=$(sd_sh 'date +%s')
  t=$(v domtime "$DOM" | awk '/Time:/ {print $2}') || true
  d1=$(sd_sh 'date +%s')
  [ -n "$t" ] && [ "$t" -ge $((d0 - 1)) ] && [ "$t" -le $((d1 + 1)) ] ||
    vm_fail "$a: domtime says '$t', the guest's clock went from $d0 to $d1"
  echo "    domtime $t, the guest's clock $d0 before and $d1 after" | tee "$WORK/out/$a-domtime-get"
  for how in --sync --now; do
    sd_sh 'date -s @$(( $(date +%s) - 3600 )) >/dev/null' || vm_fail "setting the guest's clock back"
    d0=$(( $(sd_sh 'date +%s') - $(host_now) ))
    v domtime "$DOM" "$how" || vm_fail "$a: domtime $how failed"
    d1=$(( $(sd_sh 'date +%s') - $(host_now) ))
    echo "    domtime $how: guest - host $d0 s before, $d1 s after" | tee "$WORK/out/$a-domtime$how"
    [ "$d0" -le -3500 ] && [ "$d1" -ge -10 ] && [ "$d1" -le 10 ] ||
      vm_fail "$a: domtime $how did not bring the guest's clock back to the host's"
  done
  vm_log "ok: $a: domtime, domtime --sync, domtime --now"

  v set-user-password "$DOM" alice "$pw" || vm_fail "$a: set-user-password failed"
  sd_expect "$a: set-user-password: su accepts the new password, not the old one" \
    "su-check alice '$pw' && ! su-check alice Old-Pass-0 && echo alice:Old-Pass-0 | chpasswd"

  d0=$(du -k "$WORK/root.qcow2" | cut -f1)
  sd_sh 'dd if=/dev/urandom of=/var/tmp/trim.bin bs=1M count=64 status=none && sync && rm /var/tmp/trim.bin && sync' ||
    vm_fail "writing the file to trim"
  d1=$(du -k "$WORK/root.qcow2" | cut -f1)
  v domfstrim "$DOM" || vm_fail "$a: domfstrim failed"
  d2=$(du -k "$WORK/root.qcow2" | cut -f1)
  echo "    overlay: $d0 KiB, $d1 after 64 MiB written and deleted, $d2 after domfstrim" | tee "$WORK/out/$a-fstrim"
  [ $(( d1 - d0 )) -ge 50000 ] && [ $(( d1 - d2 )) -ge 50000 ] ||
    vm_fail "$a: domfstrim did not give the deleted 64 MiB back to the host"
  vm_log "ok: $a: domfstrim"

  keep "$a" vcpus guestvcpus "$DOM" || vm_fail "$a: guestvcpus failed"
  grep -Eq '^online +: 0-1$' "$WORK/out/$a-vcpus" || vm_fail "$a: guestvcpus: not both online"
  v guestvcpus "$DOM" --cpulist 1 --disable || vm_fail "$a: guestvcpus --disable failed"
  [ "$(sd_sh 'cat /sys/devices/system/cpu/cpu1/online')" = 0 ] || vm_fail "$a: vCPU 1 is still online"
  keep "$a" vcpus-off guestvcpus "$DOM" || vm_fail "$a: guestvcpus failed"
  grep -Eq '^online +: 0$' "$WORK/out/$a-vcpus-off" || vm_fail "$a: guestvcpus does not show vCPU 1 offline"
  v guestvcpus "$DOM" --cpulist 1 --enable || vm_fail "$a: guestvcpus --enable failed"
  [ "$(sd_sh 'cat /sys/devices/system/cpu/cpu1/online')" = 1 ] || vm_fail "$a: vCPU 1 did not come back"
  vm_log "ok: $a: guestvcpus (vCPU 1 offline and online again)"

  # Suspend to RAM the systemd way: the agent asks systemd (`systemctl
  # status systemd-suspend.service`, then `systemctl suspend`), logind has
  # systemd-sleep write "mem" to /sys/power/state, libvirt sees QEMU's
  # SUSPEND event (domstate pmsuspended) and wakes the guest with
  # dompmwakeup. The guest's journal must have one more "System returned
  # from sleep" of systemd-sleep's: a sleep that did not go through
  # systemd (a direct write to /sys/power/state) has none.
  # counts: logind's suspend requests and systemd-sleep's returns so far.
  counts() {
    sd_sh 'echo "$(journalctl -b -q -o cat -u systemd-logind.service | grep -c "system will suspend now" || true)" \
      "$(journalctl -b -q -o cat _COMM=systemd-sleep | grep -c "System returned from sleep" || true)"' 30
  }
  read -r r0 n0 <<<"$(counts)"
  # The kernel's suspend steps on the console (the domain boots with
  # no_console_suspend), so that a suspend that stops shows where.
  sd_sh 'dmesg -n 7'
  # libvirt waits for QEMU's SUSPEND event (the agent answers nothing on
  # success) as long as the domain's agent timeout says, by default for
  # ever: a suspend that never happens in the guest held virsh for 24
  # minutes once, in CI, under load, with nothing on the console (before
  # no_console_suspend). 150 s here; 1 s is usual, under TCG. When logind
  # got the request (the agent did its part) and the guest still did not
  # sleep, the guest's journal and console are shown and it is tried once
  # more; a request logind never got fails at once.
  v guest-agent-timeout "$DOM" --timeout 150 || vm_fail "$a: guest-agent-timeout failed"
  for try in 1 2; do
    t=$(vm_now_ms)
    out=$(v dompmsuspend "$DOM" mem) && { printf '%s\n' "$out"; break; }
    printf '%s\n' "$out" | sed 's/^/    /'
    st=$(lv_virsh domstate "$DOM" 2>&1)
    if [ "$st" = pmsuspended ]; then
      vm_log "WARNING: $a: libvirt gave up after 150 s, but the domain is pmsuspended"
      break
    fi
    vm_log "$a: try $try: the domain is '$st'; the guest's journal and console:"
    sd_sh 'journalctl -b --no-pager -o short-monotonic -n 60 _COMM=systemd-sleep + _COMM=systemd-logind + _COMM=quiesced + _TRANSPORT=kernel' 30 |
      sed 's/^/    /' || true
    tail -n 30 "$WORK/console.log" | sed 's/^/    /'
    read -r r1 n1 <<<"$(counts)"
    [ -n "$r1" ] && [ "$r1" -gt "$r0" ] ||
      vm_fail "$a: dompmsuspend mem: no suspend in 150 s, and logind never got a suspend request (${r0:-?} before, ${r1:-no answer} after)"
    [ "$try" = 1 ] || vm_fail "$a: dompmsuspend mem: logind got the request twice, the guest did not suspend"
    vm_log "WARNING: $a: logind got the suspend request, the guest did not suspend in 150 s; one more try"
    r0=$r1
  done
  v guest-agent-timeout "$DOM" --timeout -2 || vm_fail "$a: guest-agent-timeout failed"
  for i in $(seq 600); do [ "$(lv_virsh domstate "$DOM")" = pmsuspended ] && break; sleep 0.1; done
  st=$(lv_virsh domstate "$DOM")
  [ "$st" = pmsuspended ] || vm_fail "$a: the domain is '$st' 60 s after dompmsuspend mem"
  t=$(( $(vm_now_ms) - t ))
  sleep 1
  v dompmwakeup "$DOM" || vm_fail "$a: dompmwakeup failed"
  for i in $(seq 600); do [ "$(lv_virsh domstate "$DOM")" = running ] && break; sleep 0.1; done
  [ "$(sd_sh 'echo up')" = up ] || vm_fail "$a: the guest does not answer after dompmwakeup"
  sd_sh 'dmesg -n 4'
  read -r r1 n1 <<<"$(counts)"
  sd_sh 'journalctl -b -q -o short-monotonic _COMM=systemd-sleep -u systemd-suspend.service | tail -n 4' |
    tee "$WORK/out/$a-suspend-mem" | sed 's/^/    /'
  [ "$n1" = $(( n0 + 1 )) ] || vm_fail "$a: systemd-sleep returned from sleep $n0 times before, $n1 after"
  [ "$r1" -gt "$r0" ] || vm_fail "$a: logind logged no suspend request ($r0 before, $r1 after)"
  vm_log "ok: $a: dompmsuspend mem through systemd (pmsuspended after $t ms), dompmwakeup: running again"

  # The guest has no swap: hybrid sleep cannot work, and /sys/power/state
  # has no word for it; the agent must say so and the guest stay up.
  if out=$(v dompmsuspend "$DOM" hybrid); then vm_fail "$a: dompmsuspend hybrid succeeded without swap"; fi
  printf '%s\n' "$out" | tee "$WORK/out/$a-suspend-hybrid" | sed 's/^/    /'
  # (an answer of the agent's, not libvirt's own refusal)
  grep -q "agent command 'guest-suspend-hybrid'" "$WORK/out/$a-suspend-hybrid" ||
    vm_fail "$a: libvirt did not ask the agent"
  [ "$(lv_virsh domstate "$DOM")" = running ] && [ "$(sd_sh 'echo up')" = up ] ||
    vm_fail "$a: the guest is not running after the refused suspend"
  vm_log "ok: $a: dompmsuspend hybrid refused, the guest runs on"

  nvme_smart "$a"
}

round quiesced New-Pass-Quiesced-1
sd_expect "quiesced stopped, qemu-ga started on the same port" '
  systemctl stop quiesced.service
  systemd-run -q --unit=qemu-ga-ref /opt/qga/usr/sbin/qemu-ga -m virtio-serial \
    -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run/qga -f /run/qga/qemu-ga.pid
  sleep 2
  if ! systemctl -q is-active qemu-ga-ref.service || systemctl -q is-active quiesced.service; then
    systemctl status --no-pager qemu-ga-ref.service quiesced.service
    journalctl -b --no-pager -u qemu-ga-ref.service | tail -n 20
    exit 1
  fi'
agent_is qemu-ga
round qemu-ga New-Pass-Qemu-Ga-2

# The two agents' outputs, side by side: the same but for what changes
# between two reads (the filesystems' used bytes).
norm() { sed -E 's/^(fs\.[0-9]+\.used-bytes *: ).*/\1N/' "$1"; }
for f in domifaddr guestinfo vcpus vcpus-off suspend-hybrid; do
  diff <(norm "$WORK/out/quiesced-$f") <(norm "$WORK/out/qemu-ga-$f") >"$WORK/out/diff-$f" ||
    { cat "$WORK/out/diff-$f"; vm_fail "$f differs between quiesced and qemu-ga"; }
done
vm_log "ok: domifaddr, guestinfo, guestvcpus and the refused hybrid suspend print the same through both agents (fs used-bytes aside)"

nvme_compare

powered_off qemu-ga

# --- boot 2: quiesced again, shut down through it --------------------------------
boot
sd_expect "boot 2: quiesced.service holds the port" 'systemctl -q is-active quiesced.service'
agent_is quiesced
powered_off quiesced
lv_stop

cat <<EOF
vm[$VM_NAME]: PASS libvirt $(libvirtd --version | awk '{print $NF}') through quiesced $QUIESCED_VERSION and qemu-ga 7.2 ($VM_ACCEL)
  quiesced: $(cat "$WORK/out/quiesced-domtime--sync"); $(cat "$WORK/out/quiesced-fstrim")
  qemu-ga:  $(cat "$WORK/out/qemu-ga-domtime--sync"); $(cat "$WORK/out/qemu-ga-fstrim")
  same output from both: domifaddr --source agent, guestinfo, guestvcpus (before and after --disable),
    guest-get-disks with the NVMe disk's smart (I/O counters aside)
  quiesced: $(cat "$WORK/out/quiesced-smart-reads")
  qemu-ga:  $(cat "$WORK/out/qemu-ga-smart-reads")
EOF
