/*
 * log.c — the GLib structured-log writer; see the header.
 */
#include "agent/log.h"

#include <stdio.h>

static int log_syslog_priority(GLogLevelFlags level)
{
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        return 3;
    }
    if (level & G_LOG_LEVEL_WARNING) {
        return 4;
    }
    if (level & G_LOG_LEVEL_MESSAGE) {
        return 5;
    }
    if (level & G_LOG_LEVEL_INFO) {
        return 6;
    }
    return 7;
}

static const char *log_level_name(int priority)
{
    static const char *const names[] = { "emerg", "alert", "crit", "error",
                                         "warning", "notice", "info", "debug" };
    return names[priority];
}

static void log_emit(const AgentLog *log, GLogLevelFlags level, const char *message)
{
    int priority = log_syslog_priority(level);

    if (log->journal) {
        fprintf(stderr, "<%d>%s\n", priority, message);
    } else {
        fprintf(stderr, "quiesced: %s: %s\n", log_level_name(priority), message);
    }
}

static GLogWriterOutput log_write(GLogLevelFlags level, const GLogField *fields,
                                  gsize n_fields, gpointer user_data)
{
    AgentLog *log = user_data;
    const char *message = "";

    if (log_syslog_priority(level) == 7 && !log->verbose) {
        return G_LOG_WRITER_HANDLED;
    }
    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE") && fields[i].length < 0) {
            message = fields[i].value;
        }
    }
    if (log->held) {
        memlog_append(log->held, level & G_LOG_LEVEL_MASK, "%s", message);
    } else {
        log_emit(log, level, message);
    }
    return G_LOG_WRITER_HANDLED;
}

void agent_log_install(AgentLog *log)
{
    log->journal = g_getenv("JOURNAL_STREAM") != NULL;
    g_log_set_writer_func(log_write, log, NULL);
}

static void log_flush_line(GLogLevelFlags level, const char *message, gint64 real_time_us,
                           gpointer user_data)
{
    log_emit(user_data, level, message);
}

void agent_log_hold(AgentLog *log, gboolean hold)
{
    if (hold && !log->held) {
        log->held = memlog_new(AGENT_LOG_HOLD_BYTES);
    } else if (!hold && log->held) {
        MemLog *held = g_steal_pointer(&log->held);
        memlog_flush(held, log_flush_line, log);
        memlog_free(held);
    }
}
