# SPDX-License-Identifier: GPL-2.0-or-later
# The negative control of fuzz-qga-session's reply check
# (tests/fuzz/CMakeLists.txt): writes OUT, a copy of IN
# (protocol/proto-session.c) with one injected bug. Every 64th reply of the
# process loses its second-to-last byte (a closing brace), so it no longer
# parses. Most replies repeat byte for byte, and the target skips parsing a
# reply whose exact bytes passed before: this shows a corrupted copy of a
# reply that passed is still parsed and caught. Only the
# fuzz-qga-session-control-bad-reply target is built from OUT.
file(READ "${IN}" text)
set(find "    memcpy(framed + off, text, len);\n")
string(FIND "${text}" "${find}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${IN}: session_emit() no longer reads as this control expects; "
                      "update tests/fuzz/control-bad-reply.cmake")
endif()
string(REPLACE "${find}"
  "    static unsigned injected; /* INJECTED BUG (fuzz negative control) */\n    if (++injected % 64 == 0 && len > 2) {\n        memmove(text + len - 2, text + len - 1, 1);\n        len--;\n    }\n${find}"
  text "${text}")
file(WRITE "${OUT}" "${text}")
