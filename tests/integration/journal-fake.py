#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""journal-fake.py QUIESCED DIR — the fake journal of test-journal-native.sh.

Binds /run/systemd/journal/socket (datagrams, the native protocol) and
/run/systemd/journal/stdout (the stream), runs quiesced with its stderr
connected to the stream, prepares a snapshot session of the loop image
mounted at DIR/mnt (confined to DIR), pings inside it (a debug line, held), posts, and checks
the entries: every line native (nothing on the stream), QUIESCE_SESSION= on
the session's lines, and the held ones sent after the thaw with
QUIESCE_HELD=1 and QUIESCE_TIME= the time they were logged.
"""
import datetime
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

quiesced, work = sys.argv[1], sys.argv[2]
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def parse_native(data):
    """One datagram: KEY=VALUE\\n, or KEY\\n + 64-bit LE length + value + \\n."""
    fields, i = {}, 0
    while i < len(data):
        end = data.index(b"\n", i)
        line = data[i:end]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = end + 1
        else:
            key = line
            (length,) = struct.unpack("<Q", data[end + 1:end + 9])
            value = data[end + 9:end + 9 + length]
            i = end + 9 + length + 1
        fields[key.decode()] = value.decode()
    return fields


dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
dgram.bind("/run/systemd/journal/socket")
stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
stream.bind("/run/systemd/journal/stdout")
stream.listen(1)
stderr_end = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
stderr_end.connect("/run/systemd/journal/stdout")
stream_peer, _ = stream.accept()

env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET")}
qga = os.path.join(work, "qga.sock")
agent = subprocess.Popen(
    [quiesced, "--config", os.path.join(work, "quiesced.conf"), "--channel", "unix-listen:" + qga,
     "--confine", work, "--state-dir", os.path.join(work, "state"), "-v"],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr_end.fileno(), env=env)
stderr_end.close()

entries = []  # (receive time in µs, fields)


def drain(seconds):
    deadline = time.time() + seconds
    while True:
        left = deadline - time.time()
        if left <= 0 or not select.select([dgram], [], [], left)[0]:
            return
        data = dgram.recv(1 << 20)
        entries.append((time.time_ns() // 1000, parse_native(data)))


def request(conn, reader, command, arguments=None):
    message = {"execute": command}
    if arguments:
        message["arguments"] = arguments
    conn.sendall(json.dumps(message).encode())
    return json.loads(reader.readline())


try:
    for _ in range(100):
        if os.path.exists(qga):
            break
        time.sleep(0.05)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(qga)
    reader = conn.makefile("r")
    drain(0.3)
    before_freeze = len(entries)
    before_prepare = time.time_ns() // 1000
    reply = request(conn, reader, "guest-snapshot-prepare")
    session = reply["return"].get("session")
    check(reply["return"]["method"] == "child-snapshot", "prepare froze the image: %s" % reply)
    request(conn, reader, "guest-ping")
    drain(0.5)
    sent_while_frozen = len(entries) - before_freeze
    time.sleep(0.2)
    before_post = time.time_ns() // 1000
    reply = request(conn, reader, "guest-snapshot-post", {"session": session})
    check("return" in reply, "post thawed: %s" % reply)
    drain(1.0)
finally:
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=30)
    drain(0.5)

stream_peer.setblocking(False)
try:
    on_stream = stream_peer.recv(65536)
except BlockingIOError:
    on_stream = b""

for received, fields in entries:
    print("  entry received %d: %s" % (received, json.dumps(fields, sort_keys=True)))


def find(prefix):
    for received, fields in entries:
        text = fields.get("MESSAGE", "")
        if text.startswith(prefix) or "] " + prefix in text:
            return received, fields
    return None, {}


check(on_stream == b"", "nothing on the journal's stream (stderr): %r" % on_stream[:200])
check(sent_while_frozen == 0, "nothing sent to the journal while frozen (%d)" % sent_while_frozen)
_, serving = find("serving")
check(serving.get("PRIORITY") == "6" and serving.get("SYSLOG_IDENTIFIER") == "quiesced",
      "a normal line: MESSAGE, PRIORITY=6, SYSLOG_IDENTIFIER=quiesced")
check("QUIESCE_SESSION" not in serving and "QUIESCE_HELD" not in serving,
      "a normal line has no QUIESCE_SESSION= or QUIESCE_HELD=")
for prefix, priority in (("prepare: session", "6"), ("guest-ping called", "7")):
    received, held = find(prefix)
    check(held.get("QUIESCE_SESSION") == session, "%r: QUIESCE_SESSION=%s" % (prefix, session))
    check(held.get("QUIESCE_HELD") == "1" and held.get("PRIORITY") == priority,
          "%r: QUIESCE_HELD=1, PRIORITY=%s" % (prefix, priority))
    check(held.get("MESSAGE", "").startswith("[logged while frozen at "),
          "%r: the time in the text" % prefix)
    stamp = held.get("QUIESCE_TIME", "")
    logged = None
    if stamp.endswith("Z") and len(stamp) == len("2024-05-02T10:11:12.345678Z"):
        when = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
        logged = int(when.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000000)
    check(logged is not None and before_prepare <= logged <= before_post,
          "%r: QUIESCE_TIME=%s is while frozen" % (prefix, stamp))
    check(received is not None and received >= before_post,
          "%r: sent after the thaw" % prefix)
_, post = find("post: session")
check(post.get("PRIORITY") == "6" and "QUIESCE_HELD" not in post,
      "the post line: after the thaw, not held")
sys.exit(1 if failures else 0)
