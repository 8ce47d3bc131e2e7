#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The guest-control family for real, in one guest with 2 vCPUs: quiesced on
# the guest-agent port and Debian's qemu-ga on a second port, both driven
# through their ports like a host (Proxmox's `qm guest passwd`, libvirt's
# set-user-password, guestvcpus, domfstrim, `virsh shutdown --mode agent`).
# Each step runs on quiesced, its effect is checked in the guest, then the
# same on qemu-ga, and the two answers are compared. Then each agent makes
# the guest sleep: guest-suspend-ram (S3, QEMU's run state "suspended"
# until QMP's system_wakeup), guest-suspend-hybrid (an image written to the
# swap disk, then S3) and guest-suspend-disk (the image written, the guest
# powered off, QEMU started again and the image resumed by guest-init: the
# same system back), each checked on the console, in QEMU, in the guest and
# on the wire (nothing sent for the sleep; the agent answers again after
# it; guest-sleep-lib.sh). Last, quiesced's guest-shutdown
# powers the guest off and QEMU exits.
#
# The busybox guest lacks two programs the commands run, so it gets small
# stand-ins that both agents use alike: /usr/sbin/chpasswd (busybox has
# none: it hashes with busybox mkpasswd, or takes the hash as given with -e,
# and rewrites /etc/shadow) and /sbin/shutdown (busybox has poweroff only:
# it logs its arguments and powers off only once /run/allow-poweroff exists).
# Neither has systemd or pm-utils, so both agents suspend by writing "mem" or
# "disk" to /sys/power/state, qemu-ga's last way; for hybrid, which that
# file has no word for, pm-utils' pm-is-supported and pm-suspend-hybrid are
# stand-ins that do what pm-utils does with a kernel that has the "suspend"
# hibernation mode, and log that they ran.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest-sleep-lib.sh"

qemu_ga=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
[ -x "$qemu_ga" ] || vm_fail "qemu-ga is not installed (package qemu-guest-agent)"
VM_EXTRA_BINS="$qemu_ga ${VM_EXTRA_BINS:-}"
vm_setup
vm_require_tools jq
# The bzImage through the Linux boot protocol: the same kernel booted as a
# vmlinux through PVH triple-faults when SeaBIOS jumps to its S3 wake-up
# vector (tests/vm/README.md).
VM_KERNEL=$GUEST/vmlinuz
truncate -s 128M "$WORK/trim.img"
mkfs.ext4 -q -F -L trim "$WORK/trim.img"
VM_DRIVES+=(-drive "file=$WORK/trim.img,format=raw,if=none,id=trim,cache=writeback,discard=unmap"
            -device "virtio-blk-pci,drive=trim,serial=trim")
vm_disk swap none 256
VM_QEMU_EXTRA=(-chardev "socket,id=ref,path=$WORK/ref.sock,server=on,wait=off"
               -device virtserialport,chardev=ref,name=org.qemu.guest_agent.1)
vm_guest_file /usr/sbin/chpasswd 0755 <<'CHPASSWD'
#!/bin/sh
# stand-in for shadow's chpasswd: "USER:PASSWORD" lines on stdin
while IFS= read -r line; do
  user=${line%%:*} pass=${line#*:}
  grep -q "^$user:" /etc/passwd || { echo "chpasswd: no user $user" >&2; exit 1; }
  if [ "$1" = -e ]; then hash=$pass; else hash=$(mkpasswd -m sha512 "$pass") || exit 1; fi
  grep -v "^$user:" /etc/shadow >/etc/shadow.new
  echo "$user:$hash:19000:0:99999:7:::" >>/etc/shadow.new
  mv /etc/shadow.new /etc/shadow
done
CHPASSWD
vm_guest_file /sbin/shutdown 0755 <<'SHUTDOWN'
#!/bin/sh
echo "$*" >>/run/shutdown.args
echo "vm-shutdown: $*" >/dev/console
[ -e /run/allow-poweroff ] || exit 0
sync
poweroff -f
SHUTDOWN
vm_guest_file /usr/bin/pm-is-supported 0755 <<'PMIS'
#!/bin/sh
echo "vm-pm: pm-is-supported $*" >/dev/console
[ "$1" = --suspend-hybrid ] && grep -q suspend /sys/power/disk
PMIS
vm_guest_file /usr/sbin/pm-suspend-hybrid 0755 <<'PMHYBRID'
#!/bin/sh
echo "vm-pm: pm-suspend-hybrid" >/dev/console
echo suspend >/sys/power/disk && echo disk >/sys/power/state
PMHYBRID
vm_scenario <<'SCENARIO'
echo "root:*:19000:0:99999:7:::" >/etc/shadow
echo "alice:x:1000:1000:alice:/home/alice:/bin/sh" >>/etc/passwd
echo "bob:x:1001:1001:bob:/home/bob:/bin/sh" >>/etc/passwd
echo "alice:*:19000:0:99999:7:::" >>/etc/shadow
echo "bob:*:19000:0:99999:7:::" >>/etc/shadow
mkdir -p /home/alice /home/bob
chown 1000:1000 /home/alice; chown 1001:1001 /home/bob
vm_mount trim ext4 /data/trim
swap=$(vm_disk swap) && mkswap "$swap" >/dev/null && swapon "$swap" || say "FAILED to mount swap"
vm_control
vm_agent
qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.1 -t /run -f /run/qemu-ga.pid &
vm_ready
SCENARIO
vm_boot

ask() { VM_AGENT_TIMEOUT=30 vm_ask "$@"; }
Q=$WORK/qga.sock R=$WORK/ref.sock
failures=0
check() { # WHAT COMMAND...: a check of the guest's state
  local what=$1; shift
  if "$@"; then vm_log "ok     $what"; else vm_log "FAILED $what"; failures=$((failures + 1)); fi
}
same() { # WHAT OURS THEIRS
  if [ "$2" = "$3" ]; then
    vm_log "same   $1 -> ${2:0:200}"
  else
    vm_log "DIFFERENT $1"; echo "    quiesced: $2"; echo "    qemu-ga:  $3"
    failures=$((failures + 1))
  fi
}
guest() { vm_guest_sh "$1"; }
guest_value() { # TAG CMD: CMD's output (read back from the console) in VALUE
  vm_control sh "$2 | sed 's/^/vm-$1: /'" >/dev/null || true
  vm_wait_console "^vm-$1: " 5 || true
  VALUE=$(grep -a "^vm-$1: " "$WORK/console.log" | tail -1 | sed "s/^vm-$1: //" | tr -d '\r' || true)
}
b64() { printf %s "$1" | base64 -w0; }

# --- set-user-password --------------------------------------------------------
pw() { echo "{\"execute\":\"guest-set-user-password\",\"arguments\":{\"username\":\"$1\",\"password\":\"$(b64 "$2")\",\"crypted\":$3}}"; }
same "set-user-password" "$(ask "$Q" "$(pw alice 'Qu1esce pw' false)")" "$(ask "$R" "$(pw bob 'Qemu-ga pw' false)")"
for u in alice:'Qu1esce pw' bob:'Qemu-ga pw'; do
  user=${u%%:*} pass=${u#*:}
  guest_value "hash-$user" "grep '^$user:' /etc/shadow | cut -d: -f2"
  hash=$VALUE
  salt=$(echo "$hash" | cut -d'$' -f3)
  check "$user's /etc/shadow entry is the new password's hash ($hash)" \
    guest "[ \"\$(mkpasswd -m sha512 -S '$salt' '$pass')\" = '$hash' ]"
done
same "set-user-password crypted" "$(ask "$Q" "$(pw alice '$6$abcdefgh$CRYPTEDQ' true)")" \
     "$(ask "$R" "$(pw bob '$6$abcdefgh$CRYPTEDR' true)")"
check "crypted hashes stored as given" \
  guest "grep -q '^alice:\$6\$abcdefgh\$CRYPTEDQ:' /etc/shadow && grep -q '^bob:\$6\$abcdefgh\$CRYPTEDR:' /etc/shadow"
guest "cp /etc/shadow /run/shadow.before"
bad='{"execute":"guest-set-user-password","arguments":{"username":"alice","password":"*","crypted":false}}'
same "set-user-password invalid base64" "$(ask "$Q" "$bad")" "$(ask "$R" "$bad")"
ours=$(ask "$Q" "$(pw nosuchuser x false)"); ref=$(ask "$R" "$(pw nosuchuser x false)")
vm_log "set-user-password of an unknown user: quiesced '$ours', qemu-ga '$ref'"
check "quiesced refuses an unknown user" test "$ours" = "error GenericError: child process has failed to set user password"
check "bad input left /etc/shadow alone" guest "cmp /etc/shadow /run/shadow.before"

# --- ssh keys -----------------------------------------------------------------
k1='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 one@host'
k2='ssh-rsa AAAAB3NzaC1yc2EAAAADAQABKey2 two@host'
add() { echo "{\"execute\":\"guest-ssh-add-authorized-keys\",\"arguments\":{\"username\":\"$1\",\"keys\":[\"$k1\",\"$k2\",\"$k1\"]${2:-}}}"; }
get() { echo "{\"execute\":\"guest-ssh-get-authorized-keys\",\"arguments\":{\"username\":\"$1\"}}"; }
rmk() { echo "{\"execute\":\"guest-ssh-remove-authorized-keys\",\"arguments\":{\"username\":\"$1\",\"keys\":[\"$k1\"]}}"; }
same "ssh-add" "$(ask "$Q" "$(add alice)")" "$(ask "$R" "$(add bob)")"
for u in alice:1000 bob:1001; do
  user=${u%%:*} id=${u#*:}
  check "$user: .ssh 700 and authorized_keys 600, owned by $id" guest \
    "[ \"\$(stat -c '%a %u %g' /home/$user/.ssh)\" = '700 $id $id' ] && [ \"\$(stat -c '%a %u %g' /home/$user/.ssh/authorized_keys)\" = '600 $id $id' ]"
done
check "both agents wrote the same file" guest "cmp /home/alice/.ssh/authorized_keys /home/bob/.ssh/authorized_keys"
same "ssh-get" "$(ask "$Q" "$(get alice)")" "$(ask "$R" "$(get bob)")"
bad='{"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"alice","keys":["#x"]}}'
same "ssh-add malformed key" "$(ask "$Q" "$bad")" "$(ask "$R" "$bad")"
bad='{"execute":"guest-ssh-add-authorized-keys","arguments":{"username":"nosuchuser","keys":["k"]}}'
same "ssh-add unknown user" "$(ask "$Q" "$bad")" "$(ask "$R" "$bad")"
check "bad keys changed nothing" guest "cmp /home/alice/.ssh/authorized_keys /home/bob/.ssh/authorized_keys && ! grep -q '#x' /home/alice/.ssh/authorized_keys"
same "ssh-remove" "$(ask "$Q" "$(rmk alice)")" "$(ask "$R" "$(rmk bob)")"
same "ssh-get after remove" "$(ask "$Q" "$(get alice)")" "$(ask "$R" "$(get bob)")"
check "remove left the same file, without key 1" \
  guest "cmp /home/alice/.ssh/authorized_keys /home/bob/.ssh/authorized_keys && ! grep -q Key1 /home/alice/.ssh/authorized_keys"
same "ssh-add reset" "$(ask "$Q" "$(add alice ',"reset":true')")" "$(ask "$R" "$(add bob ',"reset":true')")"
check "reset rewrote the same file" guest "cmp /home/alice/.ssh/authorized_keys /home/bob/.ssh/authorized_keys"

# --- vCPUs --------------------------------------------------------------------
same "get-vcpus" "$(ask "$Q" '{"execute":"guest-get-vcpus"}')" "$(ask "$R" '{"execute":"guest-get-vcpus"}')"
off='{"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":1,"online":false}]}}'
on='{"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":1,"online":true}]}}'
ours=$(ask "$Q" "$off")
check "quiesced offlined vCPU 1 ($ours)" guest "[ \"\$(cat /sys/devices/system/cpu/cpu1/online)\" = 0 ]"
same "get-vcpus with vCPU 1 offline" "$(ask "$Q" '{"execute":"guest-get-vcpus"}')" "$(ask "$R" '{"execute":"guest-get-vcpus"}')"
ours_on=$(ask "$Q" "$on")
check "quiesced onlined vCPU 1 ($ours_on)" guest "[ \"\$(cat /sys/devices/system/cpu/cpu1/online)\" = 1 ]"
ref=$(ask "$R" "$off")
check "qemu-ga offlined vCPU 1 ($ref)" guest "[ \"\$(cat /sys/devices/system/cpu/cpu1/online)\" = 0 ]"
same "set-vcpus offline" "$ours" "$ref"
same "set-vcpus online" "$ours_on" "$(ask "$R" "$on")"
bad='{"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":0,"online":false}]}}'
same "set-vcpus vCPU 0" "$(ask "$Q" "$bad")" "$(ask "$R" "$bad")"
bad='{"execute":"guest-set-vcpus","arguments":{"vcpus":[{"logical-id":7,"online":false}]}}'
same "set-vcpus no such vCPU" "$(ask "$Q" "$bad")" "$(ask "$R" "$bad")"
check "vCPU 1 online after the bad requests" guest "[ \"\$(cat /sys/devices/system/cpu/cpu1/online)\" = 1 ]"

# --- memory blocks ------------------------------------------------------------
same "get-memory-block-info" "$(ask "$Q" '{"execute":"guest-get-memory-block-info"}')" \
     "$(ask "$R" '{"execute":"guest-get-memory-block-info"}')"
same "get-memory-blocks" "$(ask "$Q" '{"execute":"guest-get-memory-blocks"}')" "$(ask "$R" '{"execute":"guest-get-memory-blocks"}')"
guest_value lastblock 'ls -d /sys/devices/system/memory/memory* | sed "s/.*memory//" | sort -n | tail -1'
last=$VALUE
moff="{\"execute\":\"guest-set-memory-blocks\",\"arguments\":{\"mem-blks\":[{\"phys-index\":$last,\"online\":false},{\"phys-index\":99999,\"online\":false}]}}"
mon="{\"execute\":\"guest-set-memory-blocks\",\"arguments\":{\"mem-blks\":[{\"phys-index\":$last,\"online\":true}]}}"
ours=$(ask "$Q" "$moff")
guest_value st1 "cat /sys/devices/system/memory/memory$last/state"
vm_log "quiesced offlining block $last: $ours; state then: $VALUE"
ours_on=$(ask "$Q" "$mon")
ref=$(ask "$R" "$moff")
guest_value st2 "cat /sys/devices/system/memory/memory$last/state"
vm_log "qemu-ga offlining block $last: $ref; state then: $VALUE"
ref_on=$(ask "$R" "$mon")
same "set-memory-blocks offline (what the guest allows)" "$ours" "$ref"
same "set-memory-blocks online" "$ours_on" "$ref_on"
check "memory block $last online again" guest "grep -q online /sys/devices/system/memory/memory$last/state"

# --- fstrim -------------------------------------------------------------------
guest "dd if=/dev/urandom of=/data/trim/junk bs=1M count=16 2>/dev/null; sync; rm /data/trim/junk; sync"
ours=$(ask "$Q" '{"execute":"guest-fstrim"}')
guest "dd if=/dev/urandom of=/data/trim/junk bs=1M count=16 2>/dev/null; sync; rm /data/trim/junk; sync"
ref=$(ask "$R" '{"execute":"guest-fstrim"}')
vm_log "fstrim: quiesced $ours"
vm_log "fstrim: qemu-ga  $ref"
shape() { sed -E 's/"(trimmed|minimum)": [0-9]+/"\1": N/g' <<<"$1"; }
same "fstrim (byte counts aside)" "$(shape "$ours")" "$(shape "$ref")"
check "quiesced trimmed /data/trim" grep -qE '"minimum": [0-9]+, "path": "/data/trim", "trimmed": [1-9]' <<<"$ours"
bad='{"execute":"guest-fstrim","arguments":{"minimum":"x"}}'
same "fstrim minimum not an integer" "$(ask "$Q" "$bad")" "$(ask "$R" "$bad")"
# 24 MiB left dirty (not synced) for the freeze to flush: over the 16 MiB
# from which the writeback workqueue is put ahead of the applications.
guest "dd if=/dev/zero of=/data/trim/dirty bs=1M count=24 2>/dev/null"
vm_log "freeze: $(ask "$Q" '{"execute":"guest-fsfreeze-freeze"}')"
same "fstrim while frozen" "$(ask "$Q" '{"execute":"guest-fstrim"}')" \
     "error CommandNotFound: Command guest-fstrim has been disabled: the agent is in frozen state"
vm_log "thaw: $(ask "$Q" '{"execute":"guest-fsfreeze-thaw"}')"
guest "rm -f /data/trim/dirty"
# The flush ran ahead of the applications and the FIFREEZE calls with RCU
# grace periods expedited, and the guest's knobs are back at 0
# (fsfreeze/kernel-knob.h): the real sysfs files take what the agent writes.
check "quiesced prioritized writeback and expedited RCU for its freeze" \
  vm_wait_console 'froze [0-9]+ filesystem\(s\): .*MiB dirty\), .*, writeback prioritized, RCU expedited' 20
check "and put /sys/kernel/rcu_expedited back to 0" vm_guest_sh 'grep -qx 0 /sys/kernel/rcu_expedited'
check "and the writeback workqueue's nice back to 0" \
  vm_guest_sh 'grep -qx 0 /sys/devices/virtual/workqueue/writeback/nice'

# --- suspend: both agents make the guest sleep and come back ------------------
nr() { "$QUIESCE_BACKUP" --agent "$1" agent '{"execute":"guest-info"}' |
         jq -c '[.supported_commands[] | select(.name | test("^guest-(shutdown|suspend-)"))] | sort_by(.name)'; }
same "guest-info: shutdown and the suspends" "$(nr "$Q")" "$(nr "$R")"
no_reply_flags() { jq -e 'length == 4 and all(.[]; .enabled and .["success-response"] == false)' >/dev/null <<<"$1"; }
flags=$(nr "$Q")
check "both say success-response false for them" no_reply_flags "$flags"
flipped=$(sed '0,/"success-response":false/s//"success-response":true/' <<<"$flags")
if no_reply_flags "$flipped"; then ok=false; else ok=true; fi
check "control: one success-response flag set fails that check" $ok
sleep_wire_control quiesced "$Q"
sleep_wire_control qemu-ga "$R"
# The kernel's info lines on the console; the smallest image it can make.
guest "echo 7 >/proc/sys/kernel/printk; echo 0 >/sys/power/image_size; grep -q platform /sys/power/disk && grep -q mem /sys/power/state && grep -q /dev/vd /proc/swaps" ||
  vm_fail "the guest has no S3, no platform hibernation or no swap"
declare -A helpers=([ram]="pm-is-supported --suspend;" [hybrid]="pm-is-supported --suspend-hybrid;pm-suspend-hybrid;"
                    [disk]="pm-is-supported --hibernate;")
for mode in ram hybrid disk; do
  for a in quiesced:$Q qemu-ga:$R; do
    if [ $mode = disk ]; then
      hibernate_round "${a%%:*}" "${a#*:}"
    else
      sleep_round "${a%%:*}" "${a#*:}" $mode
    fi
    if [ "${a%%:*}" = quiesced ]; then ours=$SLEEP_HELPERS sent=$SLEEP_SENT; fi
  done
  same "suspend-$mode: the helpers run (pm-utils asked, /sys/power/state for ram and disk)" "$ours" "$SLEEP_HELPERS"
  same "suspend-$mode: what the agent sent for it" "$sent" "$SLEEP_SENT"
  check "suspend-$mode: the helpers qemu-ga 7.2 runs here: ${helpers[$mode]}" test "$ours" = "${helpers[$mode]}"
done
# Controls of the kernel-line checks: each fails on another sleep's lines.
for c in ram:disk hybrid:ram disk:hybrid; do
  check "control: the $(sleep_effect_words ${c%:*}) check fails on suspend-${c#*:}'s lines" \
    eval "! sleep_effect ${c%:*} '$WORK/sleep-quiesced-${c#*:}.log'"
done
# Controls of the hibernation's checks: an image written but not read back
# (the log without its "Read N kbytes") fails the kernel-line check; the
# fresh-boot pattern finds the first boot's own lines; the token check
# fails on a token the guest never kept.
grep -av 'Read [0-9]* kbytes' "$WORK/sleep-quiesced-disk.log" >"$WORK/sleep-unread.log" || true
check "control: the hibernation check fails on an image never read back" \
  eval "! sleep_effect disk '$WORK/sleep-unread.log'"
check "control: the fresh-boot pattern finds the first boot's ready line" \
  grep -qaE 'vm-init: (ready|no hibernation image)' "$WORK/console.log"
check "control: the token check fails on a token the guest never kept" \
  eval "! guest 'grep -qx never-kept /run/hibernate-token'"

# --- shutdown: qemu-ga's request is only logged, quiesced's powers off ----------
raw() { # SOCKET JSON: a command that answers nothing on success: after the
  # driver's sync, the reply it waited 3 s for ("" when none came)
  local out
  out=$("$QUIESCE_BACKUP" --agent "$1" --agent-timeout 3 agent "$2" 2>&1) || true
  grep -qiE 'time|closed the connection' <<<"$out" || echo "$out"
}
bad='{"execute":"guest-shutdown","arguments":{"mode":"nap"}}'
same "shutdown bad mode" "$(ask "$Q" "$bad")" "$(ask "$R" "$bad")"
ref=$(raw "$R" '{"execute":"guest-shutdown"}')
check "qemu-ga answered nothing to guest-shutdown ('$ref')" test -z "$ref"
sleep 1
guest_value ref-shutdown "cat /run/shutdown.args"
check "qemu-ga ran /sbin/shutdown $VALUE" test "$VALUE" = "-h -P +0 hypervisor initiated shutdown"
guest "rm -f /run/shutdown.args; touch /run/allow-poweroff"
start=$(vm_now_ms)
ours=$(raw "$Q" '{"execute":"guest-shutdown"}')
check "quiesced answered nothing to guest-shutdown ('$ours')" test -z "$ours"
for i in $(seq 300); do kill -0 "$VM_QEMU_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$VM_QEMU_PID" 2>/dev/null; then
  check "the guest powered off" false
else
  wait "$VM_QEMU_PID" 2>/dev/null || true
  VM_QEMU_PID=
  check "the guest powered off: QEMU exited $(( $(vm_now_ms) - start )) ms after the request" true
fi
args=$(grep -a '^vm-shutdown: ' "$WORK/console.log" | tr -d '\r' | tail -1)
check "quiesced ran /sbin/shutdown ${args#vm-shutdown: }" \
  test "$args" = "vm-shutdown: -h -P +0 hypervisor initiated shutdown"

[ $failures -eq 0 ] || vm_fail "$failures check(s) failed"
vm_stop
echo "vm[$VM_NAME]: PASS the guest-control commands act in the guest as Debian's qemu-ga's do ($VM_ACCEL)"
