/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-mariadb-writer.c — quiesce-writer-mariadb (db-writers/mariadb) against
 * a real MariaDB server of the test's own (mariadb-server.h), driven through
 * the writer protocol by the agent's writers module, as
 * test-sqlite-writer.c drives the SQLite example. Nothing is frozen here:
 * the window is the writers' part of it.
 *
 * What a user would check, for each path the lock can be let go by:
 *   - the window: a workload committing every few ms commits nothing while
 *     frozen (still alive, waiting), and a DDL fails its lock wait, then
 *     both proceed after thaw; the server holds a backup stage exactly from
 *     prepare to thaw (probed with a BACKUP STAGE START of our own, which
 *     the server runs one at a time);
 *   - freeze-fail, the agent hanging up, the agent timing the writer out,
 *     and the writer SIGKILLed: each leaves no backup stage held and the
 *     workload running again (the last shows the server ends the stage of
 *     a connection that closes); thaw-control and freeze-fail-control: with
 *     the writer SIGSTOPped, the same checks fail until it runs again; a
 *     prepare that no freeze follows is ended after the prepare hold;
 *   - with the real quiesced in front of the writer (writer-agent.h), the
 *     paths only the agent takes: its window expiring, the host that
 *     prepared going away, the agent SIGKILLed, its writer timeout
 *     (agent/...); each within its bound leaves no stage held, commits
 *     flowing and DDL passing, and each control (agent-control/...), the
 *     writer SIGSTOPped before its release is due, fails the same check;
 *   - a lock the writer cannot get in time: LOCK TABLES ... WRITE held by
 *     another connection fails prepare, a long write to a MyISAM table
 *     fails freeze, each within its limit with MariaDB's own error as the
 *     reason, holding nothing;
 *   - no server: prepare and freeze answer ok and the writer says why;
 *   - innodb_flush_log_at_trx_commit=0: a crash loses acknowledged commits
 *     (negative control), but none once the writer's freeze has answered.
 */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/mariadb-server.h"
#include "tests/integration/writer-agent.h"
#include "tests/integration/workload-reader.h"
#include "tests/integration/writers-fixture.h"
#include "tests/support/test-run.h"

/* Spawns the writer on the agent socket @socket_path with its stderr in
 * DIR/writer.log; extra args follow. */
static GPid spawn_writer_at(Fixture *fixture, const MariadbServer *server,
                            const char *socket_path, const char *const *extra)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)g_getenv("QUIESCE_MARIADB_WRITER"));
    const char *fixed[] = { "--name", "app-db", "--socket", socket_path, "--once",
                            "--defaults-file", server->defaults_file, NULL };
    for (const char *const *arg = fixed; *arg; arg++) {
        g_ptr_array_add(argv, (gpointer)*arg);
    }
    for (const char *const *arg = extra; arg && *arg; arg++) {
        g_ptr_array_add(argv, (gpointer)*arg);
    }
    g_ptr_array_add(argv, NULL);
    g_autofree char *log_path = g_build_filename(fixture->dir, "writer.log", NULL);
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    g_assert_cmpint(log_fd, >=, 0);
    g_autoptr(GError) error = NULL;
    GPid pid = 0;
    g_spawn_async_with_fds(NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                           NULL, &pid, -1, -1, log_fd, &error);
    close(log_fd);
    g_assert_no_error(error);
    g_array_append_val(fixture->children, pid);
    return pid;
}

/* The same on the writers module of the fixture. */
static GPid spawn_writer(Fixture *fixture, const MariadbServer *server, const char *const *extra)
{
    return spawn_writer_at(fixture, server, fixture->socket_path, extra);
}

static char *writer_log(Fixture *fixture)
{
    g_autofree char *path = g_build_filename(fixture->dir, "writer.log", NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static gboolean writer_registered(gpointer data)
{
    return fixture_has_socket_writer(data, "app-db");
}

static GPid start_writer(Fixture *fixture, const MariadbServer *server, const char *const *extra)
{
    fixture_start(fixture);
    GPid pid = spawn_writer(fixture, server, extra);
    g_assert_true(fixture_iterate_until(writer_registered, fixture, 5000));
    return pid;
}

/* A fresh database per test, so ids start at 1. */
static char *create_database(const MariadbServer *server)
{
    static int counter;
    char *database = g_strdup_printf("app%d", ++counter);
    const char *argv[] = { g_getenv("QUIESCE_MARIADB_WORKLOAD"), "--defaults-file",
                           server->defaults_file, "--database", database, "--create",
                           "--count", "1", NULL };
    g_autoptr(GError) error = NULL;
    int status = -1;
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                 NULL, &status, &error);
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    return database;
}

static GPid spawn_workload(Fixture *fixture, const MariadbServer *server, const char *database,
                           Workload *workload)
{
    const char *argv[] = { g_getenv("QUIESCE_MARIADB_WORKLOAD"), "--defaults-file",
                           server->defaults_file, "--database", database, "--interval-ms",
                           "5", NULL };
    g_autoptr(GError) error = NULL;
    GPid pid = 0;
    workload->fd = -1;
    g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                             &pid, NULL, &workload->fd, NULL, &error);
    g_assert_no_error(error);
    g_array_append_val(fixture->children, pid);
    return pid;
}

/* Asserts the workload commits nothing for @ms while staying alive. */
static gint64 assert_commits_held(Workload *workload, GPid workload_pid, guint ms)
{
    workload_read(workload, 300); /* a commit acknowledged before the lock */
    gint64 held_at = workload->last_id;
    guint lines = workload->lines;
    workload_read(workload, ms);
    g_assert_cmpuint(workload->lines, ==, lines);
    g_assert_true(pid_is_running(workload_pid));
    return held_at;
}

static void assert_commits_resume(Workload *workload, gint64 held_at)
{
    g_assert_cmpint(workload_wait_for(workload, held_at + 10, 5000), >=, held_at + 10);
}

static void test_window(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    g_autofree char *database = create_database(server);
    start_writer(fixture, server, NULL);
    Workload workload = { .fd = -1 };
    GPid workload_pid = spawn_workload(fixture, server, database, &workload);
    g_assert_cmpint(workload_wait_for(&workload, 40, 10000), >=, 40);
    g_assert_true(mariadb_server_backup_stage_free(server));

    g_autoptr(GError) error = NULL;
    WriterContext context = { "mariadb-session", NULL };
    g_assert_true(writers_prepare(fixture->writers, &context, NULL, &error));
    g_assert_no_error(error);
    /* Prepare holds START and FLUSH: InnoDB commits go on. */
    g_assert_false(mariadb_server_backup_stage_free(server));
    gint64 before = workload.last_id;
    g_assert_cmpint(workload_wait_for(&workload, before + 10, 5000), >=, before + 10);

    gint64 start = g_get_monotonic_time();
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    g_assert_no_error(error);
    g_test_message("freeze took %" G_GINT64_FORMAT " ms", (g_get_monotonic_time() - start) / 1000);
    gint64 held_at = assert_commits_held(&workload, workload_pid, 1000);
    MYSQL *conn = mariadb_server_connect(server);
    g_autofree char *alter = g_strdup_printf(
        "SET STATEMENT lock_wait_timeout=1 FOR ALTER TABLE `%s`.rows ADD COLUMN x INT", database);
    g_autofree char *ddl_error = mariadb_server_try(conn, alter);
    g_test_message("DDL while frozen: %s", ddl_error ? ddl_error : "went through");
    g_assert_nonnull(strstr(ddl_error ? ddl_error : "", "(1205)"));
    g_assert_false(mariadb_server_backup_stage_free(server));
    g_assert_true(writers_window_intact(fixture->writers, &error));

    g_assert_true(writers_thaw(fixture->writers, &context, NULL, &error));
    g_assert_no_error(error);
    workload.max_stall_ns = 0;
    assert_commits_resume(&workload, held_at);
    /* The commit that hit the window waited it out (>= 1.3 s), then went. */
    g_test_message("longest commit across the thaw: %" G_GINT64_FORMAT " ms",
                   workload.max_stall_ns / 1000000);
    g_assert_cmpint(workload.max_stall_ns, >=, 1000 * G_GINT64_CONSTANT(1000000));
    g_assert_true(mariadb_server_backup_stage_free(server));
    g_autofree char *alter_after = g_strdup_printf(
        "SET STATEMENT lock_wait_timeout=5 FOR ALTER TABLE `%s`.rows ADD COLUMN x INT", database);
    mariadb_server_exec(conn, alter_after);
    /* Every acknowledged commit is there. */
    g_autofree char *count_sql =
        g_strdup_printf("SELECT COUNT(*) FROM `%s`.rows WHERE id <= %" G_GINT64_FORMAT, database,
                        workload.last_id);
    g_autofree char *count = mariadb_server_value(conn, count_sql);
    g_assert_cmpint(g_ascii_strtoll(count, NULL, 10), ==, workload.last_id);
    mysql_close(conn);
    writers_post_snapshot(fixture->writers, &context);
    g_autofree char *held = fixture_flush_log(fixture);
    g_assert_nonnull(strstr(held, "writer socket writer app-db: freeze ok"));
    g_assert_nonnull(strstr(held, "writer socket writer app-db: thaw ok"));
    g_autofree char *log = writer_log(fixture);
    g_assert_nonnull(strstr(log, "thaw: BACKUP STAGE END"));
    workload_clear(&workload);
}

/* Freezes with a workload running; returns the id it was held at. */
static gint64 freeze_with_workload(Fixture *fixture, const MariadbServer *server,
                                   Workload *workload, GPid *workload_pid)
{
    g_autofree char *database = create_database(server);
    *workload_pid = spawn_workload(fixture, server, database, workload);
    g_assert_cmpint(workload_wait_for(workload, 10, 10000), >=, 10);
    g_autoptr(GError) error = NULL;
    WriterContext context = { "mariadb-release", NULL };
    g_assert_true(writers_prepare(fixture->writers, &context, NULL, &error));
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    g_assert_no_error(error);
    gint64 held_at = assert_commits_held(workload, *workload_pid, 500);
    g_assert_false(mariadb_server_backup_stage_free(server));
    return held_at;
}

static void test_freeze_fail_releases(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    start_writer(fixture, server, NULL);
    Workload workload = { .fd = -1 };
    GPid workload_pid = 0;
    gint64 held_at = freeze_with_workload(fixture, server, &workload, &workload_pid);
    WriterContext context = { "mariadb-release", NULL };
    writers_freeze_fail(fixture->writers, &context);
    assert_commits_resume(&workload, held_at);
    g_assert_true(mariadb_server_backup_stage_free(server));
    g_autofree char *log = writer_log(fixture);
    g_assert_nonnull(strstr(log, "freeze-fail: BACKUP STAGE END"));
    workload_clear(&workload);
}

/* The agent goes away while the writer is frozen (its connection closes):
 * the writer releases at once, as on freeze-fail. */
static void test_hangup_releases(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    GPid writer_pid = start_writer(fixture, server, NULL);
    Workload workload = { .fd = -1 };
    GPid workload_pid = 0;
    gint64 held_at = freeze_with_workload(fixture, server, &workload, &workload_pid);
    g_clear_pointer(&fixture->writers, writers_free);
    assert_commits_resume(&workload, held_at);
    g_assert_true(mariadb_server_backup_stage_free(server));
    g_assert_true(pid_wait_gone(writer_pid, 5000)); /* --once: exits after */
    g_autofree char *log = writer_log(fixture);
    g_test_message("writer: %s", log);
    g_assert_nonnull(strstr(log, "agent hung up: BACKUP STAGE END"));
    workload_clear(&workload);
}

/* A prepare that no freeze follows (the host gave up, another writer
 * failed): the writer ends the stage itself after the prepare hold. */
static void test_prepare_hold_expires(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    /* 3 s: long enough that the probe (up to 1 s of lock wait) sees the
     * stage held on a loaded machine. */
    const char *extra[] = { "--prepare-hold", "3", NULL };
    start_writer(fixture, server, extra);
    g_autoptr(GError) error = NULL;
    WriterContext context = { "mariadb-hold", NULL };
    g_assert_true(writers_prepare(fixture->writers, &context, NULL, &error));
    g_assert_false(mariadb_server_backup_stage_free(server));
    g_usleep(3000 * 1000);
    g_assert_true(mariadb_server_backup_stage_free(server));
    g_autofree char *log = writer_log(fixture);
    g_assert_nonnull(strstr(log, "no freeze followed prepare in time: BACKUP STAGE END"));
}

/* The writer dies while frozen: the server ends the stage of the closed
 * connection by itself. */
static void test_writer_killed_releases(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    GPid writer_pid = start_writer(fixture, server, NULL);
    Workload workload = { .fd = -1 };
    GPid workload_pid = 0;
    gint64 held_at = freeze_with_workload(fixture, server, &workload, &workload_pid);
    fixture_kill_child(fixture, writer_pid);
    assert_commits_resume(&workload, held_at);
    g_assert_true(mariadb_server_backup_stage_free(server));
    g_autoptr(GError) error = NULL;
    g_assert_false(writers_window_intact(fixture->writers, &error)); /* agent noticed */
    workload_clear(&workload);
}

/* A blocker thread's statement, run on its own connection. */
typedef struct {
    const MariadbServer *server;
    char *sql;
} Blocker;

static gpointer blocker_run(gpointer data)
{
    Blocker *blocker = data;
    MYSQL *conn = mariadb_server_connect(blocker->server);
    g_free(mariadb_server_try(conn, blocker->sql));
    mysql_close(conn);
    return NULL;
}

/* LOCK TABLES ... WRITE elsewhere: BACKUP STAGE START cannot get its lock,
 * so prepare fails in its time with MariaDB's error, holding nothing. */
static void test_prepare_lock_timeout(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    g_autofree char *database = create_database(server);
    const char *extra[] = { "--prepare-timeout", "2", NULL };
    start_writer(fixture, server, extra);
    MYSQL *locker = mariadb_server_connect(server);
    g_autofree char *lock = g_strdup_printf("LOCK TABLES `%s`.rows WRITE", database);
    mariadb_server_exec(locker, lock);

    g_autoptr(GError) error = NULL;
    WriterContext context = { "mariadb-timeout", NULL };
    gint64 start = g_get_monotonic_time();
    g_assert_false(writers_prepare(fixture->writers, &context, NULL, &error));
    gint64 took_ms = (g_get_monotonic_time() - start) / 1000;
    g_assert_nonnull(error);
    g_test_message("prepare failed after %" G_GINT64_FORMAT " ms: %s", took_ms, error->message);
    g_assert_cmpint(took_ms, >=, 1900);
    g_assert_cmpint(took_ms, <, 6000);
    g_assert_nonnull(strstr(error->message, "app-db"));
    g_assert_nonnull(strstr(error->message, "MariaDB BACKUP STAGE START: Lock wait timeout "
                                            "exceeded"));
    mariadb_server_exec(locker, "UNLOCK TABLES");
    mysql_close(locker);
    g_assert_true(mariadb_server_backup_stage_free(server));
}

/* A long write to a MyISAM table: BLOCK_DDL waits for it, so freeze fails
 * in its time with MariaDB's error and ends the stage prepare took. */
static void test_freeze_lock_timeout(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    g_autofree char *database = create_database(server);
    const char *extra[] = { "--freeze-timeout", "2", NULL };
    start_writer(fixture, server, extra);
    MYSQL *conn = mariadb_server_connect(server);
    g_autofree char *create = g_strdup_printf("CREATE TABLE `%s`.m (v INT) ENGINE=MyISAM",
                                              database);
    mariadb_server_exec(conn, create);
    Blocker blocker = { server, g_strdup_printf("INSERT INTO `%s`.m SELECT SLEEP(6)", database) };

    g_autoptr(GError) error = NULL;
    WriterContext context = { "mariadb-timeout", NULL };
    /* Started before prepare: FLUSH makes later MyISAM writes wait for the
     * release instead of running, while one already running keeps going. */
    GThread *thread = g_thread_new("blocker", blocker_run, &blocker);
    g_usleep(500 * 1000); /* the INSERT is running */
    g_assert_true(writers_prepare(fixture->writers, &context, NULL, &error));
    gint64 start = g_get_monotonic_time();
    g_assert_false(writers_freeze(fixture->writers, &context, NULL, &error));
    gint64 took_ms = (g_get_monotonic_time() - start) / 1000;
    g_assert_nonnull(error);
    g_test_message("freeze failed after %" G_GINT64_FORMAT " ms: %s", took_ms, error->message);
    g_assert_cmpint(took_ms, >=, 1900);
    g_assert_cmpint(took_ms, <, 5000);
    g_assert_nonnull(strstr(error->message, "MariaDB BACKUP STAGE BLOCK_DDL: Lock wait timeout "
                                            "exceeded"));
    /* Holding nothing: our own START gets through while the INSERT runs. */
    g_assert_true(mariadb_server_backup_stage_free(server));
    g_thread_join(thread);
    g_free(blocker.sql);
    mysql_close(conn);
}

/* The same from a freeze with no prepare before it (guest-fsfreeze-freeze):
 * START and FLUSH succeed in the freeze, BLOCK_DDL times out, and the
 * stages taken on the way are ended too. */
static void test_freeze_alone_lock_timeout(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    g_autofree char *database = create_database(server);
    const char *extra[] = { "--freeze-timeout", "2", NULL };
    start_writer(fixture, server, extra);
    MYSQL *conn = mariadb_server_connect(server);
    g_autofree char *create = g_strdup_printf("CREATE TABLE `%s`.m (v INT) ENGINE=MyISAM",
                                              database);
    mariadb_server_exec(conn, create);
    Blocker blocker = { server, g_strdup_printf("INSERT INTO `%s`.m SELECT SLEEP(6)", database) };
    GThread *thread = g_thread_new("blocker", blocker_run, &blocker);
    g_usleep(500 * 1000);
    g_autoptr(GError) error = NULL;
    WriterContext context = { NULL, NULL };
    g_assert_false(writers_freeze(fixture->writers, &context, NULL, &error));
    g_assert_nonnull(error);
    g_test_message("freeze alone failed: %s", error->message);
    g_assert_nonnull(strstr(error->message, "MariaDB BACKUP STAGE BLOCK_DDL: Lock wait timeout"));
    g_assert_true(mariadb_server_backup_stage_free(server));
    g_thread_join(thread);
    g_free(blocker.sql);
    mysql_close(conn);
}

/* The agent gives up on the writer before MariaDB's limit: it disconnects
 * the writer, which must still end up holding nothing. */
static void test_writer_timeout_releases(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    g_autofree char *database = create_database(server);
    fixture->config.writer_timeout_ms = 1000;
    const char *extra[] = { "--freeze-timeout", "4", NULL };
    GPid writer_pid = start_writer(fixture, server, extra);
    MYSQL *conn = mariadb_server_connect(server);
    g_autofree char *create = g_strdup_printf("CREATE TABLE `%s`.m (v INT) ENGINE=MyISAM",
                                              database);
    mariadb_server_exec(conn, create);
    Blocker blocker = { server, g_strdup_printf("INSERT INTO `%s`.m SELECT SLEEP(8)", database) };

    g_autoptr(GError) error = NULL;
    WriterContext context = { "mariadb-agent-timeout", NULL };
    GThread *thread = g_thread_new("blocker", blocker_run, &blocker);
    g_usleep(500 * 1000);
    g_assert_true(writers_prepare(fixture->writers, &context, NULL, &error));
    g_assert_false(writers_freeze(fixture->writers, &context, NULL, &error));
    g_test_message("agent: %s", error->message);
    /* The writer's own limit ends its statement; it then releases and, its
     * agent gone, exits (--once). */
    g_assert_true(pid_wait_gone(writer_pid, 8000));
    g_assert_true(mariadb_server_backup_stage_free(server));
    g_autofree char *log = writer_log(fixture);
    g_test_message("writer: %s", log);
    g_assert_nonnull(strstr(log, "freeze failed: MariaDB BACKUP STAGE BLOCK_DDL"));
    g_thread_join(thread);
    g_free(blocker.sql);
    mysql_close(conn);
}

/* The paths only the agent takes, with the real quiesced in front of the
 * writer (writer-agent.h): its window expiring, the host that prepared
 * going away, the agent SIGKILLed, and its writer timeout. Each must leave
 * no backup stage held, commits flowing and DDL going through, within its
 * bound. The control of each path SIGSTOPs the writer just before the
 * release is due (a writer that does not let go): the same checks then see
 * the stage still held and the commits still waiting at the bound, and the
 * stage goes only once the writer runs again. */
typedef struct {
    const MariadbServer *server;
    WriterAgentPath path;
    gboolean control;
} AgentCase;

/* Probes until no backup stage is held or @deadline (monotonic µs)
 * passes; each probe waits up to 1 s for the stage. */
static gboolean backup_stage_free_by(const MariadbServer *server, gint64 deadline)
{
    for (;;) {
        if (mariadb_server_backup_stage_free(server)) {
            return TRUE;
        }
        if (g_get_monotonic_time() >= deadline) {
            return FALSE;
        }
        g_usleep(100 * 1000);
    }
}

static void assert_ddl_goes_through(const MariadbServer *server, const char *database)
{
    MYSQL *conn = mariadb_server_connect(server);
    g_autofree char *alter = g_strdup_printf(
        "SET STATEMENT lock_wait_timeout=5 FOR ALTER TABLE `%s`.rows ADD COLUMN y INT", database);
    mariadb_server_exec(conn, alter);
    mysql_close(conn);
}

static void test_agent_path(Fixture *fixture, gconstpointer data)
{
    const AgentCase *test = data;
    const MariadbServer *server = test->server;
    g_autoptr(WriterAgent) agent = writer_agent_new_for(test->path);
    if (!agent) {
        return; /* skipped */
    }
    gboolean timeout_path = test->path == WRITER_AGENT_WRITER_TIMEOUT;
    g_autofree char *database = create_database(server);
    const char *extra[] = { "--freeze-timeout", "5", NULL };
    GPid writer_pid = spawn_writer_at(fixture, server, agent->writer_socket, extra);
    g_autofree char *log_path = g_build_filename(fixture->dir, "writer.log", NULL);
    g_assert_true(file_wait_contains(log_path, "registered with the agent", 5000));
    Workload workload = { .fd = -1 };
    GPid workload_pid = spawn_workload(fixture, server, database, &workload);
    g_assert_cmpint(workload_wait_for(&workload, 10, 10000), >=, 10);

    MYSQL *myisam = NULL;
    GThread *thread = NULL;
    Blocker blocker = { server, NULL };
    if (timeout_path) {
        /* A long MyISAM write makes BLOCK_DDL wait past the agent's limit
         * (test_freeze_lock_timeout). */
        myisam = mariadb_server_connect(server);
        g_autofree char *create =
            g_strdup_printf("CREATE TABLE `%s`.m (v INT) ENGINE=MyISAM", database);
        mariadb_server_exec(myisam, create);
        blocker.sql = g_strdup_printf("INSERT INTO `%s`.m SELECT SLEEP(10)", database);
        thread = g_thread_new("blocker", blocker_run, &blocker);
        g_usleep(500 * 1000);
    }

    gint64 start = g_get_monotonic_time();
    g_autofree char *prepare = writer_agent_prepare(agent, test->path, "app-db");
    gint64 held_at = timeout_path ? 0 : assert_commits_held(&workload, workload_pid, 300);
    /* Still held: the checks below can see a held stage. */
    g_assert_false(mariadb_server_backup_stage_free(server));
    if (test->control) {
        kill(writer_pid, SIGSTOP);
    }
    if (test->path == WRITER_AGENT_KILLED) {
        writer_agent_kill(agent);
    }
    /* The writer's own limit (--freeze-timeout 5) ends its BLOCK_DDL. */
    gint64 bound = writer_agent_release_bound(test->path, start, 5);
    gboolean free = backup_stage_free_by(server, bound);
    g_test_message("%s %.1f s after prepare", free ? "released" : "still held",
                   (g_get_monotonic_time() - start) / 1e6);
    if (test->control) {
        g_assert_false(free);
        if (!timeout_path) {
            gint64 lines = workload.lines;
            workload_read(&workload, 500);
            g_assert_cmpint(workload.lines, ==, lines); /* commits still wait */
        }
        kill(writer_pid, SIGCONT);
        free = backup_stage_free_by(server, g_get_monotonic_time() + 5 * G_USEC_PER_SEC);
    }
    g_assert_true(free);
    if (!timeout_path) {
        assert_commits_resume(&workload, held_at);
    }
    assert_ddl_goes_through(server, database);
    g_autofree char *log = writer_log(fixture);
    g_test_message("writer: %s", log);
    const char *released = test->path == WRITER_AGENT_KILLED ? "agent hung up: BACKUP STAGE END"
                           : timeout_path ? "freeze failed: MariaDB BACKUP STAGE BLOCK_DDL"
                                          : "freeze-fail: BACKUP STAGE END";
    g_assert_nonnull(strstr(log, released));
    writer_agent_assert_ended(agent, test->path, prepare);
    if (thread) {
        g_thread_join(thread);
        g_free(blocker.sql);
        mysql_close(myisam);
    }
    workload_clear(&workload);
}

/* The controls of thaw and freeze-fail on the writers module: the writer
 * SIGSTOPped once frozen cannot answer (the agent gives up on it after its
 * 1 s timeout), and the same checks as freeze-fail-releases and the
 * window's see the stage still held and the commits still waiting; once it
 * runs again it reads the event and lets go. */
typedef struct {
    const MariadbServer *server;
    gboolean thaw;
} ReleaseControl;

static void test_release_control(Fixture *fixture, gconstpointer data)
{
    const ReleaseControl *test = data;
    const MariadbServer *server = test->server;
    fixture->config.writer_timeout_ms = 1000;
    GPid writer_pid = start_writer(fixture, server, NULL);
    Workload workload = { .fd = -1 };
    GPid workload_pid = 0;
    gint64 held_at = freeze_with_workload(fixture, server, &workload, &workload_pid);
    kill(writer_pid, SIGSTOP);
    WriterContext context = { "mariadb-release", NULL };
    if (test->thaw) {
        g_autoptr(GError) error = NULL;
        g_assert_false(writers_thaw(fixture->writers, &context, NULL, &error));
        g_test_message("thaw: %s", error->message);
    } else {
        writers_freeze_fail(fixture->writers, &context);
    }
    assert_commits_held(&workload, workload_pid, 500);
    g_assert_false(mariadb_server_backup_stage_free(server));
    kill(writer_pid, SIGCONT);
    g_assert_true(backup_stage_free_by(server, g_get_monotonic_time() + 5 * G_USEC_PER_SEC));
    assert_commits_resume(&workload, held_at);
    g_autofree char *log = writer_log(fixture);
    g_assert_nonnull(strstr(log, test->thaw ? "thaw: BACKUP STAGE END"
                                            : "freeze-fail: BACKUP STAGE END"));
    workload_clear(&workload);
}

/* No server behind the socket: nothing to protect, every phase ok. */
static void test_not_running(Fixture *fixture, gconstpointer data)
{
    const MariadbServer *server = data;
    g_autofree char *nowhere = g_build_filename(fixture->dir, "no-mysqld.sock", NULL);
    const char *extra[] = { "--mariadb-socket", nowhere, NULL };
    start_writer(fixture, server, extra);
    g_autoptr(GError) error = NULL;
    WriterContext context = { "mariadb-absent", NULL };
    g_assert_true(writers_prepare(fixture->writers, &context, NULL, &error));
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    g_assert_true(writers_thaw(fixture->writers, &context, NULL, &error));
    g_assert_no_error(error);
    g_autofree char *log = writer_log(fixture);
    g_test_message("writer: %s", log);
    g_assert_nonnull(strstr(log, "prepare: server not running, nothing to protect"));
    g_assert_nonnull(strstr(log, "freeze: server not running, nothing to protect"));
}

/* Ids 1..@acked acknowledged by the server: how many of them it has now. */
static gint64 count_present(const MariadbServer *server, const char *database, gint64 acked)
{
    MYSQL *conn = mariadb_server_connect(server);
    g_autofree char *sql = g_strdup_printf(
        "SELECT COUNT(*) FROM `%s`.rows WHERE id <= %" G_GINT64_FORMAT, database, acked);
    g_autofree char *count = mariadb_server_value(conn, sql);
    mysql_close(conn);
    return g_ascii_strtoll(count, NULL, 10);
}

/* With innodb_flush_log_at_trx_commit=0 the server acknowledges commits its
 * redo log on disk does not hold yet (written every
 * innodb_flush_log_at_timeout, 3 s here). A crash at that moment loses
 * them: the negative control, a SIGKILL with no writer, shows it. Once the
 * writer's freeze has answered, a SIGKILL loses no acknowledged commit:
 * that is what a snapshot taken in the window holds (docs/mariadb.md §5). */
static void crash_with_flush_at_timeout(MariadbServer *server, Workload *workload,
                                        gint64 *acked)
{
    workload_read(workload, 300);
    *acked = workload->last_id;
    mariadb_server_kill(server);
    workload_clear(workload);
    mariadb_server_restart(server);
}

static void relaxed_durability(const MariadbServer *server)
{
    MYSQL *conn = mariadb_server_connect(server);
    mariadb_server_exec(conn, "SET GLOBAL innodb_flush_log_at_trx_commit=0, "
                              "innodb_flush_log_at_timeout=3");
    mysql_close(conn);
}

static void test_redo_on_disk(Fixture *fixture, gconstpointer data)
{
    MariadbServer *server = (MariadbServer *)data;
    g_autofree char *database = create_database(server);
    relaxed_durability(server);
    Workload workload = { .fd = -1 };
    spawn_workload(fixture, server, database, &workload);
    g_assert_cmpint(workload_wait_for(&workload, 50, 10000), >=, 50);
    gint64 acked = 0;
    crash_with_flush_at_timeout(server, &workload, &acked);
    gint64 present = count_present(server, database, acked);
    g_test_message("no writer: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                   " acknowledged commits survived the crash", present, acked);
    g_assert_cmpint(present, <, acked); /* the check can see a loss */

    /* The same with the writer frozen (the server restarted with the
     * defaults, so relaxed again). */
    relaxed_durability(server);
    start_writer(fixture, server, NULL);
    Workload frozen = { .fd = -1 };
    spawn_workload(fixture, server, database, &frozen);
    g_assert_cmpint(workload_wait_for(&frozen, acked + 50, 10000), >=, acked + 50);
    g_autoptr(GError) error = NULL;
    WriterContext context = { "mariadb-redo", NULL };
    g_assert_true(writers_prepare(fixture->writers, &context, NULL, &error));
    gint64 start = g_get_monotonic_time();
    g_assert_true(writers_freeze(fixture->writers, &context, NULL, &error));
    g_assert_no_error(error);
    g_test_message("freeze (with the wait for the redo log) took %" G_GINT64_FORMAT " ms",
                   (g_get_monotonic_time() - start) / 1000);
    gint64 frozen_acked = 0;
    crash_with_flush_at_timeout(server, &frozen, &frozen_acked);
    present = count_present(server, database, frozen_acked);
    g_test_message("writer frozen: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                   " acknowledged commits survived the crash", present, frozen_acked);
    g_assert_cmpint(present, ==, frozen_acked);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_getenv("QUIESCE_MARIADB_WRITER") || !g_getenv("QUIESCE_MARIADB_WORKLOAD")) {
        return quiesce_test_exit_missing(
            "the MariaDB writer (QUIESCE_MARIADB_WRITER/WORKLOAD not set: run through ctest)");
    }
    g_autofree char *missing = mariadb_server_missing();
    if (missing) {
        return quiesce_test_exit_missing(missing);
    }
    MariadbServer server = { 0 };
    mariadb_server_start(&server);
#define ADD(path, func) QUIESCE_TEST_ADD(path, Fixture, &server, fixture_setup, func, fixture_teardown)
    ADD("/writers/mariadb/window", test_window);
    ADD("/writers/mariadb/freeze-fail-releases", test_freeze_fail_releases);
    ADD("/writers/mariadb/hangup-releases", test_hangup_releases);
    ReleaseControl release_controls[] = { { &server, TRUE }, { &server, FALSE } };
    QUIESCE_TEST_ADD("/writers/mariadb/thaw-control", Fixture, &release_controls[0],
                     fixture_setup, test_release_control, fixture_teardown);
    QUIESCE_TEST_ADD("/writers/mariadb/freeze-fail-control", Fixture, &release_controls[1],
                     fixture_setup, test_release_control, fixture_teardown);
    ADD("/writers/mariadb/writer-killed-releases", test_writer_killed_releases);
    ADD("/writers/mariadb/prepare-hold-expires", test_prepare_hold_expires);
    ADD("/writers/mariadb/writer-timeout-releases", test_writer_timeout_releases);
    ADD("/writers/mariadb/prepare-lock-timeout", test_prepare_lock_timeout);
    ADD("/writers/mariadb/freeze-lock-timeout", test_freeze_lock_timeout);
    ADD("/writers/mariadb/freeze-alone-lock-timeout", test_freeze_alone_lock_timeout);
    ADD("/writers/mariadb/not-running", test_not_running);
    static AgentCase cases[2 * WRITER_AGENT_N_PATHS];
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        cases[i] = (AgentCase){ &server, (WriterAgentPath)(i / 2), i % 2 == 1 };
        g_autofree char *path = g_strdup_printf("/writers/mariadb/agent%s/%s",
                                                cases[i].control ? "-control" : "",
                                                writer_agent_path_names[i / 2]);
        QUIESCE_TEST_ADD(path, Fixture, &cases[i], fixture_setup, test_agent_path,
                         fixture_teardown);
    }
    /* Last: it crashes and restarts the server. */
    ADD("/writers/mariadb/redo-on-disk", test_redo_on_disk);
#undef ADD
    int rc = quiesce_test_run();
    mariadb_server_stop(&server);
    return rc;
}
