/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pg-bounded.h — libpq with a deadline on everything: connecting, sending,
 * waiting for an answer. quiesced gives a writer a fixed time per phase
 * (client/quiesce-writer.h); libpq's blocking calls have no such limit
 * (connect_timeout is whole seconds and covers the connection only), so
 * every call here is libpq's non-blocking form driven by poll() against one
 * monotonic deadline. At the deadline the caller closes the connection;
 * ending the statement is left to the server (statement_timeout and
 * client_connection_check_interval, which the caller sets).
 */
#ifndef QUIESCE_DB_WRITERS_PG_BOUNDED_H
#define QUIESCE_DB_WRITERS_PG_BOUNDED_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    PG_BOUNDED_OK,
    PG_BOUNDED_NOT_RUNNING, /* nothing answered at the address: no server */
    PG_BOUNDED_FAILED,      /* an error, with the server's or libpq's text */
    PG_BOUNDED_TIMED_OUT,   /* the deadline passed */
} PgBoundedStatus;

/* Monotonic milliseconds. */
int64_t pg_bounded_now_ms(void);

/*
 * Connects with @conninfo (a libpq connection string or URI) before
 * @deadline_ms. The application name defaults to @app_name. On
 * PG_BOUNDED_OK, *@conn is (transfer full) the connection; otherwise it is
 * NULL and @err holds why. @where gets "HOST:PORT" (the socket directory
 * for a unix socket) of the server tried, in every case. PG_BOUNDED_NOT_RUNNING is told apart from other
 * failures with PQping(): no answer at all, as opposed to a server that
 * answered (with an authentication error, or "starting up").
 */
PgBoundedStatus pg_bounded_connect(const char *conninfo, const char *app_name,
                                   int64_t deadline_ms, PGconn **conn, char *where,
                                   size_t where_size, char *err, size_t err_size);

/*
 * Runs @sql (one statement) on @conn before @deadline_ms. On failure @err
 * holds the server's own error ("ERROR: canceling statement due to
 * statement timeout (SQLSTATE 57014)") or libpq's. On PG_BOUNDED_TIMED_OUT
 * @conn must be closed (a statement may still be running on it). When @value is not NULL, the first column of the first row is
 * copied there ("" when none).
 */
PgBoundedStatus pg_bounded_exec(PGconn *conn, const char *sql, int64_t deadline_ms,
                                char *value, size_t value_size, char *err,
                                size_t err_size);

#endif
