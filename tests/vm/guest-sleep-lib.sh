# SPDX-License-Identifier: GPL-2.0-or-later
# guest-sleep-lib.sh — vm/guest-control's (scenario-guest-control.sh)
# sleeps: guest-suspend-ram, -hybrid and -disk executed for real by one
# agent, seen from the host as qemu-ga's host sees them. Sourced after
# lib.sh; uses the scenario's check (a counted check) and $WORK.
#
# What the host sees on the wire (qemu-ga 7.2, qga/commands-posix.c and
# success-response false in qga/qapi-schema.json): nothing on success. The
# agent's child writes to /sys/power/state (or runs a helper that does), and
# that write returns only once the guest is back; the agent then sends no
# reply. So one connection is held across the sleep and, once the guest is
# back, a guest-sync's answer must be the first line on it.
#
# What QEMU sees: S3 (ram, and hybrid after its image) makes QEMU's run
# state "suspended" (query-status) until QMP's system_wakeup. A
# hibernation (disk) in the guest kernel's platform mode writes its image
# to swap and enters ACPI S4, which QEMU takes as a power-off: QEMU exits.
# hibernate_round starts QEMU again on the same disks and the guest resumes
# the image at that boot, as a hypervisor's guest does at its next start.
# The guest's kernel tells its side on the console (info level, which the
# scenario turns on): "suspend entry (deep)"/"suspend exit" for S3, "Wrote
# N kbytes" for an image written, "Read N kbytes" for one read back at the
# next boot, "hibernation exit" once the hibernated system runs again.

# sleep_wire_open SOCKET / sleep_wire_close: one connection to an agent's
# port, through two fifos (vm_control holds the coproc); a chardev socket
# takes one client, so nothing else may ask that agent meanwhile.
sleep_wire_open() {
  rm -f "$WORK/wire.in" "$WORK/wire.out"
  mkfifo "$WORK/wire.in" "$WORK/wire.out"
  socat - UNIX-CONNECT:"$1" <"$WORK/wire.in" >"$WORK/wire.out" &
  SLEEP_WIRE_PID=$!
  VM_PORT_PIDS+=("$SLEEP_WIRE_PID")   # (vm_cleanup ends it, should a check fail)
  exec {SLEEP_WIRE_W}>"$WORK/wire.in" {SLEEP_WIRE_R}<"$WORK/wire.out"
}
sleep_wire_close() {
  exec {SLEEP_WIRE_W}>&- {SLEEP_WIRE_R}<&-
  kill "$SLEEP_WIRE_PID" 2>/dev/null || true
  wait "$SLEEP_WIRE_PID" 2>/dev/null || true
}
sleep_wire_send() { printf '%s\n' "$1" >&"$SLEEP_WIRE_W"; }
# sleep_wire_sync ID SECONDS: sends guest-sync ID and reads until its answer
# ({"return": ID}); SLEEP_WIRE_BEFORE holds every line that came first.
# Fails when no answer comes within SECONDS of the last line.
sleep_wire_sync() {
  local line
  SLEEP_WIRE_BEFORE=
  sleep_wire_send "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":$1}}"
  while IFS= read -r -t "$2" line <&"$SLEEP_WIRE_R"; do
    [[ $line =~ ^\{\"return\":\ ?$1\}$ ]] && return 0
    SLEEP_WIRE_BEFORE+="$line"$'\n'
  done
  return 1
}

sleep_qmp_status() { vm_qmp '{"execute":"query-status"}' 2>&1 | grep -o '"status": *"[a-z-]*"' | grep -o '[a-z-]*"$' | tr -d '"'; }
# sleep_qmp_wait STATUS SECONDS: until QEMU's run state is STATUS.
sleep_qmp_wait() {
  local i
  for i in $(seq $(( $2 * 4 ))); do
    [ "$(sleep_qmp_status)" = "$1" ] && return 0
    sleep 0.25
  done
  return 1
}
# sleep_console_since OFFSET: the console from byte OFFSET on, without \r.
sleep_console_since() { tail -c +$(( $1 + 1 )) "$WORK/console.log" | tr -d '\r'; }
# sleep_console_wait OFFSET REGEX SECONDS
sleep_console_wait() {
  local i
  for i in $(seq $(( $3 * 2 ))); do
    sleep_console_since "$1" | grep -qE "$2" && return 0
    sleep 0.5
  done
  return 1
}

# sleep_wire_ready AGENT SOCKET MODE: opens the connection a sleep round
# holds and has AGENT answer a guest-sync on it; fails (a failed check, the
# connection closed) when it does not.
sleep_wire_ready() {
  sleep_wire_open "$2"
  sleep_wire_sync 1000 30 && return 0
  sleep_wire_close
  check "$1: answers before guest-suspend-$3" false
  return 1
}

# sleep_keep_log AGENT MODE OFFSET REGEX: keeps the console from OFFSET on
# in $WORK/sleep-AGENT-MODE.log, sets SLEEP_HELPERS from the pm-utils
# stand-ins' "vm-pm:" lines in it and shows its lines matching REGEX.
sleep_keep_log() {
  local log=$WORK/sleep-$1-$2.log
  sleep_console_since "$3" >"$log"
  SLEEP_HELPERS=$(grep -a '^vm-pm: ' "$log" | sed 's/^vm-pm: //' | tr '\n' ';')
  grep -aE "$4" "$log" | sed 's/^/    /' || true
}

# sleep_wire_control AGENT SOCKET: the wire check sees a reply: a guest-ping
# sent where the suspend would be is found before the next sync's answer.
sleep_wire_control() {
  sleep_wire_open "$2"
  sleep_wire_sync 901 30 || { sleep_wire_close; check "control: $1 answers a guest-sync" false; return; }
  sleep_wire_send '{"execute":"guest-ping"}'
  sleep_wire_sync 902 30 || true
  sleep_wire_close
  check "control: $1: a reply sent in the suspend's place is seen on the wire ($(echo $SLEEP_WIRE_BEFORE))" \
    grep -q '"return"' <<<"$SLEEP_WIRE_BEFORE"
}

# sleep_effect MODE LOG: the kernel's lines of that sleep, in order, in LOG
# (a console excerpt): ram: S3 entered and left; hybrid: an image written,
# then S3, then the hibernation's end; disk: the platform's S4 prepared,
# an image written, the image read back at the next boot, the
# hibernation's end, and no S3 anywhere.
sleep_effect() {
  case $1 in
    ram) awk '/PM: suspend entry \(deep\)/ {e = 1} e && /PM: suspend exit/ {x = 1} END {exit !x}' "$2" ;;
    hybrid) awk '/Wrote [0-9]+ kbytes/ {w = 1} w && /Preparing to enter system sleep state S3/ {s = 1}
                 s && /hibernation: hibernation exit/ {x = 1} END {exit !x}' "$2" ;;
    disk) awk '/Preparing to enter system sleep state S4/ {p = 1} p && /Wrote [0-9]+ kbytes/ {w = 1}
               w && /Read [0-9]+ kbytes/ {r = 1} r && /hibernation: hibernation exit/ {x = 1}
               /sleep state S3/ {s = 1} END {exit !x || s}' "$2" ;;
  esac
}
sleep_effect_words() {
  case $1 in
    ram) echo "S3 (suspend entry (deep), suspend exit)" ;;
    hybrid) echo "image written, then S3, then hibernation exit" ;;
    disk) echo "S4 prepared, image written, image read back at the next boot, hibernation exit, no S3" ;;
  esac
}

# sleep_round AGENT SOCKET MODE: guest-suspend-MODE (ram, hybrid) through
# AGENT on SOCKET; the guest sleeps and comes back (S3 woken by
# system_wakeup), AGENT answers again on the same connection with nothing
# sent for the suspend. Keeps the
# console's part in $WORK/sleep-AGENT-MODE.log and the helpers the agent
# ran (the pm-utils stand-ins' "vm-pm:" lines) in SLEEP_HELPERS.
sleep_round() {
  local a=$1 sock=$2 mode=$3 off t0 t1 t2 st out
  off=$(vm_console_size)
  sleep_wire_ready "$a" "$sock" "$mode" || return
  t0=$(vm_now_ms)
  sleep_wire_send "{\"execute\":\"guest-suspend-$mode\"}"
  st=running
  if sleep_qmp_wait suspended 240; then
    t1=$(vm_now_ms)
    st=suspended
    sleep 1
    vm_qmp '{"execute":"system_wakeup"}' >/dev/null || true
    sleep_qmp_wait running 30 || st="$(sleep_qmp_status) after system_wakeup"
  else
    st=$(sleep_qmp_status)
  fi
  sleep_console_wait "$off" 'PM: (suspend|hibernation: hibernation) exit' 300 || true
  t2=$(vm_now_ms)
  sleep_wire_sync 1001 90 && out=answers || out="no answer"
  sleep_wire_close
  sleep_keep_log "$a" "$mode" "$off" 'PM: (suspend|hibernation: hibernation) (entry|exit)|(Wrote|Read) [0-9]+ kbytes|sleep state S'
  check "$a: guest-suspend-$mode: QEMU's run state suspended after $(( ${t1:-$t0} - t0 )) ms, running after system_wakeup ($st)" \
    test "$st" = suspended
  check "$a: guest-suspend-$mode: the kernel's $(sleep_effect_words "$mode")" \
    sleep_effect "$mode" "$WORK/sleep-$a-$mode.log"
  check "$a: guest-suspend-$mode: the same QEMU still runs (under -no-reboot a reset, as on a failed wake, ends it)" \
    kill -0 "$VM_QEMU_PID"
  SLEEP_SENT=$(echo $SLEEP_WIRE_BEFORE)
  check "$a: guest-suspend-$mode: $out $(( (t2 - t0) / 1000 )) s after the request, having sent [$SLEEP_SENT] for it" \
    test "$out" = answers -a -z "$SLEEP_SENT"
}

# hibernate_round AGENT SOCKET: guest-suspend-disk through AGENT on SOCKET,
# in the guest kernel's platform mode: the image is written and the guest
# powers off (QEMU exits); QEMU is started again (vm_resume) and the guest
# resumes the image from the swap disk. The hibernated system must be the
# one that comes back: a token it kept in its tmpfs, both agents with the
# same process ids, no fresh boot. A connection to AGENT's port on the new
# QEMU is made before the guest resumes, so whatever AGENT sends once it is
# back is seen: nothing for a sleep that worked, then a guest-sync's
# answer. SLEEP_SENT and SLEEP_HELPERS as sleep_round's; the console's part
# (both boots) in $WORK/sleep-AGENT-disk.log.
hibernate_round() {
  local a=$1 sock=$2 off t0 t1 t2 t3 i token pids line before= out
  token=$a-$RANDOM$RANDOM
  if ! guest "echo platform >/sys/power/disk && echo $token >/run/hibernate-token"; then
    check "$a: the guest takes the platform hibernation mode" false
    return
  fi
  guest_value "pids-$a" "echo \$(pidof quiesced qemu-ga)"
  pids=$VALUE
  off=$(vm_console_size)
  sleep_wire_ready "$a" "$sock" disk || return
  t0=$(vm_now_ms)
  sleep_wire_send '{"execute":"guest-suspend-disk"}'
  for i in $(seq 3000); do kill -0 "$VM_QEMU_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$VM_QEMU_PID" 2>/dev/null; then
    sleep_wire_close
    sleep_console_since "$off" >"$WORK/sleep-$a-disk.log"
    check "$a: guest-suspend-disk: the guest powered off within 300 s" false
    return
  fi
  t1=$(vm_now_ms)
  wait "$VM_QEMU_PID" 2>/dev/null || true
  # What came on the connection before QEMU closed it.
  while IFS= read -r -t 5 line <&"$SLEEP_WIRE_R"; do before+="$line"$'\n'; done
  sleep_wire_close
  check "$a: guest-suspend-disk: the guest powered off, QEMU exited $(( (t1 - t0) / 1000 )) s after the request" true
  vm_resume swap   # (returns once QEMU's sockets are there)
  sleep_wire_open "$sock"
  sleep_console_wait "$off" 'PM: hibernation: hibernation exit|vm-init: (ready|no hibernation image)' 300 || true
  t2=$(vm_now_ms)
  sleep_wire_sync 1001 90 && out=answers || out="no answer"
  t3=$(vm_now_ms)
  sleep_wire_close
  before+=$SLEEP_WIRE_BEFORE
  sleep_keep_log "$a" disk "$off" 'PM: (hibernation: hibernation (entry|exit)|Image signature|Loading)|(Wrote|Read) [0-9]+ kbytes|sleep state S|reboot:|vm-init: (resuming|no hibernation)'
  check "$a: guest-suspend-disk: resumed from the image $(( (t2 - t1) / 1000 )) s after QEMU's restart, no fresh boot" \
    eval "! grep -qaE 'vm-init: (ready|no hibernation image)' '$WORK/sleep-$a-disk.log'"
  check "$a: guest-suspend-disk: the kernel's $(sleep_effect_words disk)" sleep_effect disk "$WORK/sleep-$a-disk.log"
  check "$a: guest-suspend-disk: the hibernated system's tmpfs is back (token $token)" \
    guest "grep -qx $token /run/hibernate-token"
  guest_value "pids-$a-after" "echo \$(pidof quiesced qemu-ga)"
  check "$a: guest-suspend-disk: the same agent processes run (pids $pids)" test -n "$pids" -a "$VALUE" = "$pids"
  SLEEP_SENT=$(echo $before)
  check "$a: guest-suspend-disk: $out $(( (t3 - t0) / 1000 )) s after the request, having sent [$SLEEP_SENT] for it" \
    test "$out" = answers -a -z "$SLEEP_SENT"
}
