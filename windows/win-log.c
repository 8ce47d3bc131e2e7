/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * win-log.c — see the header. Nothing registers the source "quiesced"
 * under the EventLog key (we ship no message file): Windows still records
 * the lines, with a note that the source's descriptions are missing.
 */
#include "windows/win-log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

#include "protocol/proto-alloc.h"
#include "protocol/proto-buffer.h"
#include "windows/win-error.h"

struct WinLog {
    HANDLE source; /* NULL when not logging to the event log */
    bool to_stderr;
    bool debug;
};

WinLog *win_log_new(bool event_log, bool to_stderr, bool debug)
{
    WinLog *log = proto_xcalloc(1, sizeof(*log));

    log->to_stderr = to_stderr;
    log->debug = debug;
    if (event_log) {
        log->source = RegisterEventSourceW(NULL, L"quiesced");
    }
    return log;
}

void win_log_free(WinLog *log)
{
    if (!log) {
        return;
    }
    if (log->source) {
        DeregisterEventSource(log->source);
    }
    free(log);
}

static WORD event_type(WinLogLevel level)
{
    switch (level) {
    case WIN_LOG_ERROR:
        return EVENTLOG_ERROR_TYPE;
    case WIN_LOG_WARNING:
        return EVENTLOG_WARNING_TYPE;
    case WIN_LOG_INFO:
    case WIN_LOG_DEBUG:
        return EVENTLOG_INFORMATION_TYPE;
    }
    return EVENTLOG_INFORMATION_TYPE;
}

static const char *level_name(WinLogLevel level)
{
    switch (level) {
    case WIN_LOG_ERROR:
        return "error";
    case WIN_LOG_WARNING:
        return "warning";
    case WIN_LOG_INFO:
        return "info";
    case WIN_LOG_DEBUG:
        return "debug";
    }
    return "info";
}

void win_log(WinLog *log, WinLogLevel level, const char *fmt, ...)
{
    va_list ap;
    char *line;

    if (level == WIN_LOG_DEBUG && !log->debug) {
        return;
    }
    va_start(ap, fmt);
    line = proto_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (log->to_stderr) {
        fprintf(stderr, "quiesced: %s: %s\n", level_name(level), line);
        fflush(stderr);
    }
    if (log->source) {
        wchar_t *wide = win_wide_from_utf8(line);
        const wchar_t *strings[1] = { wide };
        ReportEventW(log->source, event_type(level), 0, 1, NULL, 1, 0, strings, NULL);
        free(wide);
    }
    free(line);
}
