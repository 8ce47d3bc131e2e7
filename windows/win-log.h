/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * win-log.h — the service's log: the Windows event log (source "quiesced"),
 * and stderr when running in a console (--foreground). Only main, the agent
 * loop and the engine's owner log (docs/style.md §3); helpers report.
 *
 * Unlike Linux, nothing here is held while frozen: the event log service
 * writes through its own handles, and VSS's hold is at most 10 s
 * (docs/hyperv-reference.md §7), so a blocked write ends with the hold.
 */
#ifndef QUIESCE_WIN_LOG_H
#define QUIESCE_WIN_LOG_H

#include <stdbool.h>

#include "protocol/proto-compiler.h"

typedef enum {
    WIN_LOG_ERROR,
    WIN_LOG_WARNING,
    WIN_LOG_INFO,
    WIN_LOG_DEBUG,
} WinLogLevel;

typedef struct WinLog WinLog;

/* event_log: report to the event log; to_stderr: also print there. */
WinLog *win_log_new(bool event_log, bool to_stderr, bool debug);
void win_log_free(WinLog *log);
void win_log(WinLog *log, WinLogLevel level, const char *fmt, ...) PROTO_FORMAT_PRINTF(3, 4);

#endif
