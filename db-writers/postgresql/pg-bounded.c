/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pg-bounded.c — libpq calls bounded by a deadline (pg-bounded.h). Only the
 * non-blocking API is used (PQconnectStartParams/PQconnectPoll,
 * PQsendQuery/PQconsumeInput), as libpq's documentation describes it
 * ("Connection Control Functions", "Asynchronous Command Processing"), with
 * poll() on PQsocket() in between. Host names are resolved by
 * PQconnectStartParams() itself, which may block: a unix socket directory
 * or an IP address (hostaddr) avoids that. See docs/postgresql.md.
 */
#include "db-writers/postgresql/pg-bounded.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t pg_bounded_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's messages span lines ("...failed: No such file or directory\n\tIs
 * the server running..."): one line for a writer's reason. */
static void pg_bounded_one_line(char *out, size_t size, const char *prefix, const char *text)
{
    snprintf(out, size, "%s%s", prefix, text ? text : "");
    char *w = out;
    int space = 0;
    for (const char *r = out; *r; r++) {
        int blank = (*r == '\n' || *r == '\t' || *r == '\r' || *r == ' ');
        if (blank) {
            space = 1;
            continue;
        }
        if (space && w != out) {
            *w++ = ' ';
        }
        space = 0;
        *w++ = *r;
    }
    *w = '\0';
}

/* Waits for @events on @conn's socket until @deadline_ms: 1 ready, 0
 * timed out, -1 error. */
static int pg_bounded_wait(PGconn *conn, short events, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - pg_bounded_now_ms();
        if (left <= 0) {
            return 0;
        }
        struct pollfd pfd = { .fd = PQsocket(conn), .events = events };
        int rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0) {
            return 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}

static int pg_bounded_no_answer(const char *conninfo, const char *app_name)
{
    /* Only reached after a connection attempt failed before the deadline,
     * which for a missing server is at once (ECONNREFUSED, ENOENT); 2 s is
     * libpq's smallest connect_timeout. */
    const char *keys[] = { "dbname", "fallback_application_name", "connect_timeout", NULL };
    const char *values[] = { conninfo, app_name, "2", NULL };
    return PQpingParams(keys, values, 1) == PQPING_NO_RESPONSE;
}

PgBoundedStatus pg_bounded_connect(const char *conninfo, const char *app_name,
                                   int64_t deadline_ms, PGconn **conn, char *where,
                                   size_t where_size, char *err, size_t err_size)
{
    /* dbname first and expanded: the connection string's own keys win,
     * except application_name which only defaults to ours. */
    const char *keys[] = { "dbname", "fallback_application_name", NULL };
    const char *values[] = { conninfo, app_name, NULL };
    *conn = NULL;
    PGconn *c = PQconnectStartParams(keys, values, 1);
    if (!c) {
        snprintf(where, where_size, "?");
        snprintf(err, err_size, "out of memory");
        return PG_BOUNDED_FAILED;
    }
    snprintf(where, where_size, "%s:%s", PQhost(c) ? PQhost(c) : "?",
             PQport(c) ? PQport(c) : "?");
    PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
    while (PQstatus(c) != CONNECTION_BAD && poll_status != PGRES_POLLING_OK &&
           poll_status != PGRES_POLLING_FAILED) {
        int ready = pg_bounded_wait(c, poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                                    deadline_ms);
        if (ready == 0) {
            snprintf(err, err_size, "no answer while connecting (deadline passed)");
            PQfinish(c);
            return PG_BOUNDED_TIMED_OUT;
        }
        if (ready < 0) {
            snprintf(err, err_size, "poll: %s", strerror(errno));
            PQfinish(c);
            return PG_BOUNDED_FAILED;
        }
        poll_status = PQconnectPoll(c);
    }
    if (PQstatus(c) != CONNECTION_OK) {
        pg_bounded_one_line(err, err_size, "", PQerrorMessage(c));
        PQfinish(c);
        return pg_bounded_no_answer(conninfo, app_name) ? PG_BOUNDED_NOT_RUNNING
                                                         : PG_BOUNDED_FAILED;
    }
    if (PQsetnonblocking(c, 1) != 0) {
        pg_bounded_one_line(err, err_size, "", PQerrorMessage(c));
        PQfinish(c);
        return PG_BOUNDED_FAILED;
    }
    *conn = c;
    return PG_BOUNDED_OK;
}

/* The server's error as "ERROR: message (SQLSTATE xxxxx)". */
static void pg_bounded_result_error(const PGresult *res, char *err, size_t err_size)
{
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (!primary) {
        pg_bounded_one_line(err, err_size, "", PQresultErrorMessage(res));
        return;
    }
    char text[1024];
    snprintf(text, sizeof text, "%s: %s (SQLSTATE %s)", severity ? severity : "ERROR", primary,
             sqlstate ? sqlstate : "?");
    pg_bounded_one_line(err, err_size, "", text);
}

/* The deadline passed with the statement still running. No PQcancel():
 * in libpq 15 it waits, without a limit, for the postmaster to close the
 * cancel connection, and a postmaster that does not answer is why we are
 * here. Closing the connection is enough: the caller set the session's
 * statement_timeout under the deadline and client_connection_check_interval,
 * so the server ends the statement on its own (docs/postgresql.md). */
static PgBoundedStatus pg_bounded_timed_out(const char *sql, char *err, size_t err_size)
{
    snprintf(err, err_size, "%s: no answer from the server before the deadline", sql);
    return PG_BOUNDED_TIMED_OUT;
}

PgBoundedStatus pg_bounded_exec(PGconn *conn, const char *sql, int64_t deadline_ms,
                                char *value, size_t value_size, char *err,
                                size_t err_size)
{
    if (value) {
        value[0] = '\0';
    }
    if (!PQsendQuery(conn, sql)) {
        pg_bounded_one_line(err, err_size, "", PQerrorMessage(conn));
        return PG_BOUNDED_FAILED;
    }
    int flushed;
    while ((flushed = PQflush(conn)) == 1) {
        if (pg_bounded_wait(conn, POLLOUT | POLLIN, deadline_ms) <= 0) {
            return pg_bounded_timed_out(sql, err, err_size);
        }
        if (!PQconsumeInput(conn)) {
            break;
        }
    }
    PgBoundedStatus status = PG_BOUNDED_OK;
    for (;;) {
        while (PQisBusy(conn)) {
            int ready = pg_bounded_wait(conn, POLLIN, deadline_ms);
            if (ready <= 0) {
                return pg_bounded_timed_out(sql, err, err_size);
            }
            if (!PQconsumeInput(conn)) {
                pg_bounded_one_line(err, err_size, "", PQerrorMessage(conn));
                return PG_BOUNDED_FAILED;
            }
        }
        PGresult *res = PQgetResult(conn);
        if (!res) {
            break;
        }
        ExecStatusType rs = PQresultStatus(res);
        if (status == PG_BOUNDED_OK && rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
            pg_bounded_result_error(res, err, err_size);
            status = PG_BOUNDED_FAILED;
        } else if (rs == PGRES_TUPLES_OK && value && !value[0] && PQntuples(res) > 0 &&
                   PQnfields(res) > 0) {
            snprintf(value, value_size, "%s", PQgetvalue(res, 0, 0));
        }
        PQclear(res);
    }
    if (status == PG_BOUNDED_OK && (flushed < 0 || PQstatus(conn) != CONNECTION_OK)) {
        pg_bounded_one_line(err, err_size, "", PQerrorMessage(conn));
        status = PG_BOUNDED_FAILED;
    }
    return status;
}
