#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-virtio-sigio.py QUIESCED SEAM — the real quiesced on two
virtio-serial ports, each a unix socket standing in for the port
(tests/support/virtio-port-seam.c, LD_PRELOAD): the agent learns of a host
from SIGIO, which is one pending bit per process whatever port raised it
(transports/virtio-serial.c).

  1. A host on port B: its request raises SIGIO, the agent finds the host
     and answers (the seam works).
  2. A host on port A whose open notice lands just after the agent's look
     (QUIESCE_SEAM_VIRTIO=late: the first look that could see the host
     still says "no host", and raises SIGIO again): the agent must see the
     second SIGIO as a reason to look at A again and answer within 5 s.
     With a signalfd per port, B's handler took that SIGIO and A's host
     never got an answer (the old agent fails here; vm/systemd-resilience
     met it as a guest-sync unanswered for 30 s).
  3. Both ports again, one request each: still answered.

No root; nothing is frozen (the agent is confined to an empty dir).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

quiesced, seam = sys.argv[1], sys.argv[2]
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def sync(conn, ident, seconds):
    """guest-sync-delimited on a host end; the round trip in ms, or None."""
    t0 = time.monotonic()
    conn.sendall(b"\xff" + json.dumps({"execute": "guest-sync-delimited",
                                       "arguments": {"id": ident}}).encode() + b"\n")
    buf = b""
    while time.monotonic() - t0 < seconds:
        conn.settimeout(max(0.01, seconds - (time.monotonic() - t0)))
        try:
            data = conn.recv(4096)
        except socket.timeout:
            break
        if not data:
            break
        buf += data
        if b"\xff" in buf and b"\n" in buf[buf.index(b"\xff"):]:
            line = buf[buf.index(b"\xff") + 1:].split(b"\n", 1)[0]
            if json.loads(line).get("return") == ident:
                return (time.monotonic() - t0) * 1000.0
    return None


work = tempfile.mkdtemp(prefix="quiesce-virtio-sigio.")
agent = None
try:
    listeners, paths = {}, {}
    for name in ("a", "b"):
        paths[name] = os.path.join(work, "port-" + name)
        listeners[name] = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listeners[name].bind(paths[name])
        listeners[name].listen(1)
    os.mkdir(os.path.join(work, "state"))
    os.mkdir(os.path.join(work, "confine"))
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(os.path.join(work, "notify"))
    conf = os.path.join(work, "quiesced.conf")
    with open(conf, "w") as f:
        f.write("[freeze]\nrunning-state-command=\n")
    env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM",)}
    env.update(LD_PRELOAD=seam, QUIESCE_SEAM_VIRTIO="late", NOTIFY_SOCKET=os.path.join(work, "notify"),
               ASAN_OPTIONS="verify_asan_link_order=0")
    agent = subprocess.Popen(
        [quiesced, "--config", conf, "--channel", "virtio-serial:" + paths["a"],
         "--channel", "virtio-serial:" + paths["b"], "--confine", os.path.join(work, "confine"),
         "--state-dir", os.path.join(work, "state")],
        stdin=subprocess.DEVNULL, env=env)
    hosts = {}
    for name in ("a", "b"):
        listeners[name].settimeout(10)
        hosts[name], _ = listeners[name].accept()
    notify.settimeout(10)
    ready = False
    while not ready:
        ready = b"READY=1" in notify.recv(4096)
    check(True, "the agent opened both ports and is ready")

    open(paths["b"] + ".host", "w").close()
    ms = sync(hosts["b"], 1, 5)
    check(ms is not None, "1. port B's host answered (%s ms)" % (ms and round(ms, 1)))

    open(paths["a"] + ".host", "w").close()
    ms = sync(hosts["a"], 2, 5)
    check(ms is not None,
          "2. port A's host, its open notice just after the agent's look, answered within 5 s (%s ms)"
          % (ms and round(ms, 1)))

    msa, msb = sync(hosts["a"], 3, 5), sync(hosts["b"], 4, 5)
    check(msa is not None and msb is not None, "3. both ports answered again (%s, %s ms)" % (
        msa and round(msa, 1), msb and round(msb, 1)))
    check(agent.poll() is None, "the agent still runs")
finally:
    if agent and agent.poll() is None:
        agent.terminate()
        try:
            agent.wait(10)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
    shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if failures else 0)
