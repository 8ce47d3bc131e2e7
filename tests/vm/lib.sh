# SPDX-License-Identifier: GPL-2.0-or-later
# lib.sh — sourced by the vm scenarios (tests/vm/scenario-*.sh): builds the
# guest (scripts/vm/build-guest.sh, cached), makes data disks as image files,
# boots QEMU with the agent channel and QMP on unix sockets, drives backups
# with host/quiesce-backup, and checks the snapshot images on COPIES.
#
# Safety (docs/design.md §11): nothing here freezes a filesystem of this machine. The
# disks are image files formatted with mkfs; freezes happen inside the guest;
# the only host mount is a loop mount of a copy of a snapshot image under the
# test's own temp dir, to replay an XFS log before xfs_repair -n (docs/testing.md §3).
#
# Environment (ctest sets it, see CMakeLists.txt): QUIESCED, QUIESCE_BACKUP,
# VM_WORKLOAD, VM_BUILD_DIR (for the example SQLite writer, if built),
# VM_EXTRA_BINS (more guest binaries, space-separated), VM_GUEST_ARGS (more
# build-guest.sh options, e.g. --storage-tools),
# QUIESCE_VM_CACHE; optional QUIESCE_VM_ACCEL=kvm|tcg to skip the probe,
# QUIESCE_VM_KEEP=1 to keep the work dir. A scenario may set VM_KERNEL before
# vm_boot: $GUEST/vmlinuz (the bzImage) for a guest that sleeps in S3, from
# which the default $GUEST/vmlinux, booted through PVH, does not wake.
set -euo pipefail

VM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM_CACHE=${QUIESCE_VM_CACHE:-$VM_TOP/build/vm-cache}
VM_NAME=${VM_NAME:-$(basename "$0" .sh)}
VM_DRIVES=()
VM_QEMU_PID=
VM_ACCEL=
VM_ACCEL_WHY=
WORK=

vm_log() { echo "vm[$VM_NAME]: $*"; }

vm_dump() {
  [ -n "$WORK" ] && [ -f "$WORK/console.log" ] || return 0
  if grep -q '^quiesced: /etc/quiesce/quiesced.conf' "$WORK/console.log"; then
    echo "NOTE: the agent refused its config file: $(grep -m1 '^quiesced: /etc/quiesce/quiesced.conf' "$WORK/console.log")"
  fi
  echo "---- guest console (last 60 lines) ----"
  grep -vE '^(committed|written) ' "$WORK/console.log" | tail -n 60 || true
  echo "---- last committed lines ----"
  grep '^committed ' "$WORK/console.log" | tail -n 4 || true
  [ -s "$WORK/qemu.log" ] && { echo "---- qemu ----"; tail -n 20 "$WORK/qemu.log"; }
  return 0
}

vm_fail() {
  echo "vm[$VM_NAME]: FAIL: $*" >&2
  vm_dump >&2
  exit 1
}

# vm_watchdog SECONDS: a scenario still running SECONDS from now fails as
# vm_fail does (the reason, the console dump, the EXIT trap's clean-up)
# instead of being killed by ctest's TIMEOUT with nothing said about where
# it stood. vm_setup and sd_setup start it with $VM_WATCHDOG, which
# tests/vm/CMakeLists.txt sets 60 s below each test's TIMEOUT. Bash runs
# a trap only once its foreground child has ended, so the watchdog ends
# the scenario's children too (a virsh that waits for ever).
vm_watchdog() {
  local seconds=$1 main=$$
  # The trap ends the watchdog first: a scenario that takes the signal at
  # once must not see its clean-up's children killed.
  trap 'kill "$VM_WATCHDOG_PID" 2>/dev/null || true; vm_fail "still running after '"$seconds"' s (vm_watchdog): the step above did not end"' USR1
  (
    trap - USR1 EXIT
    sleep "$seconds" >/dev/null 2>&1 </dev/null &
    sleeper=$!
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    wait "$sleeper" || exit 0
    kill -USR1 "$main" 2>/dev/null || exit 0
    sleep 2 >/dev/null 2>&1 </dev/null &
    sleeper=$!
    wait "$sleeper" || exit 0
    # The scenario's children (procps may not be installed): /proc/PID/stat
    # after the command's ") " is "STATE PPID ...".
    for stat in /proc/[0-9]*/stat; do
      fields=$(cat "$stat" 2>/dev/null) || continue
      fields=${fields##*) }
      set -- $fields
      child=${stat#/proc/}
      child=${child%/stat}
      [ "${2:-}" = "$main" ] && [ "$child" != "$BASHPID" ] && kill "$child" 2>/dev/null || true
    done
  ) &
  VM_WATCHDOG_PID=$!
}

vm_skip() {
  echo "vm[$VM_NAME]: SKIP: $*"
  exit 77
}

vm_cleanup() {
  local rc=$?
  set +e
  if [ -n "$VM_QEMU_PID" ] && kill -0 "$VM_QEMU_PID" 2>/dev/null; then
    kill "$VM_QEMU_PID" 2>/dev/null || true
    wait "$VM_QEMU_PID" 2>/dev/null || true
  fi
  if [ -n "${VM_CTL_PID:-}" ]; then kill "$VM_CTL_PID" 2>/dev/null || true; fi
  if [ -n "${VM_WATCHDOG_PID:-}" ]; then kill "$VM_WATCHDOG_PID" 2>/dev/null || true; fi
  local pid
  for pid in "${VM_PORT_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$WORK" ]; then
    # Our own loop mounts only (copies under $WORK), should a check have died.
    { grep -o " $WORK/[^ ]*" /proc/mounts || true; } | while read -r m; do umount "$m" || true; done
    if [ "${QUIESCE_VM_KEEP:-0}" = 1 ]; then
      echo "vm[$VM_NAME]: work dir kept: $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit $rc
}

vm_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- set-up ------------------------------------------------------------------

vm_require_tools() {
  local t missing=()
  for t in "$@"; do command -v "$t" >/dev/null || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] || vm_fail "missing tools: ${missing[*]} (run scripts/install-deps.sh)"
}

# vm_probe_accel MARKER SECONDS WHAT QEMU-ARGS...: sets VM_ACCEL to kvm when
# a short KVM boot with QEMU-ARGS (kernel, disks; the console is added)
# prints MARKER on the console within SECONDS, else tcg, with VM_ACCEL_WHY.
# /dev/kvm alone proves nothing here (docs/testing.md §1). The answer is
# cached per host boot and QEMU version, shared by every guest's probe.
# WHAT names the guest in the reason.
vm_probe_accel() {
  local marker=$1 seconds=$2 what=$3; shift 3
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
    timeout $((seconds + 5)) qemu-system-x86_64 -accel kvm -smp 1 -nodefaults -display none \
      -no-reboot "$@" \
      -chardev "file,id=con,path=$dir/console.log" -serial chardev:con >"$dir/qemu.log" 2>&1 &
    pid=$!
    for i in $(seq $((seconds * 10))); do
      grep -q "$marker" "$dir/console.log" 2>/dev/null && { VM_ACCEL=kvm; break; }
      kill -0 $pid 2>/dev/null || break
      sleep 0.1
    done
    kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
    if [ $VM_ACCEL = tcg ]; then
      VM_ACCEL_WHY="(KVM probe boot failed: $(grep -m1 -i -E 'error|fail' "$dir/qemu.log" || echo "no $what within $seconds s"))"
    else
      VM_ACCEL_WHY="(KVM probe boot reached the $what)"
    fi
  fi
  echo "$VM_ACCEL $VM_ACCEL_WHY" >"$probe"
}

# The busybox guest's probe: its init's "ready" line.
vm_choose_accel() {
  vm_probe_accel 'vm-init: ready' 10 guest -m 256 \
    -kernel "$GUEST/vmlinux" -initrd "$GUEST/initramfs.cpio" \
    -append "console=ttyS0 panic=-1 loglevel=4 no_timer_check"
}

vm_setup() {
  if ! command -v qemu-system-x86_64 >/dev/null; then
    vm_skip "qemu-system-x86_64 is not installed (scripts/install-deps.sh installs qemu-system-x86)"
  fi
  if ! printf '{"execute":"qmp_capabilities"}{"execute":"quit"}' |
       timeout 20 qemu-system-x86_64 -machine none -nodefaults -display none -S -qmp stdio \
       >/dev/null 2>&1; then
    vm_skip "qemu-system-x86_64 cannot run here ($(qemu-system-x86_64 --version 2>&1 | head -1))"
  fi
  vm_require_tools cpio mkfs.ext4 mkfs.xfs mkfs.vfat e2fsck dumpe2fs debugfs xfs_repair xfs_logprint \
                   socat sqlite3 \
                   apt-get dpkg-deb depmod xz flock
  for v in QUIESCED QUIESCE_BACKUP VM_WORKLOAD; do
    [ -x "${!v:-}" ] || vm_fail "\$$v must name a built binary (run through ctest)"
  done
  WORK=$(mktemp -d /tmp/quiesce-vm.XXXXXX)
  trap vm_cleanup EXIT
  [ -z "${VM_WATCHDOG:-}" ] || vm_watchdog "$VM_WATCHDOG"
  mkdir -p "$WORK/overlay/etc/vm" "$WORK/overlay/etc/quiesce/writers.d" "$WORK/backup"
  local bins=(--bin "$QUIESCED" --bin "$VM_WORKLOAD") b
  for b in ${VM_EXTRA_BINS:-}; do [ -x "$b" ] && bins+=(--bin "$b"); done
  # The example SQLite writer and its workload, when the build has them
  # (examples/sqlite-writer needs libsqlite3-dev).
  VM_EXAMPLE=
  if [ -n "${VM_BUILD_DIR:-}" ] && [ -x "$VM_BUILD_DIR/examples/sqlite-writer/quiesce-sqlite-workload" ]; then
    VM_EXAMPLE=1
    for b in quiesce-sqlite-workload quiesce-sqlite-writer; do
      [ -x "$VM_BUILD_DIR/examples/sqlite-writer/$b" ] && bins+=(--bin "$VM_BUILD_DIR/examples/sqlite-writer/$b")
    done
  fi
  GUEST=$("$VM_TOP/scripts/vm/build-guest.sh" --cache "$VM_CACHE" ${VM_GUEST_ARGS:-} "${bins[@]}") ||
    vm_fail "building the guest failed"
  vm_choose_accel
  vm_log "guest $(basename "$GUEST"), accelerator $VM_ACCEL ${VM_ACCEL_WHY:-}"
}

# vm_setup_offline: for a test that only checks images another test made
# (no QEMU, no guest): the work dir and the checking tools.
vm_setup_offline() {
  vm_require_tools e2fsck dumpe2fs debugfs xfs_repair xfs_logprint sqlite3
  WORK=$(mktemp -d /tmp/quiesce-vm.XXXXXX)
  trap vm_cleanup EXIT
}

# vm_disk SERIAL FSTYPE SIZE_MB: an image file formatted on the host (no
# mount), attached as virtio-blk with that serial and drive id.
vm_disk() {
  local img=$WORK/$1.img
  truncate -s "${3}M" "$img"
  case $2 in
    ext4) mkfs.ext4 -q -F -L "$1" "$img" ;;
    xfs) mkfs.xfs -q -f -L "$1" "$img" ;;
    btrfs) mkfs.btrfs -q -f -L "$1" "$img" >/dev/null ;;
    vfat) local label=${1:0:11}; mkfs.vfat -n "${label^^}" "$img" >/dev/null ;;
    none) ;;
    *) vm_fail "vm_disk: unknown fstype $2" ;;
  esac
  VM_DRIVES+=(-drive "file=$img,format=raw,if=none,id=$1,cache=writeback"
              -device "virtio-blk-pci,drive=$1,serial=$1")
}

# Files for the guest, in a second cpio archive appended to the initramfs.
vm_guest_file() { # GUEST_PATH [MODE], content on stdin
  mkdir -p "$WORK/overlay/$(dirname "$1")"
  cat >"$WORK/overlay/$1"
  chmod "${2:-0644}" "$WORK/overlay/$1"
}
vm_scenario() { vm_guest_file /etc/vm/scenario.sh; }
vm_config() { vm_guest_file /etc/quiesce/quiesced.conf; }

# vm_qemu [KERNEL_ARG...]: starts QEMU on the scenario's initramfs, disks and
# ports (VM_DRIVES, VM_QEMU_EXTRA), with these kernel arguments added. The
# console file is appended to, so a second start (vm_resume) keeps the
# first one's lines and console offsets stay valid.
vm_qemu() {
  local cpu=()
  [ "$VM_ACCEL" = tcg ] && cpu=(-cpu max)
  qemu-system-x86_64 -accel "$VM_ACCEL" "${cpu[@]}" -m 768 -smp 2 -nodefaults -display none \
    -no-reboot -kernel "${VM_KERNEL:-$GUEST/vmlinux}" -initrd "$WORK/initrd.cpio" \
    -append "console=ttyS0 panic=-1 loglevel=4 no_timer_check${1:+ $*}" \
    -chardev "file,id=con,path=$WORK/console.log,append=on" -serial chardev:con \
    -device virtio-serial-pci \
    -chardev "socket,id=qga,path=$WORK/qga.sock,server=on,wait=off" \
    -device virtserialport,chardev=qga,name=org.qemu.guest_agent.0 \
    -chardev "socket,id=ctl,path=$WORK/ctl.sock,server=on,wait=off" \
    -device virtserialport,chardev=ctl,name=org.quiesce.control.0 \
    -qmp "unix:$WORK/qmp.sock,server=on,wait=off" \
    "${VM_DRIVES[@]}" ${VM_QEMU_EXTRA:+"${VM_QEMU_EXTRA[@]}"} >>"$WORK/qemu.log" 2>&1 &
  VM_QEMU_PID=$!
}

# vm_boot: starts QEMU and waits for the init's "ready" line.
vm_boot() {
  local start=$(vm_now_ms) i limit=900
  [ "$VM_ACCEL" = kvm ] && limit=300
  (cd "$WORK/overlay" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) >"$WORK/overlay.cpio"
  cat "$GUEST/initramfs.cpio" "$WORK/overlay.cpio" >"$WORK/initrd.cpio"
  vm_qemu
  for i in $(seq $limit); do
    grep -q 'vm-init: ready' "$WORK/console.log" 2>/dev/null && break
    kill -0 "$VM_QEMU_PID" 2>/dev/null || vm_fail "QEMU exited during boot"
    sleep 0.1
  done
  grep -q 'vm-init: ready' "$WORK/console.log" || vm_fail "the guest did not boot in $((limit / 10)) s"
  VM_BOOT_MS=$(( $(vm_now_ms) - start ))
  vm_log "guest up in $VM_BOOT_MS ms ($VM_ACCEL)"
  grep -q 'FAILED to mount' "$WORK/console.log" && vm_fail "a data disk did not mount"
  grep -q '^vm-init: insmod .* failed' "$WORK/console.log" && vm_fail "a kernel module did not load"
  return 0
}

# vm_resume SERIAL: after the guest hibernated and powered off (QEMU has
# exited), starts QEMU again with the same guest, disks and ports, and
# guest-init resumes from the image on the swap disk with that serial
# (vm.resume=, scripts/vm/guest-init.sh). Returns once QEMU's sockets
# exist; the caller waits for the console. The control port's connection
# is made anew at its next use.
vm_resume() {
  local i
  if [ -n "${VM_CTL_PID:-}" ]; then
    kill "$VM_CTL_PID" 2>/dev/null || true
    wait "$VM_CTL_PID" 2>/dev/null || true
    VM_CTL_PID=
  fi
  rm -f "$WORK/qmp.sock"
  vm_qemu "vm.resume=$1"
  for i in $(seq 100); do
    [ -S "$WORK/qmp.sock" ] && return 0
    kill -0 "$VM_QEMU_PID" 2>/dev/null || vm_fail "QEMU exited at once on the resume boot"
    sleep 0.1
  done
  vm_fail "QEMU made no QMP socket in 10 s on the resume boot"
}

vm_stop() {
  [ -n "$VM_QEMU_PID" ] || return 0
  # An ASan/UBSan build of the agent reports into the console.
  if grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$WORK/console.log"; then
    vm_fail "a sanitizer reported an error in the guest"
  fi
  "$QUIESCE_BACKUP" --qmp "$WORK/qmp.sock" --command-timeout 5 qmp '{"execute":"quit"}' >/dev/null 2>&1 || true
  local i
  for i in $(seq 50); do kill -0 "$VM_QEMU_PID" 2>/dev/null || break; sleep 0.1; done
  kill "$VM_QEMU_PID" 2>/dev/null || true
  wait "$VM_QEMU_PID" 2>/dev/null || true
  VM_QEMU_PID=
}

# --- talking to the guest ------------------------------------------------------

# Note: the agent keeps its log in memory while frozen (docs/design.md §7) and prints
# it after the thaw, so its lines cannot tell when a freeze began; the
# driver's output can.
vm_wait_console() { # REGEX SECONDS
  vm_wait_file "$1" "$WORK/console.log" "$2"
}

vm_wait_file() { # REGEX FILE SECONDS
  local i
  for i in $(seq $(( $3 * 10 ))); do
    grep -qE "$1" "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# The highest SEQ the workload NAME reported committed (or, a buffered
# writer, written) so far (0 if none).
vm_committed() {
  awk -v n="$1" '($1 == "committed" || $1 == "written") && $2 == n && $3 + 0 > m {m = $3 + 0}
                 END {print m + 0}' "$WORK/console.log"
}

# vm_wait_progress NAME SEQ SECONDS: until NAME commits past SEQ.
vm_wait_progress() {
  local i
  for i in $(seq $(( $3 * 10 ))); do
    [ "$(vm_committed "$1")" -gt "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# The largest write+fsync latency (ms) NAME reported after console byte OFFSET.
vm_max_latency_ms() {
  tail -c +"$(( $2 + 1 ))" "$WORK/console.log" |
    awk -v n="$1" '$1 == "committed" && $2 == n && $5 + 0 > m {m = $5 + 0} END {printf "%d\n", m / 1000}'
}

vm_console_size() { stat -c %s "$WORK/console.log"; }

# vm_max_gap_ms NAME OFFSET: the longest time (ms, guest clock) between the
# completions of two consecutive records of workload NAME, both reported
# after console byte OFFSET; then the SEQ of the later one. A writer that
# nothing blocks completes one record per interval plus its write latency.
vm_max_gap_ms() {
  tail -c +"$(( $2 + 1 ))" "$WORK/console.log" |
    awk -v n="$1" '($1 == "committed" || $1 == "written") && $2 == n {
                     t = $4 / 1e6 + $5 / 1e3
                     if (seen && $3 + 0 == prev + 1 && t - last > max) {max = t - last; at = $3 + 0}
                     seen = 1; prev = $3 + 0; last = t}
                   END {printf "%d %d\n", max, at}'
}

vm_agent() { # JSON: one agent command (after a sync); prints its return
  "$QUIESCE_BACKUP" --agent "$WORK/qga.sock" --agent-timeout "${VM_AGENT_TIMEOUT:-20}" agent "$1"
}

vm_ask() { # SOCKET JSON: one agent command on that port; its return, or "error CLASS: desc"
  local out
  if out=$("$QUIESCE_BACKUP" --agent "$1" --agent-timeout "${VM_AGENT_TIMEOUT:-20}" agent "$2" 2>&1); then
    echo "$out"
  else
    echo "error ${out#quiesce-backup: *: }"
  fi
}

vm_qmp() { "$QUIESCE_BACKUP" --qmp "$WORK/qmp.sock" qmp "$1"; }

# vm_control CMD [ARG]: runs a command of guest-init.sh's control port
# (org.quiesce.control.0); the answer line goes to VM_CTL_REPLY. One
# connection for the test's life (a chardev socket takes one client), so
# never call it in a $(...) subshell.
vm_control() {
  if [ -z "${VM_CTL_PID:-}" ]; then
    coproc VM_CTL { socat - UNIX-CONNECT:"$WORK/ctl.sock"; }
    VM_CTL_PID=$VM_CTL_PID
  fi
  local line
  echo "$*" >&"${VM_CTL[1]}"
  read -r -t 15 line <&"${VM_CTL[0]}" || line="error no answer"
  VM_CTL_REPLY=$line
  vm_log "control: $* -> $line"
  case $line in ok*) return 0 ;; *) return 1 ;; esac
}

# Extra virtio-serial ports a scenario adds (VM_QEMU_EXTRA, a chardev
# socket $WORK/NAME.sock): vm_port_open NAME connects once for the test's life
# through two fifos (bash keeps one coproc at a time, and vm_control has it);
# vm_port_ask NAME SECONDS LINE sends LINE and reads one answer line into
# VM_PORT_REPLY. Never in a $(...) subshell.
declare -A VM_PORT_W=() VM_PORT_R=()
VM_PORT_PIDS=()
vm_port_open() {
  local w r
  mkfifo "$WORK/$1.in" "$WORK/$1.out"
  socat - UNIX-CONNECT:"$WORK/$1.sock" <"$WORK/$1.in" >"$WORK/$1.out" &
  VM_PORT_PIDS+=($!)
  exec {w}>"$WORK/$1.in" {r}<"$WORK/$1.out"
  VM_PORT_W[$1]=$w
  VM_PORT_R[$1]=$r
}
vm_port_ask() {
  echo "$3" >&"${VM_PORT_W[$1]}"
  read -r -t "$2" VM_PORT_REPLY <&"${VM_PORT_R[$1]}" || VM_PORT_REPLY="error no answer in $2 s"
}

# vm_guest_sh CMD: runs CMD through the control port's "sh"; succeeds only
# when CMD's exit status is 0 (vm_control alone succeeds whenever the guest
# answered).
vm_guest_sh() {
  vm_control sh "$1" || return 1
  [ "${VM_CTL_REPLY##* }" = 0 ]
}

# vm_backup ARGS...: a backup with the driver into VM_BACKUP_DIR (default
# $WORK/backup); its report lands in $WORK/report.
vm_backup() {
  rm -f "$WORK/report"
  local rc=0 dir=${VM_BACKUP_DIR:-$WORK/backup}
  mkdir -p "$dir"
  "$QUIESCE_BACKUP" --qmp "$WORK/qmp.sock" --agent "$WORK/qga.sock" --overlay-dir "$WORK" \
    --backup-dir "$dir" --report "$WORK/report" "$@" backup || rc=$?
  return $rc
}

# vm_backup_saved_state ARGS...: vm_backup that must end in the saved-state
# fallback: exit status 3 (quiesce-backup(1)), anything else fails the test.
vm_backup_saved_state() {
  local rc=0
  vm_backup "$@" || rc=$?
  [ "$rc" = 3 ] || vm_fail "the fallback backup exited $rc, expected 3 (backed up by saved state)"
}

vm_report() { sed -n "s/^$1=//p" "$WORK/report"; }

# --- checking snapshot images (copies only) ------------------------------------

# Two kinds of checks. vm_fsck, vm_check_workload (fsynced records) and
# vm_check_sqlite hold for ANY crash-consistent copy (a snapshot with no
# freeze passes them too: vm_fsck replays an ext4 journal or an XFS log
# first, as the mount of a restore would, fsynced records and SQLite's WAL
# survive a crash). What only a frozen snapshot passes: vm_fs_quiesced (the
# raw image's journal/log), vm_check_workload on a buffered writer's file
# (the freeze's sync wrote it) and vm_check_stall (the writers were blocked
# across the host's frozen window). The negative control
# (scenario-no-quiesce-control.sh) shows each of those fails on a snapshot
# taken without the freeze.

# vm_fsck IMG FSTYPE: the filesystem is consistent (as after a crash).
# ext4: replay the journal on a copy (e2fsck -E journal_only), then e2fsck
# -fn on it: without the replay, e2fsck -n skips the journal and reports
# the blocks its transactions allocated as bitmap differences (a
# saved-state copy of a running guest failed so once). xfs: replay the log
# on a copy (mount, umount), then xfs_repair -n on it.
vm_fsck() {
  case $2 in
    ext4)
      local copy=$WORK/check-$(basename "$1").ext4
      cp --sparse=always "$1" "$copy"
      e2fsck -E journal_only -y "$copy" >"$WORK/fsck.log" 2>&1 || [ $? -le 1 ] ||
        { cat "$WORK/fsck.log"; return 1; }
      e2fsck -fn "$copy" >"$WORK/fsck.log" 2>&1 || { cat "$WORK/fsck.log"; return 1; }
      rm -f "$copy" ;;
    xfs)
      local copy=$WORK/check-$(basename "$1").xfs mnt
      cp --sparse=always "$1" "$copy"
      mnt=$(mktemp -d "$WORK/mnt.XXXXXX")
      mount -t xfs -o loop "$copy" "$mnt" || return 1
      umount "$mnt"
      xfs_repair -n "$copy" >"$WORK/fsck.log" 2>&1 || { cat "$WORK/fsck.log"; return 1; }
      rm -f "$copy" ;;
    *) vm_fail "vm_fsck: $2" ;;
  esac
}

# vm_extract IMG FSTYPE DIR: the snapshot's files, read from a copy (after
# journal/log replay, as a restore would see them).
vm_extract() {
  local copy=$WORK/extract-$(basename "$1").$2 mnt
  cp --sparse=always "$1" "$copy"
  mkdir -p "$3"
  case $2 in
    ext4)
      e2fsck -fy "$copy" >/dev/null 2>&1 || [ $? -le 1 ] || return 1
      debugfs -R "rdump / $3" "$copy" >/dev/null 2>&1 ;;
    xfs)
      mnt=$(mktemp -d "$WORK/mnt.XXXXXX")
      mount -t xfs -o loop "$copy" "$mnt" || return 1
      cp -a "$mnt/." "$3/"
      umount "$mnt" ;;
    *) vm_fail "vm_extract: $2" ;;
  esac
  rm -f "$copy"
}

# vm_check_sqlite DB MIN_ID: the example database (a copy from a snapshot)
# passes integrity_check and holds rows 1..N without a gap, N >= MIN_ID.
# Prints N.
vm_check_sqlite() {
  [ -f "$1" ] || { echo "no database $1"; return 1; }
  local integrity count max
  integrity=$(sqlite3 "$1" 'PRAGMA integrity_check;' 2>&1) || true
  [ "$integrity" = ok ] || { echo "integrity_check: $integrity"; return 1; }
  count=$(sqlite3 "$1" 'SELECT count(*) FROM rows;')
  max=$(sqlite3 "$1" 'SELECT coalesce(max(id), 0) FROM rows;')
  [ "$count" = "$max" ] || { echo "rows has $count rows but ids up to $max"; return 1; }
  [ "$max" -ge "$2" ] || { echo "rows ends at $max, $2 were committed before prepare"; return 1; }
  echo "$max"
}

# vm_check_workload FILE NAME MIN_SEQ [whole]: FILE holds records 1..N of
# workload NAME in order, N >= MIN_SEQ; with "whole", the file is made of
# whole records only (nothing torn: what a correct freeze guarantees).
vm_check_workload() {
  [ -f "$1" ] || { echo "no workload file $1"; return 1; }
  local size last
  size=$(stat -c %s "$1")
  if [ "${4:-}" = whole ] && [ $((size % 64)) -ne 0 ]; then
    echo "$1: $size bytes is not a whole number of 64-byte records (torn write)"; return 1
  fi
  last=$(awk -v n="$2" 'BEGIN {s = 0}
         $1 != n || $2 + 0 != s + 1 {exit} {s = $2 + 0} END {print s}' "$1")
  [ $(( last * 64 )) -ge $(( size - size % 64 )) ] ||
    { echo "$1: records stop being consecutive after $last"; return 1; }
  [ "$last" -ge "$3" ] || { echo "$1: has $last records, $3 were reported before the snapshot"; return 1; }
  echo "$last"
}

# vm_fs_quiesced IMG FSTYPE: the raw snapshot (before any replay) is what a
# freeze leaves on disk; prints the evidence either way.
# ext4: ext4_freeze flushes the journal and clears needs_recovery before
# FIFREEZE returns (ext4_unfreeze sets it again), so a frozen snapshot's
# superblock has no needs_recovery; any mounted, unfrozen ext4 has it.
vm_fs_quiesced() {
  case $2 in
    ext4)
      local features
      features=$(dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Filesystem features: *//p')
      [ -n "$features" ] || { echo "dumpe2fs -h $1 failed"; return 1; }
      case " $features " in
        *" needs_recovery "*) echo "ext4 journal needs recovery (features: $features)"; return 1 ;;
      esac
      echo "ext4 journal clean (no needs_recovery)" ;;
    xfs)
      # A frozen XFS (6.x kernels) does not leave a clean log: xfs_fs_freeze
      # -> xfs_log_quiesce forces the log, pushes the AIL (every change now
      # in place) and then covers the log with dummy transactions that log
      # only the superblock, with the tail moved up to them. So the raw
      # frozen image reads "state: <DIRTY>" and xfs_repair -n on it prints
      # the "valuable metadata changes in a log" ALERT and exits 1, exactly
      # as for an unfrozen one: neither tells them apart. What does is
      # what lies between tail and head (xfs_logprint -t): after a freeze
      # only SUPER Block Buffer items (blkno 0); unfrozen, the transactions
      # not yet written in place (inodes, AGF/AGI, btree buffers, ...).
      # (An idle unfrozen XFS covers its log the same way after ~30 s; the
      # busy writers here never leave it idle.) A clean log also passes.
      local log=$WORK/logprint-$(basename "$1").txt verdict
      xfs_logprint -t "$1" >"$log" 2>&1 || { echo "xfs_logprint -t $1 failed: $(tail -n 3 "$log")"; return 1; }
      verdict=$(awk '
        /log tail: .* head: .* state: / { tail = $3; head = $5; state = $7 }
        /^TRANS:/ { trans++ }
        /^[A-Z]+: cnt:/ { items++; if ($1 != "BUF:") other[$1]++ }
        /^\tBUF: .*start blkno:/ { match($0, /start blkno:[0-9a-fx]+/)
                                   if (substr($0, RSTART + 12, RLENGTH - 12) != "0x0") nonsb++ }
        END {
          kinds = ""; for (k in other) kinds = kinds (kinds == "" ? "" : ", ") other[k] " " substr(k, 1, length(k) - 1)
          ok = state == "<CLEAN>" || (state == "<DIRTY>" && nonsb + 0 == 0 && kinds == "")
          printf "%s xfs log tail %s head %s %s, %d transaction(s) of %d item(s)", ok ? "ok" : "bad",
                 tail, head, state, trans, items
          if (ok && state != "<CLEAN>") printf ", superblock only (the freeze'"'"'s log cover)"
          if (!ok) printf ", %d non-superblock buffer(s)%s%s", nonsb, kinds == "" ? "" : ", other items: ", kinds
          printf "\n"
        }' "$log")
      echo "${verdict#* }"
      [ "${verdict%% *}" = ok ] ;;
    *) vm_fail "vm_fs_quiesced: $2" ;;
  esac
}

# vm_done_ms NAME SEQ: when record SEQ of workload NAME finished (guest
# CLOCK_REALTIME, ms, fractional), from its console line.
# The record's line may follow another process's unfinished one on the
# same console line ("quiesce-sqlite-writer sqlite: committed xfs 57 ..."):
# it is looked for anywhere in a line.
vm_done_ms() {
  awk -v n="$1" -v q="$2" '{
    for (i = 1; i + 4 <= NF; i++)
      if (($i == "committed" || $i == "written") && $(i + 1) == n && $(i + 2) == q) {
        printf "%.3f\n", $(i + 3) / 1e6 + $(i + 4) / 1e3; exit
      }
  }' "$WORK/console.log"
}

# vm_check_stall NAME LAST WINDOW_MS: LAST is the last record of workload
# NAME in the snapshot. A freeze syncs every write that finished before it
# and blocks the rest until the thaw, so LAST finished before the freeze and
# LAST+1 after the thaw: the gap between them (durations on the guest's
# clock) covers the whole freeze, which lasted at least WINDOW_MS, the time
# from the host's receipt of prepare's answer to its sending of post
# (window-inner-ms). Anchored on the snapshot's contents, so it is the stall
# at the snapshot, not any stall. Prints the gap in ms.
vm_check_stall() {
  local a b gap
  a=$(vm_done_ms "$1" "$2"); b=$(vm_done_ms "$1" $(( $2 + 1 )))
  [ -n "$a" ] && [ -n "$b" ] || { echo "$1: no console line for record $2 or $(( $2 + 1 ))"; return 1; }
  gap=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%d", b - a}')
  # 1 ms for the rounding of the two times to ms.
  [ "$gap" -ge $(( $3 - 1 )) ] ||
    { echo "$1: records $2 and $(( $2 + 1 )) finished $gap ms apart, the guest was frozen >= $3 ms"; return 1; }
  echo "$gap"
}

# vm_check_snapshot EXT4_IMG XFS_IMG STALL_MS WHAT: what every child-snapshot
# copy of the standard data disks (workloads $writers, at least before[w]
# records each when prepare was sent) must pass: the raw images carry only a
# freeze's marks (vm_fs_quiesced), e2fsck -fn / xfs_repair -n pass, every
# record up to the snapshot is whole, and the stall around it is at least
# STALL_MS (vm_check_stall). Sets q_ext4, q_xfs, have[w] and gap[w] for the
# caller's report; the first check that fails ends the test naming WHAT.
vm_check_snapshot() {
  local ext4=$1 xfs=$2 stall=$3 what=$4 w file
  declare -gA have gap
  q_ext4=$(vm_fs_quiesced "$ext4" ext4) || vm_fail "$what, ext4: $q_ext4"
  q_xfs=$(vm_fs_quiesced "$xfs" xfs) || vm_fail "$what, xfs: $q_xfs"
  vm_fsck "$ext4" ext4 || vm_fail "e2fsck -fn on $what, ext4"
  vm_fsck "$xfs" xfs || vm_fail "xfs_repair -n on $what, xfs"
  vm_extract "$ext4" ext4 "$WORK/snap-ext4" || vm_fail "reading $what, ext4"
  vm_extract "$xfs" xfs "$WORK/snap-xfs" || vm_fail "reading $what, xfs"
  for w in $writers; do
    file=$WORK/snap-${w%-buf}/workload.log
    [ "$w" = "${w%-buf}" ] || file=$WORK/snap-${w%-buf}/buffered.log
    have[$w]=$(vm_check_workload "$file" "$w" "${before[$w]}" whole) || vm_fail "$what, $w: ${have[$w]}"
    gap[$w]=$(vm_check_stall "$w" "${have[$w]}" "$stall") || vm_fail "$what, stall: ${gap[$w]}"
  done
}
