#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The isa-serial channel (COM1) under wine, on a pty pair: wine maps COMn to
# the host device $WINEPREFIX/dosdevices/comN links to (docs/testing.md
# §5), so com1 points at one end of a socat pty pair and this script is the
# host on the other. Wine rewrites that link to /dev/ttyS0 whenever its
# services start in the prefix, unless HKLM\Software\Wine\Ports names the
# device: both are set, and both undone at exit. Checked: requests and replies, guest-sync-delimited's 0xFF,
# a prepare/post session, the host closing and reopening its end (a serial
# line has no connection: the agent just goes on), and the device going
# away and coming back (socat killed and restarted: the agent's read
# fails, it closes COM1 and reopens it on its retry). Negative control:
# once the agent is gone, a request gets no reply and the same read fails.
# usage: check-com1.sh WINE-RUN QUIESCED-FAKE.EXE
set -u
run=$1 exe=$2
command -v socat >/dev/null || { echo "SKIP: socat missing"; exit 77; }
prefix=${WINEPREFIX:-${TMPDIR:-/tmp}/quiesce-wineprefix}
dir=$(mktemp -d) || exit 1
socat_pid= agent_pid= old_link=

cleanup() {
  exec 3>&- 2>/dev/null
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
  [ -n "$socat_pid" ] && kill "$socat_pid" 2>/dev/null && wait "$socat_pid" 2>/dev/null
  "$run" reg delete 'HKLM\Software\Wine\Ports' /v COM1 /f >/dev/null 2>&1
  if [ -n "$old_link" ]; then ln -sfn "$old_link" "$prefix/dosdevices/com1"
  else rm -f "$prefix/dosdevices/com1"; fi
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- agent log:"; cat "$dir/agent.log" 2>/dev/null; exit 1; }

start_socat() {
  rm -f "$dir/guest" "$dir/host"
  socat pty,raw,echo=0,link="$dir/guest" pty,raw,echo=0,link="$dir/host" &
  socat_pid=$!
  for _ in $(seq 50); do [ -e "$dir/guest" ] && [ -e "$dir/host" ] && return; sleep 0.1; done
  fail "socat made no pty pair"
}
# Waits (bounded) until the agent's log has the line N times.
wait_log() {
  for _ in $(seq 150); do
    [ "$(grep -c -- "$1" "$dir/agent.log")" -ge "$2" ] && return; sleep 0.1
  done
  fail "the agent did not log '$1' ($2 times)"
}
# Sends $1 (printf format), reads one reply line into $reply.
request() {
  printf "$1" >&3
  IFS= read -r -t "${2:-10}" reply <&3 || { reply=; return 1; }
}
expect() { [[ "$reply" == *"$1"* ]] || fail "expected '$1' in: $reply"; }

"$run" cmd /c exit >/dev/null 2>&1 # the prefix exists after this
[ -d "$prefix/dosdevices" ] || fail "no wine prefix at $prefix"
old_link=$(readlink "$prefix/dosdevices/com1")
start_socat
"$run" reg add 'HKLM\Software\Wine\Ports' /v COM1 /d "$dir/guest" /f >/dev/null 2>&1 ||
  fail "cannot name COM1's device in the registry"
ln -sfn "$dir/guest" "$prefix/dosdevices/com1"
"$run" "$exe" --foreground --debug --channel isa-serial 2>"$dir/agent.log" &
agent_pid=$!
wait_log "isa-serial: host connected" 1
exec 3<>"$dir/host"

request '{"execute":"guest-ping"}\n' || fail "no reply to guest-ping on COM1"
expect '{"return": {}}'
request '\xff{"execute":"guest-sync-delimited","arguments":{"id":42}}\n' || fail "no reply"
expect 'JSON parse error, stray'
IFS= read -r -t 10 reply <&3 || fail "no guest-sync-delimited reply"
[ "$reply" = $'\xff{"return": 42}' ] || fail "guest-sync-delimited answered: $reply"
request '{"execute":"guest-snapshot-prepare"}\n' || fail "no reply to prepare"
expect '"method": "child-snapshot"'
session=$(sed -n 's/.*"session": "\([0-9a-f-]*\)".*/\1/p' <<<"$reply")
[ -n "$session" ] || fail "no session in: $reply"
request "{\"execute\":\"guest-snapshot-post\",\"arguments\":{\"session\":\"$session\"}}\n" ||
  fail "no reply to post"
expect '"thawed": 1'
echo "ok: requests, sync-delimited and a session over COM1"

# The host closes its end and opens it again: the agent goes on.
exec 3>&-
sleep 1
exec 3<>"$dir/host"
request '{"execute":"guest-ping"}\n' || fail "no reply after the host reopened its end"
echo "ok: the host closed and reopened its end"

# The device goes away (the pty pair is gone) and comes back.
exec 3>&-
kill "$socat_pid"; wait "$socat_pid" 2>/dev/null
wait_log "isa-serial: host left" 1
start_socat
wait_log "isa-serial: host connected" 2
exec 3<>"$dir/host"
request '{"execute":"guest-ping"}\n' || fail "no reply after the device came back"
expect '{"return": {}}'
echo "ok: COM1 went away and came back"

# Negative control: no agent, no reply, and request says so.
kill "$agent_pid"; wait "$agent_pid" 2>/dev/null; agent_pid=
if request '{"execute":"guest-ping"}\n' 2; then fail "negative control: a reply without an agent"; fi
echo "ok: negative control (no agent, no reply)"
