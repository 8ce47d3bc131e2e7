/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sqlite-workload.c — `quiesce-sqlite-workload`, a steady writer for an
 * SQLite database, to show what a snapshot captured.
 *
 *   quiesce-sqlite-workload --db PATH [--create] [--interval-ms N] [--count N]
 *
 * Inserts one row per transaction into table `rows` (id INTEGER PRIMARY KEY,
 * written_ns INTEGER, payload TEXT) and, after each COMMIT returns, prints
 *
 *   committed ID REALTIME_NS STALL_NS
 *
 * on stdout (flushed): the row is durable from that moment, so a consistent
 * snapshot taken later must contain every id printed before it. STALL_NS is
 * how long that one transaction took (a freeze window shows up as one long
 * stall: the writer waits in SQLite's busy handler, it does not fail).
 * busy_timeout is 10 minutes so a held lock is waited out. --create makes
 * the table and switches the database to WAL mode. Stops after --count rows
 * (0: never) or on SIGTERM/SIGINT between transactions.
 */
#include <getopt.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static long long clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int exec_or_report(sqlite3 *db, const char *sql)
{
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK) {
        fprintf(stderr, "quiesce-sqlite-workload: %s: %s\n", sql, message ? message : "?");
        sqlite3_free(message);
        return -1;
    }
    return 0;
}

/* Inserts one row in its own transaction; returns its id or -1. */
static long long insert_row(sqlite3 *db, sqlite3_stmt *insert)
{
    if (exec_or_report(db, "BEGIN IMMEDIATE") < 0) {
        return -1;
    }
    sqlite3_bind_int64(insert, 1, clock_ns(CLOCK_REALTIME));
    int rc = sqlite3_step(insert);
    sqlite3_reset(insert);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "quiesce-sqlite-workload: INSERT: %s\n", sqlite3_errmsg(db));
        exec_or_report(db, "ROLLBACK");
        return -1;
    }
    long long id = sqlite3_last_insert_rowid(db);
    return exec_or_report(db, "COMMIT") < 0 ? -1 : id;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "create", no_argument, NULL, 'c' },
        { "interval-ms", required_argument, NULL, 'i' },
        { "count", required_argument, NULL, 'n' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL;
    int create = 0;
    long interval_ms = 10;
    long long count = 0;
    int c;
    while ((c = getopt_long(argc, argv, "d:ci:n:", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': path = optarg; break;
        case 'c': create = 1; break;
        case 'i': interval_ms = atol(optarg); break;
        case 'n': count = atoll(optarg); break;
        default:
            fprintf(stderr, "Usage: quiesce-sqlite-workload --db PATH [--create] "
                            "[--interval-ms N] [--count N]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "quiesce-sqlite-workload: --db is required\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        fprintf(stderr, "quiesce-sqlite-workload: %s: %s\n", path, sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_busy_timeout(db, 10 * 60 * 1000);
    if (create && (exec_or_report(db, "PRAGMA journal_mode=WAL") < 0 ||
                   exec_or_report(db, "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY "
                                      "KEY, written_ns INTEGER, payload TEXT)") < 0)) {
        return 1;
    }
    sqlite3_stmt *insert = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO rows (written_ns, payload) VALUES (?, "
                               "hex(randomblob(64)))", -1, &insert, NULL) != SQLITE_OK) {
        fprintf(stderr, "quiesce-sqlite-workload: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    int status = 0;
    for (long long done = 0; !stop_requested && (count == 0 || done < count); done++) {
        long long start = clock_ns(CLOCK_MONOTONIC);
        long long id = insert_row(db, insert);
        if (id < 0) {
            status = 1;
            break;
        }
        printf("committed %lld %lld %lld\n", id, clock_ns(CLOCK_REALTIME),
               clock_ns(CLOCK_MONOTONIC) - start);
        fflush(stdout);
        if (interval_ms > 0) {
            usleep((useconds_t)interval_ms * 1000);
        }
    }
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return status;
}
