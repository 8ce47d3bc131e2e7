/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sqlite-writer.c — `quiesce-sqlite-writer`, a socket writer that makes one
 * SQLite database file consistent and self-contained for a snapshot, and
 * keeps it unchanged for the whole freeze window.
 *
 *   quiesce-sqlite-writer --db /var/lib/app/app.db [--name app-db]
 *
 * Phases (client/quiesce-writer.h):
 *   prepare      a PASSIVE WAL checkpoint: moves most of the WAL into the
 *                database file ahead of time, without waiting for anyone.
 *   freeze       in WAL mode: wal_checkpoint(TRUNCATE), which copies every
 *                committed frame into the database file and empties the
 *                WAL; then BEGIN IMMEDIATE, which takes SQLite's write lock
 *                so no other connection can commit until we let go. A
 *                commit can slip in between those two steps (SQLite refuses
 *                a checkpoint inside a transaction, so the order cannot be
 *                reversed): if the WAL is not empty once we hold the lock,
 *                roll back and try again (a few times). In rollback-journal
 *                mode the write lock alone suffices. The answer is "ok" only
 *                when the lock is held: the database file then holds every
 *                committed row and nothing will change it.
 *   thaw, freeze-fail
 *                ROLLBACK (nothing was written): other writers proceed.
 *   post-snapshot nothing to do.
 * Readers are never blocked. Other writers wait in their busy handler for
 * the length of the window (give them a busy_timeout longer than the
 * window, or they see SQLITE_BUSY). If this process dies or the agent
 * hangs up, the lock goes with it: SQLite's locks are released when the
 * connection or process ends, and a hang-up is a local freeze-fail.
 *
 * The waits (busy_timeout, default 10 s) must stay under the agent's
 * per-writer timeout (30 s by default), so a stuck database fails the
 * freeze instead of timing out.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/quiesce-writer.h"

#define FREEZE_ATTEMPTS 5

typedef struct {
    const char *db_path;
    const char *name;
    const char *socket_path;
    int busy_timeout_ms;
    int once;
    sqlite3 *db;
    char wal_path[4096];
} SqliteWriter;

static void note(const SqliteWriter *writer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const SqliteWriter *writer, const char *format, ...)
{
    va_list args;
    fprintf(stderr, "quiesce-sqlite-writer %s: ", writer->name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
}

/* 1 when the database is in WAL mode, 0 when not, -1 on error. */
static int sqlite_is_wal(SqliteWriter *writer)
{
    sqlite3_stmt *stmt = NULL;
    int wal = -1;
    if (sqlite3_prepare_v2(writer->db, "PRAGMA journal_mode", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char *mode = sqlite3_column_text(stmt, 0);
        wal = mode && strcmp((const char *)mode, "wal") == 0;
    }
    sqlite3_finalize(stmt);
    return wal;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : (errno == ENOENT ? 0 : -1);
}

static void sqlite_release(SqliteWriter *writer, const char *why)
{
    if (!sqlite3_get_autocommit(writer->db)) {
        sqlite3_exec(writer->db, "ROLLBACK", NULL, NULL, NULL);
        note(writer, "%s: write lock released", why);
    }
}

/* One attempt: checkpoint, lock, verify. 0 holding the lock, 1 to retry,
 * -1 failed (reason set). */
static int sqlite_try_freeze(SqliteWriter *writer, int wal, char *reason, size_t size)
{
    if (wal) {
        int rc = sqlite3_wal_checkpoint_v2(writer->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                           NULL, NULL);
        if (rc == SQLITE_BUSY) {
            return 1;
        }
        if (rc != SQLITE_OK) {
            snprintf(reason, size, "wal_checkpoint(TRUNCATE): %s", sqlite3_errmsg(writer->db));
            return -1;
        }
    }
    if (sqlite3_exec(writer->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(reason, size, "BEGIN IMMEDIATE: %s", sqlite3_errmsg(writer->db));
        return -1;
    }
    long long wal_size = wal ? file_size(writer->wal_path) : 0;
    if (wal_size != 0) {
        sqlite3_exec(writer->db, "ROLLBACK", NULL, NULL, NULL);
        if (wal_size < 0) {
            snprintf(reason, size, "cannot stat %s: %s", writer->wal_path, strerror(errno));
            return -1;
        }
        return 1; /* a commit slipped in between checkpoint and lock */
    }
    return 0;
}

static int sqlite_freeze(SqliteWriter *writer, char *reason, size_t size)
{
    int wal = sqlite_is_wal(writer);
    if (wal < 0) {
        snprintf(reason, size, "PRAGMA journal_mode: %s", sqlite3_errmsg(writer->db));
        return -1;
    }
    for (int attempt = 1; attempt <= FREEZE_ATTEMPTS; attempt++) {
        int rc = sqlite_try_freeze(writer, wal, reason, size);
        if (rc == 0) {
            note(writer, "freeze: %sholding the write lock", wal ? "WAL emptied, " : "");
            return 0;
        }
        if (rc < 0) {
            return -1;
        }
    }
    snprintf(reason, size, "the database kept changing (%d attempts)", FREEZE_ATTEMPTS);
    return -1;
}

static int sqlite_handle(const QuiesceWriterEvent *event, char *reason, size_t size,
                         void *user_data)
{
    SqliteWriter *writer = user_data;
    if (strcmp(event->phase, "prepare") == 0) {
        int rc = sqlite3_wal_checkpoint_v2(writer->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                           NULL, NULL);
        note(writer, "prepare: passive checkpoint: %s", sqlite3_errstr(rc));
        return 0; /* only an optimization */
    }
    if (strcmp(event->phase, "freeze") == 0) {
        int rc = sqlite_freeze(writer, reason, size);
        if (rc < 0) {
            note(writer, "freeze failed: %s", reason);
        }
        return rc;
    }
    if (strcmp(event->phase, "thaw") == 0 || strcmp(event->phase, "freeze-fail") == 0) {
        sqlite_release(writer, event->local ? "agent hung up" : event->phase);
        return 0;
    }
    return 0; /* post-snapshot, and phases added later */
}

static int sqlite_parse(int argc, char **argv, SqliteWriter *writer)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },
        { "name", required_argument, NULL, 'n' },
        { "socket", required_argument, NULL, 's' },
        { "busy-timeout", required_argument, NULL, 'b' },
        { "once", no_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "d:n:s:b:oh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': writer->db_path = optarg; break;
        case 'n': writer->name = optarg; break;
        case 's': writer->socket_path = optarg; break;
        case 'b': writer->busy_timeout_ms = atoi(optarg); break;
        case 'o': writer->once = 1; break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "Usage: quiesce-sqlite-writer --db PATH [--name NAME] [--socket PATH]\n"
                    "         [--busy-timeout MS] [--once]\n"
                    "Keeps an SQLite database consistent and unchanged across snapshots\n"
                    "taken by quiesced. --once: exit when the agent hangs up instead of\n"
                    "reconnecting.\n");
            exit(c == 'h' ? 0 : 2);
        }
    }
    if (!writer->db_path || optind != argc) {
        fprintf(stderr, "quiesce-sqlite-writer: --db is required\n");
        return -1;
    }
    if (!quiesce_writer_name_is_valid(writer->name)) {
        fprintf(stderr, "quiesce-sqlite-writer: invalid name '%s'\n", writer->name);
        return -1;
    }
    snprintf(writer->wal_path, sizeof writer->wal_path, "%s-wal", writer->db_path);
    return 0;
}

int main(int argc, char **argv)
{
    SqliteWriter writer = { .name = "sqlite", .busy_timeout_ms = 10000 };
    if (sqlite_parse(argc, argv, &writer) < 0) {
        return 2;
    }
    if (sqlite3_open_v2(writer.db_path, &writer.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        note(&writer, "cannot open %s: %s", writer.db_path, sqlite3_errmsg(writer.db));
        return 1;
    }
    sqlite3_busy_timeout(writer.db, writer.busy_timeout_ms);
    int status = 0;
    for (;;) {
        char err[256];
        QuiesceWriter *client = quiesce_writer_connect(writer.socket_path, writer.name, err,
                                                       sizeof err);
        if (client) {
            status = 0;
            note(&writer, "registered for %s", writer.db_path);
            if (quiesce_writer_run(client, sqlite_handle, &writer) < 0) {
                note(&writer, "%s", quiesce_writer_get_error(client));
            }
            quiesce_writer_close(client);
            sqlite_release(&writer, "disconnected");
        } else {
            note(&writer, "%s", err);
            status = 1;
            if (errno == EACCES || errno == EINVAL) {
                break; /* refused: retrying will not help */
            }
        }
        if (writer.once) {
            break;
        }
        sleep(1);
    }
    sqlite3_close(writer.db);
    return status;
}
