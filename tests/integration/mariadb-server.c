/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mariadb-server.c — see mariadb-server.h.
 */
#include "tests/integration/mariadb-server.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define INSTALL_DB "/usr/bin/mariadb-install-db"
#define MARIADBD "/usr/sbin/mariadbd"

char *mariadb_server_missing(void)
{
    if (!g_file_test(MARIADBD, G_FILE_TEST_IS_EXECUTABLE) ||
        !g_file_test(INSTALL_DB, G_FILE_TEST_IS_EXECUTABLE)) {
        return g_strdup(MARIADBD " and " INSTALL_DB " (package mariadb-server, "
                        "scripts/install-deps.sh)");
    }
    if (geteuid() == 0 && !getpwnam("nobody")) {
        return g_strdup("a user 'nobody' to run mariadbd as");
    }
    return NULL;
}

/* In the child: drop to nobody when root, then die with the test. */
static void server_child_setup(gpointer data)
{
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("nobody");
        if (!pw || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
            _exit(127);
        }
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* after setuid, which would clear it */
}

static void remove_tree(const char *path)
{
    const char *argv[] = { "rm", "-rf", path, NULL };
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                 NULL);
}

void mariadb_server_start(MariadbServer *server)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("quiesce-mariadb-XXXXXX", &error);
    g_assert_no_error(error);
    server->dir = realpath(tmp, NULL);
    g_assert_nonnull(server->dir);
    g_assert_cmpint(chmod(server->dir, 0755), ==, 0);
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("nobody");
        g_assert_nonnull(pw);
        g_assert_cmpint(chown(server->dir, pw->pw_uid, pw->pw_gid), ==, 0);
    }
    g_autofree char *datadir = g_build_filename(server->dir, "data", NULL);
    g_autofree char *datadir_arg = g_strconcat("--datadir=", datadir, NULL);
    server->socket_path = g_build_filename(server->dir, "mysqld.sock", NULL);
    server->error_log = g_build_filename(server->dir, "error.log", NULL);
    server->defaults_file = g_build_filename(server->dir, "client.cnf", NULL);
    g_autofree char *defaults = g_strdup_printf("[client]\nuser=root\nsocket=%s\n",
                                                server->socket_path);
    g_assert_true(g_file_set_contents(server->defaults_file, defaults, -1, NULL));

    const char *install_argv[] = { INSTALL_DB, "--no-defaults", datadir_arg,
                                   "--auth-root-authentication-method=normal",
                                   "--skip-test-db", NULL };
    g_autofree char *install_out = NULL;
    int status = -1;
    g_spawn_sync(server->dir, (char **)install_argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                 server_child_setup, NULL, &install_out, NULL, &status, &error);
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_test_message("%s", install_out);
        g_assert_not_reached();
    }

    mariadb_server_restart(server);
}

void mariadb_server_restart(MariadbServer *server)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *datadir = g_build_filename(server->dir, "data", NULL);
    g_autofree char *datadir_arg = g_strconcat("--datadir=", datadir, NULL);
    g_autofree char *socket_arg = g_strconcat("--socket=", server->socket_path, NULL);
    g_autofree char *log_arg = g_strconcat("--log-error=", server->error_log, NULL);
    g_autofree char *pid_arg = g_strconcat("--pid-file=", server->dir, "/mysqld.pid", NULL);
    const char *argv[] = { MARIADBD, "--no-defaults", datadir_arg, socket_arg, log_arg,
                           pid_arg, "--skip-networking", "--innodb-buffer-pool-size=32M",
                           "--innodb-log-file-size=16M", NULL };
    g_spawn_async(server->dir, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                  server_child_setup, NULL, &server->pid, &error);
    g_assert_no_error(error);

    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    for (;;) {
        MYSQL *conn = mysql_init(NULL);
        if (mysql_real_connect(conn, NULL, "root", NULL, NULL, 0, server->socket_path, 0)) {
            mysql_close(conn);
            break;
        }
        mysql_close(conn);
        g_assert_cmpint(waitpid(server->pid, NULL, WNOHANG), ==, 0); /* still running */
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(100 * 1000);
    }
}

void mariadb_server_kill(MariadbServer *server)
{
    g_assert_cmpint(server->pid, >, 0);
    kill(server->pid, SIGKILL);
    waitpid(server->pid, NULL, 0);
    server->pid = 0;
}

void mariadb_server_stop(MariadbServer *server)
{
    if (server->pid > 0) {
        kill(server->pid, SIGTERM);
        waitpid(server->pid, NULL, 0);
        server->pid = 0;
    }
    if (server->dir) {
        remove_tree(server->dir);
    }
    g_clear_pointer(&server->dir, g_free);
    g_clear_pointer(&server->socket_path, g_free);
    g_clear_pointer(&server->defaults_file, g_free);
    g_clear_pointer(&server->error_log, g_free);
}

MYSQL *mariadb_server_connect(const MariadbServer *server)
{
    MYSQL *conn = mysql_init(NULL);
    g_assert_nonnull(conn);
    if (!mysql_real_connect(conn, NULL, "root", NULL, NULL, 0, server->socket_path, 0)) {
        g_error("connecting to the test's MariaDB: %s", mysql_error(conn));
    }
    return conn;
}

char *mariadb_server_try(MYSQL *conn, const char *sql)
{
    if (mysql_query(conn, sql) != 0) {
        return g_strdup_printf("%s (%u)", mysql_error(conn), mysql_errno(conn));
    }
    mysql_free_result(mysql_store_result(conn));
    return NULL;
}

void mariadb_server_exec(MYSQL *conn, const char *sql)
{
    g_autofree char *error = mariadb_server_try(conn, sql);
    if (error) {
        g_error("%s: %s", sql, error);
    }
}

char *mariadb_server_value(MYSQL *conn, const char *sql)
{
    if (mysql_query(conn, sql) != 0) {
        g_error("%s: %s", sql, mysql_error(conn));
    }
    MYSQL_RES *result = mysql_store_result(conn);
    g_assert_nonnull(result);
    MYSQL_ROW row = mysql_fetch_row(result);
    char *value = row && row[0] ? g_strdup(row[0]) : NULL;
    mysql_free_result(result);
    return value;
}

gboolean mariadb_server_backup_stage_free(const MariadbServer *server)
{
    MYSQL *conn = mariadb_server_connect(server);
    g_autofree char *error =
        mariadb_server_try(conn, "SET STATEMENT lock_wait_timeout=1 FOR BACKUP STAGE START");
    if (!error) {
        mariadb_server_exec(conn, "BACKUP STAGE END");
    }
    mysql_close(conn);
    return error == NULL;
}
