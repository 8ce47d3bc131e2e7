/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h — where the daemon's log lines go. When standard error is the
 * journal's stream (g_log_writer_is_journald()), lines go to the journal
 * natively, as structured entries (agent_log_fields_build() says which
 * fields); if that send fails, to stderr with a "<N>" level prefix, which
 * journald reads. Otherwise to stderr as "quiesced: LEVEL: text". Debug
 * lines only with --verbose.
 *
 * While filesystems are frozen, lines are held in memory (common/memlog.h)
 * and written after the last thaw: journald writing to a frozen /var/log
 * would stop reading our stderr and its socket, and a blocked write would
 * stop the agent that must thaw (docs/design.md §7). The journal stamps an
 * entry with the time it receives it, which a client cannot set, so a held
 * line carries the time it was logged in QUIESCE_TIME= and in its text.
 */
#ifndef QUIESCE_AGENT_LOG_H
#define QUIESCE_AGENT_LOG_H

#include <glib.h>

#include "common/memlog.h"

#define AGENT_LOG_HOLD_BYTES (256u * 1024)
#define AGENT_LOG_IDENTIFIER "quiesced"

typedef struct {
    gboolean verbose;
    gboolean journal; /* stderr is the journal's stream: log natively */
    /* How a journal entry is sent: NULL for g_log_writer_journald(); tests
     * put a function here that keeps the fields (its user_data: the next). */
    GLogWriterFunc journal_writer;
    gpointer journal_writer_data;
    MemLog *held;     /* non-NULL while holding lines */
    gint64 thawed_us; /* real time of the thaw while the held lines wait for
                       * agent_log_hold(FALSE); 0 while frozen */
    char session[MEMLOG_TAG_MAX + 1]; /* the active session's id, or "" */
} AgentLog;

/* Installs the GLib log writer and decides whether stderr is the journal;
 * log must outlive the program's logging. Main thread only, as every
 * function here. */
void agent_log_install(AgentLog *log);
/* The GLogWriterFunc agent_log_install() installs (user_data: the AgentLog);
 * public for tests, which cannot install a writer twice in one process. */
GLogWriterOutput agent_log_write(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                                 gpointer user_data);
/* Starts holding lines in memory, or stops and writes what was held. */
void agent_log_hold(AgentLog *log, gboolean hold);
/* The filesystems are thawed, but the held lines are written later (the
 * caller's agent_log_hold(FALSE)), so the thaw's reply does not wait for a
 * slow console. Lines logged until then queue behind the held ones and are
 * written as ordinary lines. Holding again first writes them. */
void agent_log_thawed(AgentLog *log);
/* Lines are held because filesystems are frozen (not only queued after a
 * thaw). */
static inline gboolean agent_log_holding_frozen(const AgentLog *log)
{
    return log->held && !log->thawed_us;
}
/* Lines logged from now on belong to this snapshot session (NULL: none);
 * copied. A held line keeps the session it was logged in. */
void agent_log_set_session(AgentLog *log, const char *session_id);

/*
 * The fields of one journal entry, in this order:
 *   MESSAGE=            the text; a held line's starts with
 *                       "[logged while frozen at HH:MM:SS.µµµµµµ] " (local time)
 *   PRIORITY=           syslog level 3 (critical/error) to 7 (debug)
 *   SYSLOG_IDENTIFIER=  quiesced
 *   QUIESCE_SESSION=    the snapshot session's id, when the line was logged
 *                       while one was active
 *   QUIESCE_HELD=1      held while frozen and written after the thaw
 *   QUIESCE_TIME=       a held line's time, RFC 3339 in UTC with µs
 *                       (2024-05-02T10:11:12.345678Z)
 * then GLib's own (CODE_FILE, CODE_LINE, CODE_FUNC, GLIB_DOMAIN, ...), up to
 * AGENT_LOG_GIVEN_MAX of them, except MESSAGE, PRIORITY, GLIB_OLD_LOG_API
 * and the keys above. The values point into @out and into @given.
 */
#define AGENT_LOG_GIVEN_MAX 8
#define AGENT_LOG_FIELDS_MAX (6 + AGENT_LOG_GIVEN_MAX)
typedef struct {
    GLogField fields[AGENT_LOG_FIELDS_MAX];
    gsize n_fields;
    char priority[2];
    char *message; /* owned */
    char *time;    /* owned, NULL unless held */
} AgentLogFields;

/* @session_id: NULL or "" for none; @held_time_us: when a held line was
 * logged (g_get_real_time()), 0 for a line written as it happens; @given:
 * the fields GLib passed (may be NULL with @n_given 0). Clear @out with
 * agent_log_fields_clear(). */
void agent_log_fields_build(AgentLogFields *out, GLogLevelFlags level, const char *message,
                            const char *session_id, gint64 held_time_us, const GLogField *given,
                            gsize n_given);
void agent_log_fields_clear(AgentLogFields *out);

/*
 * For an agent stopping with filesystems still frozen (a thaw failed):
 * stderr may lead to the frozen disk (journald writing /var/log), so the
 * held lines are appended to path instead, oldest first, each with the time
 * it was logged, under a header line. The log keeps holding: later lines
 * wait for another save or agent_log_release(). FALSE when path cannot be
 * opened; the lines stay held then.
 */
gboolean agent_log_save_held(AgentLog *log, const char *path, GError **error);
/* Stops holding for good at exit: what is still held is appended to path
 * (may be NULL) or, failing that, written to stderr. */
void agent_log_release(AgentLog *log, const char *path);

#endif
