/*
 * log.c — the GLib structured-log writer; see the header.
 */
#include "agent/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "common/quiesce-error.h"

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

static void log_save_line(GLogLevelFlags level, const char *message, gint64 real_time_us,
                          gpointer user_data)
{
    g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(real_time_us / G_USEC_PER_SEC);
    g_autofree char *when = g_date_time_format(time, "%Y-%m-%dT%H:%M:%S");

    fprintf(user_data, "%s.%06dZ %s: %s\n", when, (int)(real_time_us % G_USEC_PER_SEC),
            log_level_name(log_syslog_priority(level)), message);
}

gboolean agent_log_save_held(AgentLog *log, const char *path, GError **error)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *when = g_date_time_format_iso8601(now);
    int fd;
    FILE *file;

    if (!log->held) {
        return TRUE;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    file = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!file) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
        }
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot open %s: %s", path,
                    g_strerror(err));
        return FALSE;
    }
    fprintf(file, "--- quiesced[%d] stopping with filesystems frozen, %s; held lines:\n",
            (int)getpid(), when);
    memlog_flush(log->held, log_save_line, file);
    if (fclose(file) != 0) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, "cannot write %s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

void agent_log_release(AgentLog *log, const char *path)
{
    if (log->held && path && agent_log_save_held(log, path, NULL)) {
        g_clear_pointer(&log->held, memlog_free);
    }
    agent_log_hold(log, FALSE);
}
