/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-conn.h — one socket writer's connection: line framing with the
 * limits of the wire protocol (client/quiesce-writer.h), the synchronous
 * event/answer exchange the engine's phases need, and liveness checks.
 *
 * Phases run inside a command handler, so an exchange waits with poll()
 * against a deadline and never returns to the main loop. Between phases
 * the server (writer-server.c) watches the fd on the main loop.
 *
 * A connection that times out, hangs up or breaks the protocol is closed
 * at once: for the writer, a hang-up while frozen means "release now"
 * (freeze-fail), so nothing is left holding a lock for an agent that has
 * given up on it. A connection that closes while "in session" (frozen by
 * the current session) is marked lost: the snapshot window is broken.
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITER_CONN_H
#define QUIESCE_AGENT_WRITERS_WRITER_CONN_H

#include <glib.h>
#include <sys/types.h>

#include "agent/writers/writer-result.h"

typedef struct WriterConn WriterConn;

/* Called once when the connection closes, with why ("hung up", ...). */
typedef void (*WriterConnClosedFunc)(WriterConn *conn, const char *reason,
                                     gpointer user_data);

/* (transfer full) Takes @fd (connected, non-blocking, O_CLOEXEC). */
WriterConn *writer_conn_new(int fd, pid_t pid, uid_t uid);
WriterConn *writer_conn_ref(WriterConn *conn);
void writer_conn_unref(WriterConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterConn, writer_conn_unref)

/* @func is called from writer_conn_close(); @user_data is borrowed. */
void writer_conn_set_closed_func(WriterConn *conn, WriterConnClosedFunc func,
                                 gpointer user_data);

int writer_conn_get_fd(const WriterConn *conn); /* -1 once closed */
gboolean writer_conn_is_open(const WriterConn *conn);
pid_t writer_conn_get_pid(const WriterConn *conn);
uid_t writer_conn_get_uid(const WriterConn *conn);
/* g_get_monotonic_time() when the connection was accepted. */
gint64 writer_conn_get_created(const WriterConn *conn);
/* NULL until registered. (transfer none) */
const char *writer_conn_get_name(const WriterConn *conn);
void writer_conn_set_name(WriterConn *conn, const char *name);

/* The watch source the server attached (owned by the connection from now
 * on; destroyed when it closes). */
void writer_conn_set_source(WriterConn *conn, GSource *source);

/* In-session flag: frozen by the current session. Closing while set marks
 * the connection lost. */
void writer_conn_set_in_session(WriterConn *conn, gboolean in_session);
gboolean writer_conn_get_in_session(const WriterConn *conn);
/* (transfer none) Why it closed while in session, or NULL. */
const char *writer_conn_get_lost_reason(const WriterConn *conn);

/* Closes the fd and the watch, then calls the closed func. Idempotent. */
void writer_conn_close(WriterConn *conn, const char *reason);

/*
 * Reads what is available (non-blocking) and returns the next complete line
 * (without "\n") in *out_line, or NULL when none is complete yet. Returns
 * FALSE after closing the connection on end of file, an I/O error, or a
 * line that breaks the framing rules (too long, not printable ASCII).
 */
gboolean writer_conn_poll_line(WriterConn *conn, char **out_line);

/* Sends @line (must end in "\n") without blocking; FALSE after closing
 * the connection when it cannot be sent whole at once. */
gboolean writer_conn_send_now(WriterConn *conn, const char *line);

/*
 * Between events nothing may arrive: returns TRUE when the writer is still
 * connected and silent, FALSE after closing the connection when it hung
 * up or sent something unasked. Does not block.
 */
gboolean writer_conn_check_alive(WriterConn *conn);

/*
 * Sends "event PHASE SESSION" (session "-" when NULL) and waits until
 * @deadline (monotonic us) for the answer. Returns: (transfer full) a run
 * with WRITER_OUTCOME_OK, ANSWERED_FAIL (detail: the writer's reason),
 * TIMED_OUT or DISCONNECTED (the connection is then closed).
 */
WriterRun *writer_conn_exchange(WriterConn *conn, WriterPhase phase,
                                const char *session_id, gint64 deadline);

#endif
