#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""qga-latency.py — the host's side of vm/systemd-resilience on the agent's
chardev socket (QEMU's end of org.qemu.guest_agent.0): one connection that
can prepare a snapshot session, time the agent's answers while it holds the
guest frozen, post, or stay connected with the session open (so the guest
can be rebooted or powered off in the middle of it).

    qga-latency.py SOCKET [--prepare | --freeze] [--session-file F]
                   [--probe SECONDS] [--limit-ms MS] [--post] [--stay]
                   [--status-of ID] [--post-of ID]

--probe SECONDS: for that long, round after round, guest-ping,
guest-sync-delimited (with its 0xFF), guest-fsfreeze-status and
guest-snapshot-status, each timed from the request's write to its reply;
prints per command n, p50 and max (ms), and exits 1 when any answer took
longer than --limit-ms (default 1000) or none came within 30 s. That is
the check that fails when the agent's main loop does not run (the
scenario's negative control SIGSTOPs the agent during a probe).
--status-of/--post-of ID: what the agent says of an old session id
(printed as JSON: the return or the error); ID "self" is the session just
prepared. --pipelined-ping: a guest-ping sent in the same write as the
prepare; prints when it was answered (after the prepare: replies on one
connection keep their order).
--probe-socket SOCKET2 --probe-during SECONDS: while the prepare (or
freeze) is in flight, the same probe on a second connection (another
channel), from the request's write until its answer or SECONDS, whichever
comes first (at least one round); lines start "during". The probe's
states also show what the agent said meanwhile (frozen, busy).
Exit status: 0 ok, 1 a probe over its limit, 2 a protocol error or no
answer, 3 the prepare did not freeze (saved-state).
"""
import argparse
import json
import os
import random
import socket
import sys
import time


class Agent:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def _fill(self, deadline):
        """Appends what the socket has to the buffer, waiting until deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the agent's socket closed")
        self.buf += data

    def _read_value(self, deadline):
        """One JSON value from the stream (QGA replies are one per line)."""
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line, self.buf = self.buf[:nl], self.buf[nl + 1:]
                line = line.strip(b"\xff \r\t")
                if not line:
                    continue
                return json.loads(line)
            self._fill(deadline)

    def sync(self, timeout=30.0):
        """guest-sync-delimited: skips everything up to its 0xFF, then the
        reply with our id. Returns the round trip in ms."""
        ident = random.randrange(1, 2**31)
        t0 = time.monotonic()
        self.sock.sendall(b"\xff" + json.dumps(
            {"execute": "guest-sync-delimited", "arguments": {"id": ident}}).encode() + b"\n")
        deadline = t0 + timeout
        while True:
            while b"\xff" not in self.buf:
                self._fill(deadline)
            self.buf = self.buf[self.buf.index(b"\xff") + 1:]
            reply = self._read_value(deadline)
            if reply.get("return") == ident:
                return (time.monotonic() - t0) * 1000.0

    def call(self, name, args=None, timeout=30.0):
        """One command; returns (reply, ms)."""
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        t0 = time.monotonic()
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        reply = self._read_value(t0 + timeout)
        return reply, (time.monotonic() - t0) * 1000.0


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def readable(sock):
    import select
    return bool(select.select([sock], [], [], 0)[0])


def probe(agent, seconds, limit_ms, label="probe", until=None):
    """until: a socket whose first readable byte ends the probe early."""
    names = ["guest-ping", "guest-sync-delimited", "guest-fsfreeze-status", "guest-snapshot-status"]
    times = {n: [] for n in names}
    frozen_seen = {"guest-fsfreeze-status": set(), "guest-snapshot-status": set()}
    busy_seen = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (times[names[0]] and until and readable(until)):
        for n in names:
            if n == "guest-sync-delimited":
                ms = agent.sync()
            else:
                reply, ms = agent.call(n)
                if "return" not in reply:
                    print("qga-latency: %s: %s" % (n, json.dumps(reply)), file=sys.stderr)
                    sys.exit(2)
                if n == "guest-fsfreeze-status":
                    frozen_seen[n].add(reply["return"])
                elif n == "guest-snapshot-status":
                    frozen_seen[n].add(reply["return"].get("fsfreeze"))
                    busy_seen.add(reply["return"].get("busy", {}).get("operation", "-"))
            times[n].append(ms)
    worst = 0.0
    for n in names:
        v = times[n]
        worst = max(worst, max(v))
        print("%s %s n=%d p50=%.1f max=%.1f ms" % (label, n, len(v), percentile(v, 50), max(v)))
    print("%s states: fsfreeze-status %s, snapshot-status fsfreeze %s" % (
        label, ",".join(sorted(frozen_seen["guest-fsfreeze-status"])),
        ",".join(sorted(frozen_seen["guest-snapshot-status"]))))
    if label != "probe":
        print("%s busy: %s" % (label, ",".join(sorted(busy_seen))))
    print("%s worst=%.1f ms limit=%d ms: %s" % (label, worst, limit_ms,
                                                "ok" if worst <= limit_ms else "OVER"))
    return worst <= limit_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--prepare", action="store_true")
    ap.add_argument("--freeze", action="store_true")
    ap.add_argument("--pipelined-ping", action="store_true")
    ap.add_argument("--session-file")
    ap.add_argument("--probe", type=float, default=0)
    ap.add_argument("--limit-ms", type=int, default=1000)
    ap.add_argument("--post", action="store_true")
    ap.add_argument("--stay", action="store_true")
    ap.add_argument("--status-of")
    ap.add_argument("--post-of")
    ap.add_argument("--probe-socket")
    ap.add_argument("--probe-during", type=float, default=0)
    a = ap.parse_args()
    agent = Agent(a.socket)
    second = Agent(a.probe_socket) if a.probe_socket else None
    ok = True

    def during(t0):
        """The probe on the second connection while the request runs."""
        nonlocal ok
        if second and a.probe_during > 0:
            ok = probe(second, a.probe_during, a.limit_ms, "during", agent.sock) and ok
            print("during: ended %.0f ms after the request was sent" % (
                (time.monotonic() - t0) * 1000.0))
    try:
        agent.sync()
        if second:
            second.sync()
        session = None
        saved_state = False
        if a.prepare and a.pipelined_ping:
            # The ping goes in the same write, behind the prepare: its answer
            # time is how long a command waits for a prepare in progress.
            t0 = time.monotonic()
            agent.sock.sendall(b'{"execute":"guest-snapshot-prepare"}\n{"execute":"guest-ping"}\n')
            during(t0)
            reply = agent._read_value(t0 + 300)
            ms = (time.monotonic() - t0) * 1000.0
            ping = agent._read_value(t0 + 300)
            print("pipelined guest-ping answered %.0f ms after it was sent (%s)" % (
                (time.monotonic() - t0) * 1000.0, json.dumps(ping)))
        elif a.prepare:
            t0 = time.monotonic()
            agent.sock.sendall(b'{"execute":"guest-snapshot-prepare"}\n')
            during(t0)
            reply = agent._read_value(t0 + 300)
            ms = (time.monotonic() - t0) * 1000.0
        if a.prepare:
            ret = reply.get("return", {})
            session = ret.get("session")
            print("prepare %.0f ms: method %s, session %s, frozen %s%s" % (
                ms, ret.get("method"), session, ret.get("frozen"),
                "" if "return" in reply else " " + json.dumps(reply)))
            if not session:
                print("prepare answer: %s" % json.dumps(reply))
                saved_state = True
            if session and a.session_file:
                with open(a.session_file + ".tmp", "w") as f:
                    f.write(session + "\n")
                os.rename(a.session_file + ".tmp", a.session_file)
        if a.freeze:
            reply, ms = agent.call("guest-fsfreeze-freeze", timeout=300)
            print("freeze %.0f ms: %s" % (ms, json.dumps(reply)))
            if "return" not in reply:
                sys.exit(2)
            status, _ = agent.call("guest-snapshot-status")
            session = status.get("return", {}).get("session")
            if session and a.session_file:
                with open(a.session_file + ".tmp", "w") as f:
                    f.write(session + "\n")
                os.rename(a.session_file + ".tmp", a.session_file)
        sys.stdout.flush()
        if a.probe > 0:
            ok = probe(agent, a.probe, a.limit_ms)
        if a.post and not saved_state:
            if session and a.prepare:
                reply, ms = agent.call("guest-snapshot-post", {"session": session})
            else:
                reply, ms = agent.call("guest-fsfreeze-thaw")
            print("post %.0f ms: %s" % (ms, json.dumps(reply)))
        for label, name, ident in (("status-of", "guest-snapshot-status", a.status_of),
                                   ("post-of", "guest-snapshot-post", a.post_of)):
            if ident == "self":
                ident = session
            if ident:
                reply, _ = agent.call(name, {"session": ident} if name.endswith("post") else None)  # status takes no argument
                print("%s %s" % (label, json.dumps(reply, sort_keys=True)))
        sys.stdout.flush()
        if a.stay:
            # Hold the connection (the session's host) until killed or the
            # guest goes away.
            agent.sock.settimeout(None)
            while agent.sock.recv(65536):
                pass
    except (TimeoutError, ConnectionError, OSError, ValueError) as e:
        if a.stay and isinstance(e, (ConnectionError, OSError)):
            print("stay: %s" % e)
            sys.exit(0)
        print("qga-latency: %s" % e, file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if not ok else 3 if saved_state else 0)


if __name__ == "__main__":
    main()
