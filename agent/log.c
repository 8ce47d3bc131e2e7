/* SPDX-License-Identifier: GPL-2.0-or-later */
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

/* "[logged while frozen at 10:11:12.345678] ": local time, as journalctl
 * shows the entry's own (receive) time. */
static char *log_held_prefix(gint64 real_time_us)
{
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_local(real_time_us / G_USEC_PER_SEC);
    g_autofree char *stamp = when ? g_date_time_format(when, "%H:%M:%S") : NULL;

    return g_strdup_printf("[logged while frozen at %s.%06d] ", stamp ? stamp : "?",
                           (int)(real_time_us % G_USEC_PER_SEC));
}

/* RFC 3339, UTC, µs: 2024-05-02T10:11:12.345678Z. */
static char *log_rfc3339(gint64 real_time_us)
{
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc(real_time_us / G_USEC_PER_SEC);
    g_autofree char *stamp = when ? g_date_time_format(when, "%Y-%m-%dT%H:%M:%S") : NULL;

    return g_strdup_printf("%s.%06dZ", stamp ? stamp : "?", (int)(real_time_us % G_USEC_PER_SEC));
}

static const char *const log_own_keys[] = { "MESSAGE",         "PRIORITY",     "SYSLOG_IDENTIFIER",
                                            "QUIESCE_SESSION", "QUIESCE_HELD", "QUIESCE_TIME",
                                            "GLIB_OLD_LOG_API" };

static gboolean log_is_own_key(const char *key)
{
    for (gsize i = 0; i < G_N_ELEMENTS(log_own_keys); i++) {
        if (g_str_equal(key, log_own_keys[i])) {
            return TRUE;
        }
    }
    return FALSE;
}

static void log_fields_add(AgentLogFields *out, const char *key, gconstpointer value,
                           gssize length)
{
    g_assert(out->n_fields < AGENT_LOG_FIELDS_MAX);
    out->fields[out->n_fields++] = (GLogField){ .key = key, .value = value, .length = length };
}

void agent_log_fields_build(AgentLogFields *out, GLogLevelFlags level, const char *message,
                            const char *session_id, gint64 held_time_us, const GLogField *given,
                            gsize n_given)
{
    g_autofree char *prefix = held_time_us ? log_held_prefix(held_time_us) : NULL;
    gsize kept = 0;

    *out = (AgentLogFields){ 0 };
    out->priority[0] = (char)('0' + log_syslog_priority(level));
    out->message = g_strconcat(prefix ? prefix : "", message, NULL);
    log_fields_add(out, "MESSAGE", out->message, -1);
    log_fields_add(out, "PRIORITY", out->priority, -1);
    log_fields_add(out, "SYSLOG_IDENTIFIER", AGENT_LOG_IDENTIFIER, -1);
    if (session_id && session_id[0]) {
        log_fields_add(out, "QUIESCE_SESSION", session_id, -1);
    }
    if (held_time_us) {
        out->time = log_rfc3339(held_time_us);
        log_fields_add(out, "QUIESCE_HELD", "1", -1);
        log_fields_add(out, "QUIESCE_TIME", out->time, -1);
    }
    for (gsize i = 0; i < n_given && kept < AGENT_LOG_GIVEN_MAX; i++) {
        if (!log_is_own_key(given[i].key)) {
            log_fields_add(out, given[i].key, given[i].value, given[i].length);
            kept++;
        }
    }
}

void agent_log_fields_clear(AgentLogFields *out)
{
    g_clear_pointer(&out->message, g_free);
    g_clear_pointer(&out->time, g_free);
    out->n_fields = 0;
}

/* One line out, now. @held_time_us: see agent_log_fields_build(). */
static void log_emit(const AgentLog *log, GLogLevelFlags level, const char *message,
                     const char *session_id, gint64 held_time_us, const GLogField *given,
                     gsize n_given)
{
    int priority = log_syslog_priority(level);
    AgentLogFields out;
    GLogWriterFunc writer;

    if (!log->journal) {
        /* As before native logging: held lines carry no time here. */
        fprintf(stderr, "quiesced: %s: %s\n", log_level_name(priority), message);
        return;
    }
    agent_log_fields_build(&out, level, message, session_id, held_time_us, given, n_given);
    writer = log->journal_writer ? log->journal_writer : g_log_writer_journald;
    if (writer(level, out.fields, out.n_fields, log->journal_writer_data) !=
        G_LOG_WRITER_HANDLED) {
        /* No journal socket (a sandbox): the stream still reads levels. */
        fprintf(stderr, "<%d>%s\n", priority, out.message);
    }
    agent_log_fields_clear(&out);
}

GLogWriterOutput agent_log_write(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                                 gpointer user_data)
{
    AgentLog *log = user_data;
    const char *message = "";
    const char *session = log->session[0] ? log->session : NULL;

    if (log_syslog_priority(level) == 7 && !log->verbose) {
        return G_LOG_WRITER_HANDLED;
    }
    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE") && fields[i].length < 0) {
            message = fields[i].value;
        }
    }
    if (log->held) {
        memlog_append_tagged(log->held, level & G_LOG_LEVEL_MASK, session, "%s", message);
    } else {
        log_emit(log, level, message, session, 0, fields, n_fields);
    }
    return G_LOG_WRITER_HANDLED;
}

void agent_log_install(AgentLog *log)
{
    log->journal = g_log_writer_is_journald(fileno(stderr));
    g_log_set_writer_func(agent_log_write, log, NULL);
}

void agent_log_set_session(AgentLog *log, const char *session_id)
{
    g_strlcpy(log->session, session_id ? session_id : "", sizeof(log->session));
}

static void log_flush_line(GLogLevelFlags level, const char *message, const char *session_id,
                           gint64 real_time_us, gpointer user_data)
{
    const AgentLog *log = user_data;
    /* Logged after the thaw, only queued: not a held line (one logged in
     * the thaw's microsecond counts as held). */
    gboolean after_thaw = log->thawed_us && real_time_us > log->thawed_us;

    log_emit(log, level, message, session_id, after_thaw ? 0 : real_time_us, NULL, 0);
}

static void log_flush_held(AgentLog *log)
{
    MemLog *held = g_steal_pointer(&log->held);

    memlog_flush_tagged(held, log_flush_line, log);
    memlog_free(held);
    log->thawed_us = 0;
}

void agent_log_hold(AgentLog *log, gboolean hold)
{
    if (hold && log->held && log->thawed_us) {
        log_flush_held(log);
    }
    if (hold && !log->held) {
        log->held = memlog_new(AGENT_LOG_HOLD_BYTES);
    } else if (!hold && log->held) {
        log_flush_held(log);
    }
}

void agent_log_thawed(AgentLog *log)
{
    if (log->held && !log->thawed_us) {
        log->thawed_us = g_get_real_time();
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
    if (log->held && !log->thawed_us && path && agent_log_save_held(log, path, NULL)) {
        g_clear_pointer(&log->held, memlog_free);
    }
    agent_log_hold(log, FALSE);
}
