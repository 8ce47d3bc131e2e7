/*
 * log.c — the GLib structured-log writer; see the header.
 */
#include "agent/log.h"

#include <stdio.h>

static int log_syslog_priority(GLogLevelFlags level)
{
    if (level & G_LOG_LEVEL_ERROR) {
        return 3;
    }
    if (level & G_LOG_LEVEL_CRITICAL) {
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

static GLogWriterOutput log_write(GLogLevelFlags level, const GLogField *fields,
                                  gsize n_fields, gpointer user_data)
{
    AgentLog *log = user_data;
    int priority = log_syslog_priority(level);
    const char *message = NULL;

    if (priority == 7 && !log->verbose) {
        return G_LOG_WRITER_HANDLED;
    }
    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE")) {
            message = fields[i].value;
        }
    }
    if (log->journal) {
        fprintf(stderr, "<%d>%s\n", priority, message ? message : "");
    } else {
        fprintf(stderr, "quiesced: %s: %s\n", log_level_name(priority), message ? message : "");
    }
    return G_LOG_WRITER_HANDLED;
}

void agent_log_install(AgentLog *log)
{
    log->journal = g_getenv("JOURNAL_STREAM") != NULL;
    g_log_set_writer_func(log_write, log, NULL);
}
