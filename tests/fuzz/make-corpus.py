#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the fuzzers' seed corpora under tests/fuzz/corpus/<target>/.

Sources: the requests of tests/protocol/qga-compat.cases, snapshot-session
and freeze sequences, hv_vss messages as the kernel sends them, writer
lines from client/quiesce-writer.h, and systemd/quiesced.conf with
variations. Run from anywhere; it replaces the seed files it owns.
"""
import ast
import os
import struct

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CORPUS = os.path.join(TOP, "tests", "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def unescape(text):
    # C escapes as the cases file writes them (\n, \\, \377, \xNN ...).
    return ast.literal_eval('b"' + text.replace('"', '\\"') + '"')


def qga_cases():
    cases, name, sent = [], None, b""
    with open(os.path.join(TOP, "tests", "protocol", "qga-compat.cases"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("== "):
                if name:
                    cases.append((name, sent))
                name, sent = line[3:].split()[0], b""
            elif line.startswith("> "):
                sent += unescape(line[2:])
    if name:
        cases.append((name, sent))
    return cases


def req(execute, args=None, rid=None):
    out = '{"execute":"%s"' % execute
    if args is not None:
        out += ',"arguments":' + args
    if rid is not None:
        out += ',"id":%s' % rid
    return (out + "}\n").encode()


SESSIONS = {
    # Frozen until the agent stops (engine_shutdown() thaws).
    "freeze": req("guest-fsfreeze-freeze"),
    "snapshot-cycle": req("guest-snapshot-check") + req("guest-snapshot-prepare")
    + req("guest-snapshot-status") + req("guest-fsfreeze-status")
    + req("guest-snapshot-post", '{"session":"x"}')
    + req("guest-snapshot-abort") + req("guest-snapshot-status"),
    "snapshot-abort": req("guest-snapshot-prepare")
    + req("guest-snapshot-abort", '{"session":"nope"}') + req("guest-snapshot-abort"),
    "freeze-thaw": req("guest-fsfreeze-freeze") + req("guest-fsfreeze-status")
    + req("guest-fsfreeze-thaw") + req("guest-fsfreeze-thaw"),
    "freeze-list": req("guest-fsfreeze-freeze-list", '{"mountpoints":["/","/tmp"]}')
    + req("guest-fsfreeze-freeze-list", '{"mountpoints":[]}') + req("guest-fsfreeze-freeze-list"),
    "prepare-twice": req("guest-snapshot-prepare", rid=1) + req("guest-snapshot-prepare", rid=2)
    + req("guest-fsfreeze-freeze", rid=3) + req("guest-snapshot-check", rid=4),
    "info-fsinfo": req("guest-info") + req("guest-get-fsinfo"),
    "sync-delimited": b"\xff" + req("guest-sync-delimited", '{"id":7}') + b"\xff\xff"
    + req("guest-sync", '{"id":8}'),
}

# hv_vss: struct hv_vss_msg, operation in byte 0 (linux/hyperv.h).
HOT_BACKUP, FREEZE, THAW, CREATE, GET_DM_INFO = 2, 5, 6, 0, 3


def vss(op, control=0, flags=0):
    return bytes([control]) + bytes([op]) + b"\0" * 7 + struct.pack("<I", flags)


HV = {
    "backup": vss(HOT_BACKUP) + vss(FREEZE) + vss(THAW),
    "backup-no-auto-recovery": vss(HOT_BACKUP, flags=1) + vss(FREEZE) + vss(THAW),
    "thaw-alone": vss(THAW),
    "freeze-twice": vss(FREEZE) + vss(FREEZE) + vss(THAW) + vss(THAW),
    "freeze-device-lost": vss(FREEZE) + vss(THAW, control=1),
    "freeze-reply-refused": vss(FREEZE, control=2) + vss(THAW),
    "thaw-reply-refused": vss(FREEZE) + vss(THAW, control=2) + vss(THAW),
    "unknown-ops": vss(CREATE) + vss(GET_DM_INFO) + vss(129) + vss(255),
}

WRITER = {
    "ok": (1, b"hello 1 db\n", b"ok freeze\n"),
    "fail": (0, b"hello 1 app.x-1\n", b"fail prepare disk full\n"),
    "fail-bare": (3, b"hello 1 w\n", b"fail thaw\n"),
    "wrong-phase": (2, b"hello 1 w\n", b"ok thaw\n"),
    "bad-version": (0, b"hello 2 w\n", b""),
    "bad-name": (0, b"hello 1 a/b\n", b""),
    "no-hello": (0, b"ok prepare\n", b""),
    "extra-after-hello": (1, b"hello 1 w\nok freeze\n", b"ok freeze\n"),
    "answer-two-lines": (4, b"hello 1 w\n", b"ok post-snapshot\nok post-snapshot\n"),
    "answer-no-newline": (1, b"hello 1 w\n", b"ok freeze"),
    "answer-binary": (1, b"hello 1 w\n", b"ok fr\x01eeze\n"),
    "long-line": (1, b"hello 1 w\n", b"fail freeze " + b"x" * 520 + b"\n"),
}


def main():
    for i, (name, sent) in enumerate(qga_cases()):
        # Option byte (fuzz-qga-session.c): 7 = 680-byte reads, 0 = one byte at a time.
        write("fuzz-qga-session", "case-" + name, bytes([7 if i % 2 == 0 else 0]) + sent)
        write("fuzz-json-stream", "case-" + name, b"\0" + sent)
    for name, sent in SESSIONS.items():
        write("fuzz-qga-session", "session-" + name, b"\x07" + sent)
        write("fuzz-qga-session", "session-" + name + "-bytewise-window", bytes([0x30]) + sent)
    # Option bits 6 and 7: the loops machine, a FIFREEZE that fails (rollback).
    for name in ("snapshot-cycle", "freeze-thaw", "prepare-twice", "info-fsinfo"):
        write("fuzz-qga-session", "session-" + name + "-loops", bytes([0x47]) + SESSIONS[name])
    for name in ("snapshot-cycle", "freeze-thaw"):
        write("fuzz-qga-session", "session-" + name + "-freeze-fails", bytes([0x87])
              + SESSIONS[name])
        write("fuzz-qga-session", "session-" + name + "-loops-freeze-fails", bytes([0xc7])
              + SESSIONS[name])
    # Found by the campaign of 2026-12-06 (the harness's own mistake, not
    # the agent's): an "id" with an inf inside an array and an object,
    # echoed as qemu-ga does, with the non-JSON "inf" (fuzz-nonfinite.h).
    write("fuzz-qga-session", "found-nested-inf-id", b"\x07" +
          b'{"execute":"guest-ping","id":[null,false,null,{"b":1e400,"a":"x"}]}'
          b'{"e0xec(uxecute":"gping","id":[null,{"b":-1e400}]}')
    for name, data in HV.items():
        write("fuzz-hv-vss", name, data)
    # The first record's control bits 2 and 3 (fuzz-hv-vss.c).
    write("fuzz-hv-vss", "backup-loops", bytes([4]) + HV["backup"][1:])
    write("fuzz-hv-vss", "backup-freeze-fails", bytes([8]) + HV["backup"][1:])
    for name, (phase, hello, answer) in WRITER.items():
        write("fuzz-writer-conn", name, bytes([phase]) + hello + b"\0" + answer)
    sample = open(os.path.join(TOP, "systemd", "quiesced.conf"), "rb").read()
    write("fuzz-config", "sample", sample)
    write("fuzz-config", "uncommented", b"\n".join(
        l[1:] if l.startswith(b"#") and b"=" in l else l for l in sample.split(b"\n")))
    write("fuzz-config", "settings", b"[agent]\nchannels=unix-listen:/a;vsock-listen:9\n"
          b"block-rpcs=guest-ping\nmax-depth=16\nmax-request-bytes=4096\n[freeze]\nwindow=5\n"
          b"host-lost-grace=0\nstate-dir=/run/q\nconfine=/srv\nexclude=/srv/efi;/srv/scratch\n"
          b"running-state-command=\n[eligibility]\nstrict=true\nallow-dynamic=true\n"
          b"[writers]\ndirectories=/etc/w\ncompat-directories=\nsocket=/run/q/w.sock\n"
          b"socket-group=\ntimeout=5\ntotal-timeout=3600\n")
    write("fuzz-config", "bad-values", b"[freeze]\nwindow=0\n[eligibility]\nstrict=maybe\n")
    write("fuzz-config", "unknown", b"[agent]\nchanels=x\n[nope]\n")


if __name__ == "__main__":
    main()
