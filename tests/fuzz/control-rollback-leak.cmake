# SPDX-License-Identifier: GPL-2.0-or-later
# The negative control of the whole-path fuzzer's balance check
# (tests/fuzz/CMakeLists.txt): writes OUT, a copy of IN (fsfreeze/freezer.c)
# with one injected bug. When a freeze fails part-way, its rollback forgets
# the first filesystem it froze (drops it from the set, closing its fd)
# instead of thawing it, and reports the rollback as clean: the engine then
# believes nothing is frozen. Only the fuzz-qga-session-control-rollback-leak
# target is built from OUT; nothing else links it.
file(READ "${IN}" text)
set(find "    thaw_entries(set, TRUE, &thawed, notes, failures);\n    if (failures->len > 0 && error && *error) {")
string(FIND "${text}" "${find}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${IN}: rollback() no longer reads as this control expects; "
                      "update tests/fuzz/control-rollback-leak.cmake")
endif()
string(REPLACE "${find}"
  "    if (set->entries->len > 0) { /* INJECTED BUG (fuzz negative control) */\n        g_ptr_array_remove_index(set->entries, 0);\n    }\n${find}"
  text "${text}")
file(WRITE "${OUT}" "${text}")
