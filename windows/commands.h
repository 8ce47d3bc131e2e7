/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * commands.h — the Windows agent's QGA command rows: qemu-ga's names,
 * arguments and replies (docs/protocol.md), and the snapshot-session
 * extension with the same JSON as on Linux (agent/commands/snapshot.c).
 */
#ifndef QUIESCE_WIN_COMMANDS_H
#define QUIESCE_WIN_COMMANDS_H

#include <stddef.h>

#include "protocol/command-table.h"
#include "protocol/dispatcher.h"
#include "windows/engine.h"
#include "windows/win-log.h"

#define QUIESCE_WIN_VERSION "0.1.0"

/* All a handler sees of the agent. */
typedef struct {
    WinEngine *engine;
    Dispatcher *dispatcher;
    WinLog *log;
    int channel; /* the channel the current request came on */
} WinCommandContext;

extern const CommandSpec win_commands_basic[];
extern const size_t win_commands_basic_count;
extern const CommandSpec win_commands_snapshot[];
extern const size_t win_commands_snapshot_count;

/* The eligibility report as guest-snapshot-check answers it. (transfer full) */
JsonValue *win_report_eligibility(const WinEligibility *report, unsigned window_seconds);
JsonValue *win_report_reasons(const WinEligibility *report, const VssFailure *failure);
JsonValue *win_report_excluded(const WinEligibility *report);

#endif
