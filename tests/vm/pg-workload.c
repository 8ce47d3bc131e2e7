/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pg-workload.c — the PostgreSQL workload of vm/systemd-postgresql and
 * bench/db-writer-stall.sh: one INSERT per interval into table wl (made if
 * missing), each its own transaction (autocommit), and only once COMMIT
 * has returned, "committed NAME SEQ NS LAT_US" on stdout, the format of
 * vm-workload.c, so tests/vm/lib.sh reads both alike. Every SEQ printed
 * before the host sent prepare must be in a consistent snapshot; LAT_US is
 * what a client of the database waited for its commit.
 *
 * NS is CLOCK_REALTIME when the INSERT is sent, LAT_US the time until its
 * answer. SEQ goes on from max(seq) + 1 after a restart. A failed INSERT
 * (the server restarting) prints "error NAME SEQ MESSAGE" and is retried
 * with the same SEQ after a reconnect.
 *
 * usage: pg-workload CONNINFO NAME INTERVAL_MS
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static PGconn *connect_retrying(const char *conninfo)
{
    for (;;) {
        PGconn *conn = PQconnectdb(conninfo);
        if (PQstatus(conn) == CONNECTION_OK) {
            return conn;
        }
        fprintf(stderr, "pg-workload: %s", PQerrorMessage(conn));
        PQfinish(conn);
        sleep(1);
    }
}

/* Runs @sql; returns the first value (malloc'd, "" when none) or NULL. */
static char *run(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType rs = PQresultStatus(res);
    char *value = NULL;
    if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK) {
        value = strdup(rs == PGRES_TUPLES_OK && PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    }
    PQclear(res);
    return value;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: pg-workload CONNINFO NAME INTERVAL_MS\n");
        return 2;
    }
    const char *name = argv[2];
    long interval_ms = atol(argv[3]);
    PGconn *conn = connect_retrying(argv[1]);
    free(run(conn, "CREATE TABLE IF NOT EXISTS wl (seq bigint PRIMARY KEY, "
                   "at timestamptz NOT NULL, pad text NOT NULL)"));
    char *max = run(conn, "SELECT coalesce(max(seq), 0) FROM wl");
    long long seq = max ? atoll(max) + 1 : 1;
    free(max);
    for (;;) {
        char sql[256];
        snprintf(sql, sizeof sql, "INSERT INTO wl VALUES (%lld, now(), repeat('w', 200))", seq);
        long long start = now_ns(CLOCK_REALTIME);
        long long t0 = now_ns(CLOCK_MONOTONIC);
        char *ok = run(conn, sql);
        long long lat_us = (now_ns(CLOCK_MONOTONIC) - t0) / 1000;
        if (ok) {
            printf("committed %s %lld %lld %lld\n", name, seq, start, lat_us);
            seq++;
        } else {
            char message[200];
            snprintf(message, sizeof message, "%s", PQerrorMessage(conn));
            message[strcspn(message, "\n")] = '\0';
            printf("error %s %lld %s\n", name, seq, message);
            if (PQstatus(conn) != CONNECTION_OK) {
                PQfinish(conn);
                conn = connect_retrying(argv[1]);
            }
        }
        fflush(stdout);
        free(ok);
        usleep((useconds_t)interval_ms * 1000);
    }
}
