/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-postgresql-writer.c — quiesce-writer-postgresql (db-writers/postgresql)
 * against a real PostgreSQL server from Debian's package, driven through the
 * writers module as the agent drives it (no filesystem is frozen here; the
 * vm test vm/systemd-postgresql restores real snapshots).
 *
 * Each test runs a cluster of its own: initdb in the fixture's temp dir,
 * the postgres server started as our child (as nobody when we are root:
 * PostgreSQL refuses root), listening only on a unix socket in that dir,
 * and killed with us (PR_SET_PDEATHSIG) so a failed assertion leaves no
 * server behind. No system cluster is touched.
 *
 *   checkpoints-hold-nothing  after prepare, and again after freeze, the
 *                    control file's redo point is past every WAL record
 *                    written before the phase (shown behind it before
 *                    each: the checks can fail), and the writer
 *                    keeps no session in the server through the window
 *   not-running      server stopped: every phase answers ok
 *   stuck-checkpoint the checkpointer stopped (SIGSTOP): freeze fails within
 *                    its limit with PostgreSQL's statement-timeout error
 *                    naming the server; nothing of ours left running. Then
 *                    the writer's own session stopped as well: the writer
 *                    gives up at its limit and the server ends the session
 *                    once it runs again
 *   no-answer        the postmaster stopped: the connection gets no answer;
 *                    the writer gives up at its own limit; and with a
 *                    shorter agent limit the agent times the writer out
 *   hang-up          freeze-fail after a freeze; then the agent goes away
 *                    while the writer is frozen: it treats that as
 *                    freeze-fail; neither leaves anything in the server
 *   privileges       a role without pg_checkpoint: PostgreSQL's own
 *                    refusal is the failure; granted, it works
 *   agent/...        the real quiesced in front of the writer
 *                    (writer-agent.h): its window expiring, the host that
 *                    prepared going away, the agent SIGKILLed, its writer
 *                    timeout; after each, within its bound, no session of
 *                    the writer and a client's commit and DDL not blocked
 *   agent-control/... the same with what a writer that kept its session
 *                    would hold: the check fails at the bound
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/writer-agent.h"
#include "tests/integration/writers-fixture.h"
#include "tests/support/test-run.h"

#define PG_PORT "5499"
#define WRITER_NAME "pg-main"

typedef struct {
    Fixture base;
    char *bindir;      /* PostgreSQL's programs */
    char *pg_dir;      /* dir/pg: the server's socket and log, owned by its user */
    char *data_dir;    /* dir/pg/data */
    char *conninfo;    /* the superuser's, on the unix socket in dir */
    char *stderr_path; /* the writer's stderr */
    GPid server;       /* postmaster, our child */
    uid_t uid;         /* the server's user */
    gid_t gid;
} PgFixture;

static void pg_drop_privileges(gpointer data)
{
    const PgFixture *pg = data;
    if (geteuid() == 0) {
        if (setgroups(0, NULL) < 0 || setgid(pg->gid) < 0 || setuid(pg->uid) < 0) {
            _exit(126);
        }
    }
    /* After setuid(), which clears it. SIGQUIT: immediate shutdown. */
    prctl(PR_SET_PDEATHSIG, SIGQUIT);
}

static void pg_run(PgFixture *pg, const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    int status = -1;
    g_spawn_sync(pg->base.dir, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                 pg_drop_privileges, pg, &out, NULL, &status, &error);
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_error("%s failed: %s", argv[0], out);
    }
}

static PGconn *pg_connect(PgFixture *pg, const char *conninfo)
{
    PGconn *conn = PQconnectdb(conninfo ? conninfo : pg->conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        g_error("connect: %s", PQerrorMessage(conn));
    }
    return conn;
}

/* The first value of @sql's first row, as the superuser. */
static char *pg_query(PgFixture *pg, const char *sql)
{
    PGconn *conn = pg_connect(pg, NULL);
    PGresult *res = PQexec(conn, sql);
    ExecStatusType rs = PQresultStatus(res);
    if (rs != PGRES_TUPLES_OK && rs != PGRES_COMMAND_OK) {
        g_error("%s: %s", sql, PQresultErrorMessage(res));
    }
    char *value = (rs == PGRES_TUPLES_OK && PQntuples(res) > 0) ? g_strdup(PQgetvalue(res, 0, 0))
                                                                 : g_strdup("");
    PQclear(res);
    PQfinish(conn);
    return value;
}

static gint64 pg_query_int(PgFixture *pg, const char *sql)
{
    g_autofree char *value = pg_query(pg, sql);
    return g_ascii_strtoll(value, NULL, 10);
}

static void pg_server_start(PgFixture *pg)
{
    const char *argv[] = { g_build_filename(pg->bindir, "postgres", NULL), "-D", pg->data_dir,
                           "-p", PG_PORT, "-c", "listen_addresses=", "-c", NULL, NULL };
    g_autofree char *socket_dir = g_strdup_printf("unix_socket_directories=%s", pg->pg_dir);
    argv[8] = socket_dir;
    g_autofree char *log = g_build_filename(pg->pg_dir, "postgres.log", NULL);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    g_assert_cmpint(log_fd, >=, 0);
    g_autoptr(GError) error = NULL;
    g_spawn_async_with_fds(pg->base.dir, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                           pg_drop_privileges, pg, &pg->server, -1, log_fd, log_fd, &error);
    g_assert_no_error(error);
    close(log_fd);
    g_free((char *)argv[0]);
    for (int i = 0; i < 200 && PQping(pg->conninfo) != PQPING_OK; i++) {
        g_usleep(50000);
    }
    g_assert_cmpint(PQping(pg->conninfo), ==, PQPING_OK);
}

/* Fast shutdown, waited for. */
static void pg_server_stop(PgFixture *pg)
{
    if (pg->server <= 0) {
        return;
    }
    kill(pg->server, SIGCONT);
    kill(pg->server, SIGINT);
    waitpid(pg->server, NULL, 0);
    pg->server = 0;
}

static void pg_setup(PgFixture *pg, gconstpointer data)
{
    fixture_setup(&pg->base, data);
    pg->bindir = g_strdup(g_getenv("QUIESCE_PG_BINDIR"));
    pg->pg_dir = g_build_filename(pg->base.dir, "pg", NULL);
    pg->data_dir = g_build_filename(pg->pg_dir, "data", NULL);
    pg->conninfo = g_strdup_printf("host=%s port=" PG_PORT " user=postgres dbname=postgres",
                                   pg->pg_dir);
    g_assert_cmpint(g_mkdir(pg->pg_dir, 0755), ==, 0);
    pg->stderr_path = g_build_filename(pg->base.dir, "writer.err", NULL);
    pg->uid = geteuid();
    pg->gid = getegid();
    if (pg->uid == 0) {
        struct passwd *nobody = getpwnam("nobody");
        g_assert_nonnull(nobody);
        pg->uid = nobody->pw_uid;
        pg->gid = nobody->pw_gid;
        g_assert_cmpint(chown(pg->pg_dir, pg->uid, pg->gid), ==, 0);
    }
    g_autofree char *initdb = g_build_filename(pg->bindir, "initdb", NULL);
    const char *argv[] = { initdb, "-D", pg->data_dir, "-U", "postgres", "-A", "trust",
                           "--no-sync", "--no-instructions", NULL };
    pg_run(pg, argv);
    pg_server_start(pg);
    g_free(pg_query(pg, "CREATE TABLE rows (id serial PRIMARY KEY, t text)"));
    fixture_start(&pg->base);
}

static void pg_teardown(PgFixture *pg, gconstpointer data)
{
    if (pg->server > 0) {
        /* A test may have stopped any of its processes. */
        g_autofree char *pids = g_strdup_printf("pkill -CONT -P %d", pg->server);
        (void)!system(pids);
    }
    pg_server_stop(pg);
    fixture_teardown(&pg->base, data);
    g_free(pg->bindir);
    g_free(pg->pg_dir);
    g_free(pg->data_dir);
    g_free(pg->conninfo);
    g_free(pg->stderr_path);
}

/* Asserts @call (which sets the local `error`) succeeds, showing the
 * error when not. */
#define PG_ASSERT_OK(call)                                                                    \
    do {                                                                                      \
        gboolean ok_ = (call);                                                                \
        g_assert_no_error(error);                                                             \
        g_assert_true(ok_);                                                                   \
    } while (0)

static gboolean pg_writer_registered(gpointer data)
{
    return fixture_has_socket_writer(data, WRITER_NAME);
}

/* Starts the writer on the agent socket @socket_path (--once, stderr to
 * pg->stderr_path). */
static GPid pg_writer_spawn_at(PgFixture *pg, const char *socket_path, const char *conninfo,
                               const char *freeze_ms)
{
    const char *argv[] = { "/bin/sh", "-c", "exec \"$@\" 2>>\"$0\"", pg->stderr_path,
                           g_getenv("QUIESCE_WRITER_POSTGRESQL"), "--conninfo",
                           conninfo ? conninfo : pg->conninfo, "--name", WRITER_NAME,
                           "--socket", socket_path, "--prepare-timeout", "5000",
                           "--freeze-timeout", freeze_ms, "--once", NULL };
    GPid pid = 0;
    g_autoptr(GError) error = NULL;
    g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                  &error);
    g_assert_no_error(error);
    g_array_append_val(pg->base.children, pid);
    return pid;
}

/* The same on the fixture's writers module, waiting for its registration. */
static GPid pg_writer_spawn(PgFixture *pg, const char *conninfo, const char *freeze_ms)
{
    GPid pid = pg_writer_spawn_at(pg, pg->base.socket_path, conninfo, freeze_ms);
    g_assert_true(fixture_iterate_until(pg_writer_registered, &pg->base, 5000));
    return pid;
}

/* Sessions of the writer in the server (any state). */
static gint64 pg_writer_sessions(PgFixture *pg)
{
    return pg_query_int(pg, "SELECT count(*) FROM pg_stat_activity "
                            "WHERE application_name = 'quiesce-writer-postgresql'");
}

/* TRUE once no session of the writer is left (within 3 s: a backend
 * ends a moment after its client closed the connection). The query is the
 * one that finds the writer's running session in stuck-checkpoint, so it
 * does see them. */
static gboolean pg_writer_sessions_gone(PgFixture *pg)
{
    for (int i = 0; i < 60 && pg_writer_sessions(pg) > 0; i++) {
        g_usleep(50000);
    }
    return pg_writer_sessions(pg) == 0;
}

static char *pg_writer_stderr(PgFixture *pg)
{
    char *text = NULL;
    if (!g_file_get_contents(pg->stderr_path, &text, NULL, NULL)) {
        text = g_strdup("");
    }
    return text;
}

/* The control file's redo point of the latest checkpoint, and the WAL
 * insert position, as numbers comparable with each other. */
static gint64 pg_redo_lsn(PgFixture *pg)
{
    return pg_query_int(pg, "SELECT redo_lsn - '0/0' FROM pg_control_checkpoint()");
}

static gint64 pg_insert_lsn(PgFixture *pg)
{
    return pg_query_int(pg, "SELECT pg_current_wal_insert_lsn() - '0/0'");
}

static void pg_write_some(PgFixture *pg)
{
    g_free(pg_query(pg, "INSERT INTO rows (t) SELECT repeat('x', 100) "
                        "FROM generate_series(1, 2000)"));
}

static void test_checkpoints_hold_nothing(PgFixture *pg, gconstpointer data)
{
    pg_writer_spawn(pg, NULL, "5000");
    pg_write_some(pg);
    gint64 written = pg_insert_lsn(pg);
    /* The control: before the writer ran, the redo point is behind what
     * was just written, so the checks below can fail. */
    g_assert_cmpint(pg_redo_lsn(pg), <, written);

    g_autoptr(GError) error = NULL;
    WriterContext context = { "pg-session", NULL };
    PG_ASSERT_OK(writers_prepare(pg->base.writers, &context, NULL, &error));
    g_assert_cmpint(pg_redo_lsn(pg), >=, written);
    pg_write_some(pg); /* between prepare and freeze */
    written = pg_insert_lsn(pg);
    g_assert_cmpint(pg_redo_lsn(pg), <, written);
    gint64 start = g_get_monotonic_time();
    PG_ASSERT_OK(writers_freeze(pg->base.writers, &context, NULL, &error));
    g_test_message("freeze took %" G_GINT64_FORMAT " ms", (g_get_monotonic_time() - start) / 1000);

    gint64 redo = pg_redo_lsn(pg);
    g_test_message("redo point %" G_GINT64_FORMAT ", WAL written before freeze %" G_GINT64_FORMAT,
                   redo, written);
    g_assert_cmpint(redo, >=, written);
    /* Nothing held through the window: no session of ours, and another
     * client's writes go through at once. */
    g_assert_true(pg_writer_sessions_gone(pg));
    pg_write_some(pg);
    g_assert_true(writers_window_intact(pg->base.writers, &error));
    PG_ASSERT_OK(writers_thaw(pg->base.writers, &context, NULL, &error));
    g_assert_no_error(error);
    writers_post_snapshot(pg->base.writers, &context);
    g_autofree char *held = fixture_flush_log(&pg->base);
    g_assert_nonnull(strstr(held, "writer socket writer " WRITER_NAME ": freeze ok"));
    g_autofree char *err = pg_writer_stderr(pg);
    g_assert_nonnull(strstr(err, "freeze: PostgreSQL at "));
    g_assert_nonnull(strstr(err, "CHECKPOINT done"));
    g_assert_nonnull(strstr(err, "thaw: nothing held"));
}

static void test_not_running(PgFixture *pg, gconstpointer data)
{
    pg_writer_spawn(pg, NULL, "5000");
    pg_server_stop(pg);
    g_autoptr(GError) error = NULL;
    WriterContext context = { "pg-stopped", NULL };
    PG_ASSERT_OK(writers_prepare(pg->base.writers, &context, NULL, &error));
    PG_ASSERT_OK(writers_freeze(pg->base.writers, &context, NULL, &error));
    g_assert_no_error(error);
    PG_ASSERT_OK(writers_thaw(pg->base.writers, &context, NULL, &error));
    g_autofree char *err = pg_writer_stderr(pg);
    g_assert_nonnull(strstr(err, "prepare: PostgreSQL is not running"));
    g_assert_nonnull(strstr(err, "freeze: PostgreSQL is not running"));
    g_assert_nonnull(strstr(err, "nothing to protect"));
}

static pid_t pg_backend_pid(PgFixture *pg, const char *backend_type)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT pid FROM pg_stat_activity WHERE backend_type = '%s'", backend_type);
    pid_t pid = (pid_t)pg_query_int(pg, sql);
    g_assert_cmpint(pid, >, 0);
    return pid;
}

/* Freezes expecting failure; returns the error's text and checks the time. */
static char *pg_freeze_fails(PgFixture *pg, guint max_ms, WriterFailure **failure)
{
    g_autoptr(GError) error = NULL;
    WriterContext context = { "pg-fail", NULL };
    gint64 start = g_get_monotonic_time();
    g_assert_false(writers_freeze(pg->base.writers, &context, failure, &error));
    gint64 took_ms = (g_get_monotonic_time() - start) / 1000;
    g_assert_nonnull(error);
    g_test_message("freeze failed after %" G_GINT64_FORMAT " ms: %s", took_ms, error->message);
    g_assert_cmpint(took_ms, <=, max_ms);
    g_assert_false(writers_is_frozen(pg->base.writers));
    return g_strdup(error->message);
}

typedef struct {
    PgFixture *pg;
    pid_t pid; /* the writer's session, stopped; 0 if never seen */
} StopWriterSession;

/* Thread: SIGSTOPs the writer's session once it runs CHECKPOINT (within 1 s). */
static gpointer pg_stop_writer_session(gpointer data)
{
    StopWriterSession *stopper = data;
    PGconn *conn = pg_connect(stopper->pg, NULL);
    for (int i = 0; i < 200 && stopper->pid == 0; i++) {
        PGresult *res = PQexec(conn, "SELECT pid FROM pg_stat_activity WHERE application_name = "
                                     "'quiesce-writer-postgresql' AND query = 'CHECKPOINT'");
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            stopper->pid = (pid_t)atoi(PQgetvalue(res, 0, 0));
            kill(stopper->pid, SIGSTOP);
        }
        PQclear(res);
        g_usleep(5000);
    }
    PQfinish(conn);
    return NULL;
}

static void test_stuck_checkpoint(PgFixture *pg, gconstpointer data)
{
    pg_writer_spawn(pg, NULL, "1500");
    pid_t checkpointer = pg_backend_pid(pg, "checkpointer");
    g_assert_cmpint(kill(checkpointer, SIGSTOP), ==, 0);
    g_autofree char *message = pg_freeze_fails(pg, 2500, NULL);
    g_assert_nonnull(strstr(message, "canceling statement due to statement timeout"));
    g_assert_nonnull(strstr(message, WRITER_NAME));
    g_autofree char *where = g_strdup_printf("PostgreSQL at %s:" PG_PORT, pg->pg_dir);
    g_assert_nonnull(strstr(message, where));
    /* The cancelled CHECKPOINT's session is gone: nothing of ours runs. */
    g_assert_true(pg_writer_sessions_gone(pg));

    /* Again, and this time the writer's own session is stopped too as soon
     * as it runs its CHECKPOINT, so statement_timeout cannot answer: the
     * writer gives up at its own limit and hangs up; once the session runs
     * again, the server ends it (nothing of ours stays). */
    StopWriterSession stopper = { .pg = pg };
    GThread *thread = g_thread_new("stopper", pg_stop_writer_session, &stopper);
    g_autofree char *no_answer = pg_freeze_fails(pg, 2500, NULL);
    g_thread_join(thread);
    g_assert_cmpint(stopper.pid, >, 0);
    g_assert_nonnull(strstr(no_answer, "CHECKPOINT: no answer from the server before the deadline"));
    g_assert_cmpint(kill(stopper.pid, SIGCONT), ==, 0);
    g_assert_true(pg_writer_sessions_gone(pg));

    g_assert_cmpint(kill(checkpointer, SIGCONT), ==, 0);
    /* The checkpoint requested before still runs; then the writer works. */
    g_autoptr(GError) error = NULL;
    WriterContext context = { "pg-after", NULL };
    PG_ASSERT_OK(writers_freeze(pg->base.writers, &context, NULL, &error));
    g_assert_no_error(error);
    PG_ASSERT_OK(writers_thaw(pg->base.writers, &context, NULL, &error));
}

static void test_no_answer(PgFixture *pg, gconstpointer data)
{
    GPid writer = pg_writer_spawn(pg, NULL, "1500");
    g_assert_cmpint(kill(pg->server, SIGSTOP), ==, 0);
    /* The writer's own limit: the connection is never answered. */
    g_autofree char *message = pg_freeze_fails(pg, 2500, NULL);
    g_assert_nonnull(strstr(message, "no answer while connecting"));
    g_assert_true(pid_is_running(writer));

    /* The agent's limit shorter than the writer's: the agent gives up on
     * the writer and hangs up; the writer, on its own limit, gives up too
     * and (--once) exits. */
    fixture_kill_child(&pg->base, writer);
    g_clear_pointer(&pg->base.writers, writers_free);
    pg->base.config.writer_timeout_ms = 700;
    fixture_start(&pg->base);
    writer = pg_writer_spawn(pg, NULL, "3000");
    g_autofree char *timed_out = pg_freeze_fails(pg, 1500, NULL);
    g_assert_nonnull(strstr(timed_out, WRITER_NAME));
    g_assert_true(pid_wait_gone(writer, 5000));
    g_assert_cmpint(kill(pg->server, SIGCONT), ==, 0);
    g_assert_true(pg_writer_sessions_gone(pg));
}

static void test_hang_up(PgFixture *pg, gconstpointer data)
{
    GPid writer = pg_writer_spawn(pg, NULL, "5000");
    g_autoptr(GError) error = NULL;
    /* First freeze-fail (the filesystems could not be frozen). */
    WriterContext failed = { "pg-freeze-fail", NULL };
    PG_ASSERT_OK(writers_freeze(pg->base.writers, &failed, NULL, &error));
    writers_freeze_fail(pg->base.writers, &failed);
    g_assert_false(writers_is_frozen(pg->base.writers));
    g_assert_true(pg_writer_sessions_gone(pg));
    WriterContext context = { "pg-hangup", NULL };
    PG_ASSERT_OK(writers_prepare(pg->base.writers, &context, NULL, &error));
    PG_ASSERT_OK(writers_freeze(pg->base.writers, &context, NULL, &error));
    g_assert_no_error(error);
    g_clear_pointer(&pg->base.writers, writers_free); /* the agent is gone */
    g_assert_true(pid_wait_gone(writer, 5000));
    int status = -1;
    g_assert_cmpint(waitpid(writer, &status, 0), ==, writer);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_autofree char *err = pg_writer_stderr(pg);
    g_assert_nonnull(strstr(err, "freeze-fail: nothing held"));
    g_assert_nonnull(strstr(err, "agent hung up: nothing held"));
    g_assert_true(pg_writer_sessions_gone(pg));
}

static void test_privileges(PgFixture *pg, gconstpointer data)
{
    g_free(pg_query(pg, "CREATE ROLE backup LOGIN"));
    g_autofree char *conninfo = g_strdup_printf(
        "host=%s port=" PG_PORT " user=backup dbname=postgres", pg->pg_dir);
    pg_writer_spawn(pg, conninfo, "5000");
    g_autoptr(GError) error = NULL;
    WriterContext context = { "pg-role", NULL };
    g_assert_false(writers_prepare(pg->base.writers, &context, NULL, &error));
    g_test_message("prepare failed: %s", error->message);
    g_assert_nonnull(strstr(error->message, "pg_checkpoint"));
    g_assert_nonnull(strstr(error->message, "SQLSTATE 42501"));
    g_clear_error(&error);
    g_free(pg_query(pg, "GRANT pg_checkpoint TO backup"));
    PG_ASSERT_OK(writers_prepare(pg->base.writers, &context, NULL, &error));
    g_assert_no_error(error);
}

/* The paths only the agent takes, with the real quiesced in front of the
 * writer (writer-agent.h): its window expiring, the host that prepared
 * going away, the agent SIGKILLed, and its writer timeout (the
 * checkpointer stopped, so the writer's CHECKPOINT outlasts the agent's
 * limit). After each, within its bound, nothing of the writer's is left:
 * no session of it (a lock and backup mode are a session's in
 * PostgreSQL 15: docs/postgresql.md), and another client's commit and DDL
 * go through within a 1 s lock_timeout. The control of each path holds
 * what a writer that did not let go would hold — a session under the
 * writer's application_name with a table lock and (but for the writer
 * timeout, whose checkpointer is stopped) pg_backup_start() — from just
 * after prepare: the same check then fails at the bound, and passes once
 * that session is closed. */
typedef struct {
    WriterAgentPath path;
    gboolean control;
} PgAgentCase;

/* NULL when @sql ran, else (transfer full) PostgreSQL's error. */
static char *pg_try(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType rs = PQresultStatus(res);
    char *error = (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK)
                      ? NULL
                      : g_strdup(PQresultErrorMessage(res));
    PQclear(res);
    return error;
}

/* Another client's commit and DDL, each within a 1 s lock_timeout. */
static gboolean pg_client_not_blocked(PgFixture *pg)
{
    PGconn *conn = pg_connect(pg, NULL);
    const char *steps[] = { "SET lock_timeout = '1s'", "INSERT INTO rows (t) VALUES ('client')",
                            "ALTER TABLE rows ADD COLUMN IF NOT EXISTS c int", NULL };
    gboolean ok = TRUE;
    for (const char *const *sql = steps; ok && *sql; sql++) {
        g_autofree char *error = pg_try(conn, *sql);
        if (error) {
            g_test_message("%s: %s", *sql, error);
            ok = FALSE;
        }
    }
    PQfinish(conn);
    return ok;
}

/* TRUE once no session of the writer is left and a client is not blocked,
 * by @deadline (monotonic µs). */
static gboolean pg_nothing_held_by(PgFixture *pg, gint64 deadline)
{
    for (;;) {
        if (pg_writer_sessions(pg) == 0 && pg_client_not_blocked(pg)) {
            return TRUE;
        }
        if (g_get_monotonic_time() >= deadline) {
            return FALSE;
        }
        g_usleep(100 * 1000);
    }
}

/* What a writer that kept its session would hold. (transfer full) */
static PGconn *pg_hold_as_writer(PgFixture *pg, gboolean backup)
{
    g_autofree char *conninfo =
        g_strdup_printf("%s application_name=quiesce-writer-postgresql", pg->conninfo);
    PGconn *conn = pg_connect(pg, conninfo);
    const char *steps[] = { "BEGIN", "LOCK TABLE rows IN SHARE MODE",
                            backup ? "SELECT pg_backup_start('quiesce-control', true)" : NULL,
                            NULL };
    for (const char *const *sql = steps; *sql; sql++) {
        g_autofree char *error = pg_try(conn, *sql);
        g_assert_null(error);
    }
    return conn;
}

static void test_agent_path(PgFixture *pg, gconstpointer data)
{
    const PgAgentCase *test = data;
    g_autoptr(WriterAgent) agent = writer_agent_new_for(test->path);
    if (!agent) {
        return; /* skipped */
    }
    gboolean timeout_path = test->path == WRITER_AGENT_WRITER_TIMEOUT;
    pg_writer_spawn_at(pg, agent->writer_socket, NULL, "5000");
    g_assert_true(file_wait_contains(pg->stderr_path, "registered", 5000));
    pid_t checkpointer = 0;
    if (timeout_path) {
        checkpointer = pg_backend_pid(pg, "checkpointer");
        g_assert_cmpint(kill(checkpointer, SIGSTOP), ==, 0);
    }

    gint64 start = g_get_monotonic_time();
    g_autofree char *prepare = writer_agent_prepare(agent, test->path, WRITER_NAME);
    if (timeout_path) {
        /* The writer's CHECKPOINT still runs: the check sees a session. */
        g_assert_cmpint(pg_writer_sessions(pg), >, 0);
    }
    if (!timeout_path && !test->control) {
        /* Frozen, and nothing held even now: the checkpoints are done. */
        g_assert_true(pg_nothing_held_by(pg, 0));
    }
    PGconn *held = test->control ? pg_hold_as_writer(pg, !timeout_path) : NULL;
    if (test->path == WRITER_AGENT_KILLED) {
        writer_agent_kill(agent);
    }
    /* The writer hears of the end (or gives up) by the bound (its own
     * limit, --prepare-timeout 5000, ends its CHECKPOINT)... */
    gint64 bound = writer_agent_release_bound(test->path, start, 5);
    const char *released = test->path == WRITER_AGENT_KILLED ? "agent hung up: nothing held"
                           : timeout_path ? "prepare failed: PostgreSQL at "
                                          : "freeze-fail: nothing held";
    gint64 left_ms = (bound - g_get_monotonic_time()) / 1000;
    g_assert_true(file_wait_contains(pg->stderr_path, released, (guint)MAX(left_ms, 1)));
    /* ...and leaves nothing behind. */
    gboolean nothing = pg_nothing_held_by(pg, MAX(bound, g_get_monotonic_time() + G_USEC_PER_SEC));
    g_test_message("%s %.1f s after prepare", nothing ? "nothing held" : "still held",
                   (g_get_monotonic_time() - start) / 1e6);
    if (test->control) {
        g_assert_false(nothing);
        PQfinish(held);
        nothing = pg_nothing_held_by(pg, g_get_monotonic_time() + 5 * G_USEC_PER_SEC);
    }
    g_assert_true(nothing);
    if (checkpointer) {
        g_assert_cmpint(kill(checkpointer, SIGCONT), ==, 0);
    }
    g_autofree char *err = pg_writer_stderr(pg);
    g_test_message("writer: %s", err);
    writer_agent_assert_ended(agent, test->path, prepare);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_getenv("QUIESCE_WRITER_POSTGRESQL") || !g_getenv("QUIESCE_PG_BINDIR")) {
        return quiesce_test_exit_missing(
            "PostgreSQL's server (postgresql-15) or the writer (QUIESCE_PG_BINDIR, "
            "QUIESCE_WRITER_POSTGRESQL: run through ctest)");
    }
#define ADD(path, func)                                                                       \
    QUIESCE_TEST_ADD(path, PgFixture, NULL, pg_setup, func, pg_teardown)
    ADD("/writers/postgresql/checkpoints-hold-nothing", test_checkpoints_hold_nothing);
    ADD("/writers/postgresql/not-running", test_not_running);
    ADD("/writers/postgresql/stuck-checkpoint", test_stuck_checkpoint);
    ADD("/writers/postgresql/no-answer", test_no_answer);
    ADD("/writers/postgresql/hang-up", test_hang_up);
    ADD("/writers/postgresql/privileges", test_privileges);
    static PgAgentCase cases[2 * WRITER_AGENT_N_PATHS];
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        cases[i] = (PgAgentCase){ (WriterAgentPath)(i / 2), i % 2 == 1 };
        g_autofree char *path = g_strdup_printf("/writers/postgresql/agent%s/%s",
                                                cases[i].control ? "-control" : "",
                                                writer_agent_path_names[i / 2]);
        QUIESCE_TEST_ADD(path, PgFixture, &cases[i], pg_setup, test_agent_path, pg_teardown);
    }
#undef ADD
    return quiesce_test_run();
}
