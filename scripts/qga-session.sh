#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A scripted QGA session (README, "Talking to the agent by hand"): builds
# quiesced, starts it on a unix socket confined to an empty directory (so no
# request can freeze anything) and prints every request and reply the way a
# host (libvirt, Proxmox) would exchange them. 0xFF is shown as <FF>.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

scripts/install-deps.sh
cmake -S "$top" -B "$top/build/main" >/dev/null
cmake --build "$top/build/main" -j "$(nproc)" --target quiesced >/dev/null

work=$(mktemp -d /tmp/quiesce-demo.XXXXXX)
sock=$work/agent.sock
printf '[freeze]\nrunning-state-command=\n[writers]\nsocket=\n' >"$work/quiesced.conf"
mkdir "$work/empty"
"$top/build/main/agent/quiesced" --channel "unix-listen:$sock" --config "$work/quiesced.conf" \
  --confine "$work/empty" --state-dir "$work/state" --verbose 2>"$work/agent.log" &
agent=$!
trap 'kill $agent 2>/dev/null; wait $agent 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

send() { # $1: a description, $2: the bytes (printf %b escapes)
  printf '\n# %s\n>>> %s\n' "$1" "$(printf '%b' "$2" | sed 's/\xff/<FF>/g')"
  printf '%b' "$2" | socat -t 0.5 - "UNIX-CONNECT:$sock" | sed 's/\xff/<FF>/g; s/^/<<< /'
}

echo "quiesced $("$top/build/main/agent/quiesced" --version | cut -d' ' -f2) on $sock"
send "resynchronise as qemu's docs say: 0xFF, then guest-sync-delimited" \
     '\xff{"execute":"guest-sync-delimited","arguments":{"id":4242}}\n'
send "libvirt's sync" '{"execute":"guest-sync", "arguments":{"id":1700000000000}}\n'
send "Proxmox's liveness check" '{"execute":"guest-ping","arguments":{}}\n'
send "what the agent supports" '{"execute":"guest-info"}\n'
send "two requests in one write, one of them spanning lines" \
     '{"execute":"guest-ping","id":1}{"execute":\n"guest-sync","arguments":{"id":2}}\n'
send "an unknown command" '{"execute":"guest-nope"}\n'
send "a wrongly typed argument" '{"execute":"guest-sync","arguments":{"id":"x"}}\n'
send "malformed JSON, then the agent keeps serving" '{"execute":guest-ping}{"execute":"guest-ping"}\n'
send "may the host take a child-VM snapshot?" '{"execute":"guest-snapshot-check"}\n'
send "the Hyper-V-style prepare (nothing to freeze in the empty confinement)" \
     '{"execute":"guest-snapshot-prepare"}\n'
send "and abort it" '{"execute":"guest-snapshot-abort"}\n'
kill "$agent"; wait "$agent" || true
printf '\n# agent log\n'; cat "$work/agent.log"
