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
# state "suspended" (query-status) until QMP's system_wakeup; a
# hibernation in the kernel's test_resume mode (disk) writes its image to
# swap and is meant to read it back at once, with no power state change,
# where a platform hibernation would power the guest off and resume only
# at the next boot. The guests' 6.1 kernel writes the image but does not
# read it back (EBUSY opening the swap device in use), and its write to
# /sys/power/state then fails (tests/vm/README.md): sleep_round accepts
# that, and the scenario checks both agents answer it alike. The guest's kernel tells its side on the console (info level,
# which the scenario turns on): "suspend entry (deep)"/"suspend exit" for
# S3, "Wrote N kbytes" (and "Read N kbytes") for an image written (and
# read back), "hibernation exit".

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
# then S3, then the hibernation's end; disk: an image written, then the
# hibernation's end (read back in between where the kernel can: see
# sleep_round).
sleep_effect() {
  case $1 in
    ram) awk '/PM: suspend entry \(deep\)/ {e = 1} e && /PM: suspend exit/ {x = 1} END {exit !x}' "$2" ;;
    hybrid) awk '/Wrote [0-9]+ kbytes/ {w = 1} w && /Preparing to enter system sleep state S3/ {s = 1}
                 s && /hibernation: hibernation exit/ {x = 1} END {exit !x}' "$2" ;;
    disk) awk '/Wrote [0-9]+ kbytes/ {w = 1} w && /hibernation: hibernation exit/ {x = 1}
               /sleep state S3/ {s = 1} END {exit !x || s}' "$2" ;;
  esac
}
sleep_effect_words() {
  case $1 in
    ram) echo "S3 (suspend entry (deep), suspend exit)" ;;
    hybrid) echo "image written, then S3, then hibernation exit" ;;
    disk) echo "image written (test_resume), then hibernation exit, no S3" ;;
  esac
}

# sleep_round AGENT SOCKET MODE: guest-suspend-MODE (ram, hybrid, disk)
# through AGENT on SOCKET; the guest sleeps and comes back (S3 woken by
# system_wakeup; disk's image written), AGENT answers again
# on the same connection with nothing sent for the suspend. Keeps the
# console's part in $WORK/sleep-AGENT-MODE.log and the helpers the agent
# ran (the pm-utils stand-ins' "vm-pm:" lines) in SLEEP_HELPERS.
sleep_round() {
  local a=$1 sock=$2 mode=$3 off t0 t1 t2 st out
  off=$(vm_console_size)
  sleep_wire_open "$sock"
  if ! sleep_wire_sync 1000 30; then
    sleep_wire_close
    check "$a: answers before guest-suspend-$mode" false
    return
  fi
  t0=$(vm_now_ms)
  sleep_wire_send "{\"execute\":\"guest-suspend-$mode\"}"
  st=running
  if [ "$mode" != disk ]; then
    if sleep_qmp_wait suspended 240; then
      t1=$(vm_now_ms)
      st=suspended
      sleep 1
      vm_qmp '{"execute":"system_wakeup"}' >/dev/null || true
      sleep_qmp_wait running 30 || st="$(sleep_qmp_status) after system_wakeup"
    else
      st=$(sleep_qmp_status)
    fi
  fi
  sleep_console_wait "$off" 'PM: (suspend|hibernation: hibernation) exit' 300 || true
  t2=$(vm_now_ms)
  sleep_wire_sync 1001 90 && out=answers || out="no answer"
  sleep_wire_close
  sleep_console_since "$off" >"$WORK/sleep-$a-$mode.log"
  SLEEP_HELPERS=$(grep -a '^vm-pm: ' "$WORK/sleep-$a-$mode.log" | sed 's/^vm-pm: //' | tr '\n' ';')
  grep -aE 'PM: (suspend|hibernation: hibernation) (entry|exit)|(Wrote|Read) [0-9]+ kbytes|sleep state S' \
    "$WORK/sleep-$a-$mode.log" | sed 's/^/    /' || true
  case $mode in
    ram|hybrid)
      check "$a: guest-suspend-$mode: QEMU's run state suspended after $(( ${t1:-$t0} - t0 )) ms, running after system_wakeup ($st)" \
        test "$st" = suspended ;;
    disk)
      check "$a: guest-suspend-disk: QEMU stayed running (test_resume: no power state change)" \
        test "$(sleep_qmp_status)" = running ;;
  esac
  check "$a: guest-suspend-$mode: the kernel's $(sleep_effect_words "$mode")" \
    sleep_effect "$mode" "$WORK/sleep-$a-$mode.log"
  check "$a: guest-suspend-$mode: the same QEMU still runs (under -no-reboot a reset, as on a failed wake, ends it)" \
    kill -0 "$VM_QEMU_PID"
  # What the agent must have sent for the suspend: nothing, unless the
  # write to /sys/power/state failed, which only the disk round allows: when
  # the kernel wrote its image but did not read it back (no "Read N
  # kbytes"; tests/vm/README.md), the write fails and both agents say so.
  local expect=
  if [ "$mode" = disk ] && ! grep -qE 'Read [0-9]+ kbytes' "$WORK/sleep-$a-$mode.log"; then
    expect='{"error": {"class": "GenericError", "desc": "child process has failed to suspend"}}'
  fi
  SLEEP_SENT=$(echo $SLEEP_WIRE_BEFORE)
  check "$a: guest-suspend-$mode: $out $(( (t2 - t0) / 1000 )) s after the request, having sent [$SLEEP_SENT] for it" \
    test "$out" = answers -a "$SLEEP_SENT" = "$expect"
}
