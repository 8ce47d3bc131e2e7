/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-sqlite-writer.c — the SQLite example writer (examples/sqlite-writer)
 * against a real database with a concurrent writer process.
 *
 * A workload commits a row every few milliseconds and prints each id once
 * COMMIT has returned. The example writer is registered as a socket
 * writer; the agent's freeze phase then runs it. While "frozen" (no
 * filesystem is frozen here: the window is the writers' part of it):
 *   - the database file does not change (same SHA-256 for a second) and
 *     the WAL is empty, so the file alone is the whole database;
 *   - the workload commits nothing, and is still alive, waiting;
 *   - a copy of the database file, as a snapshot would take it, passes
 *     PRAGMA integrity_check and holds exactly the rows reported committed.
 * After thaw the workload resumes, its first commit having waited out the
 * window instead of failing.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/integration/workload-reader.h"
#include "tests/integration/writers-fixture.h"
#include "tests/support/test-run.h"

static char *file_sha256(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

static gint64 file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (gint64)st.st_size : (errno == ENOENT ? 0 : -1);
}

static char *query_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
    char *text = NULL;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        text = g_strdup((const char *)sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return text;
}

/* Copies @db_path's file alone (as a snapshot of it would) and checks it. */
static void check_snapshot_copy(Fixture *fixture, const char *db_path, gint64 committed)
{
    g_autofree char *copy = g_build_filename(fixture->dir, "snapshot.db", NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(db_path, &data, &len, NULL));
    g_assert_true(g_file_set_contents(copy, data, (gssize)len, NULL));
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(copy, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
    g_autofree char *integrity = query_text(db, "PRAGMA integrity_check");
    g_autofree char *count = query_text(db, "SELECT count(*) FROM rows");
    g_autofree char *max = query_text(db, "SELECT max(id) FROM rows");
    sqlite3_close(db);
    g_test_message("snapshot copy: integrity %s, %s rows, max id %s, %" G_GINT64_FORMAT
                   " reported committed", integrity, count, max, committed);
    g_assert_cmpstr(integrity, ==, "ok");
    g_assert_cmpint(g_ascii_strtoll(count, NULL, 10), ==, committed);
    g_assert_cmpint(g_ascii_strtoll(max, NULL, 10), ==, committed);
}

static GPid spawn_workload(Fixture *fixture, const char *db_path, Workload *workload)
{
    const char *argv[] = { g_getenv("QUIESCE_SQLITE_WORKLOAD"), "--db", db_path,
                           "--interval-ms", "5", NULL };
    g_autoptr(GError) error = NULL;
    GPid pid = 0;
    g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                             &pid, NULL, &workload->fd, NULL, &error);
    g_assert_no_error(error);
    g_array_append_val(fixture->children, pid);
    return pid;
}

static void create_database(const char *db_path)
{
    const char *argv[] = { g_getenv("QUIESCE_SQLITE_WORKLOAD"), "--db", db_path, "--create",
                           "--count", "1", NULL };
    g_autoptr(GError) error = NULL;
    int status = -1;
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                 NULL, &status, &error);
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

static gboolean sqlite_registered(gpointer data)
{
    return fixture_has_socket_writer(data, "app-db");
}

static void test_window_holds_database(Fixture *fixture, gconstpointer data)
{
    fixture_start(fixture);
    g_autofree char *db_path = g_build_filename(fixture->dir, "app.db", NULL);
    g_autofree char *wal_path = g_strconcat(db_path, "-wal", NULL);
    create_database(db_path);
    const char *writer_argv[] = { g_getenv("QUIESCE_SQLITE_WRITER"), "--db", db_path,
                                  "--name", "app-db", "--socket", fixture->socket_path,
                                  "--once", NULL };
    GPid writer_pid = 0;
    g_autoptr(GError) error = NULL;
    g_spawn_async(NULL, (char **)writer_argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                  &writer_pid, &error);
    g_assert_no_error(error);
    g_array_append_val(fixture->children, writer_pid);
    g_assert_true(fixture_iterate_until(sqlite_registered, fixture, 5000));

    Workload workload = { .fd = -1 };
    GPid workload_pid = spawn_workload(fixture, db_path, &workload);
    g_assert_cmpint(workload_wait_for(&workload, 40, 10000), >=, 40);

    WriterContext context = { "sqlite-session", NULL };
    g_assert_true(writers_prepare(fixture->writers, &context, NULL, &error));
    gint64 start = g_get_monotonic_time();
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    g_assert_no_error(error);
    g_test_message("freeze took %" G_GINT64_FORMAT " ms",
                   (g_get_monotonic_time() - start) / 1000);

    /* A commit that got in before the lock may still be printing. */
    workload_read(&workload, 300);
    gint64 committed = workload.last_id;
    guint lines = workload.lines;
    g_autofree char *hash_before = file_sha256(db_path);
    g_assert_cmpint(file_size(wal_path), ==, 0);

    workload_read(&workload, 1000); /* the window */
    g_autofree char *hash_after = file_sha256(db_path);
    g_assert_cmpstr(hash_after, ==, hash_before);
    g_assert_cmpint(file_size(wal_path), ==, 0);
    g_assert_cmpuint(workload.lines, ==, lines); /* nothing committed */
    g_assert_true(pid_is_running(workload_pid)); /* waiting, not failed */
    check_snapshot_copy(fixture, db_path, committed);
    g_assert_true(writers_window_intact(fixture->writers, &error));

    g_assert_true(writers_thaw(fixture->writers, &context, NULL, &error));
    g_assert_no_error(error);
    workload.max_stall_ns = 0;
    g_assert_cmpint(workload_wait_for(&workload, committed + 1, 3000), >, committed);
    /* The transaction that hit the window waited it out (>= 1.3 s) in
     * SQLite's busy handler, then committed. */
    g_test_message("longest transaction across the thaw: %" G_GINT64_FORMAT " ms",
                   workload.max_stall_ns / 1000000);
    g_assert_cmpint(workload.max_stall_ns, >=, 1000 * G_GINT64_CONSTANT(1000000));
    g_assert_cmpint(workload_wait_for(&workload, committed + 20, 3000), >=, committed + 20);
    writers_post_snapshot(fixture->writers, &context);
    g_autofree char *held = fixture_flush_log(fixture);
    g_assert_nonnull(strstr(held, "writer socket writer app-db: freeze ok"));
    g_assert_nonnull(strstr(held, "writer socket writer app-db: thaw ok"));
    workload_clear(&workload);
}

static void test_freeze_fail_releases(Fixture *fixture, gconstpointer data)
{
    /* A script after the socket writers cannot exist (scripts run first),
     * so the filesystem freeze "fails" instead: the engine's freeze_fail. */
    fixture_start(fixture);
    g_autofree char *db_path = g_build_filename(fixture->dir, "app.db", NULL);
    create_database(db_path);
    const char *writer_argv[] = { g_getenv("QUIESCE_SQLITE_WRITER"), "--db", db_path,
                                  "--name", "app-db", "--socket", fixture->socket_path,
                                  "--once", NULL };
    GPid writer_pid = 0;
    g_autoptr(GError) error = NULL;
    g_spawn_async(NULL, (char **)writer_argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                  &writer_pid, &error);
    g_assert_no_error(error);
    g_array_append_val(fixture->children, writer_pid);
    g_assert_true(fixture_iterate_until(sqlite_registered, fixture, 5000));
    Workload workload = { .fd = -1 };
    spawn_workload(fixture, db_path, &workload);
    g_assert_cmpint(workload_wait_for(&workload, 10, 10000), >=, 10);

    WriterContext context = { "sqlite-abort", NULL };
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    workload_read(&workload, 300);
    gint64 held_at = workload.last_id;
    workload_read(&workload, 300);
    g_assert_cmpint(workload.last_id, ==, held_at);
    writers_freeze_fail(fixture->writers, &context);
    g_assert_cmpint(workload_wait_for(&workload, held_at + 10, 3000), >=, held_at + 10);
    workload_clear(&workload);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_getenv("QUIESCE_SQLITE_WRITER") || !g_getenv("QUIESCE_SQLITE_WORKLOAD")) {
        return quiesce_test_exit_missing(
            "the SQLite example writer (QUIESCE_SQLITE_WRITER/WORKLOAD not set: run through ctest)");
    }
#define ADD(path, func) QUIESCE_TEST_ADD(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/writers/sqlite/window-holds-database", test_window_holds_database);
    ADD("/writers/sqlite/freeze-fail-releases", test_freeze_fail_releases);
#undef ADD
    return quiesce_test_run();
}
