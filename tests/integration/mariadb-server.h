/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mariadb-server.h — a real MariaDB server of the tests' own: Debian's
 * mariadbd and mariadb-install-db (package mariadb-server) run as an
 * unprivileged user (nobody when the test is root, else the test's user)
 * in a temp dir with its own socket, --skip-networking and --no-defaults,
 * so it never meets a system instance or its configuration. It dies with
 * the test (PR_SET_PDEATHSIG). root logs in without a password (the
 * datadir is made with --auth-root-authentication-method=normal); the
 * defaults file says so for clients (the writer's --defaults-file).
 */
#ifndef QUIESCE_TESTS_MARIADB_SERVER_H
#define QUIESCE_TESTS_MARIADB_SERVER_H

#include <glib.h>
#include <mysql.h>

typedef struct {
    char *dir;           /* temp dir, 0755: data/, the socket, logs */
    char *socket_path;
    char *defaults_file; /* [client] user=root socket=... */
    char *error_log;
    GPid pid;
} MariadbServer;

/* NULL when mariadbd and mariadb-install-db are there, else (transfer full)
 * what is missing. */
char *mariadb_server_missing(void);

/* Creates the datadir and starts the server; asserts it answers within
 * 60 s. */
void mariadb_server_start(MariadbServer *server);
/* SIGKILLs the server (a crash: what it had not written is lost). */
void mariadb_server_kill(MariadbServer *server);
/* Starts it again on the same datadir (asserts it answers within 60 s). */
void mariadb_server_restart(MariadbServer *server);
/* SIGTERM, waits for it to exit, removes the temp dir. */
void mariadb_server_stop(MariadbServer *server);

/* (transfer full) A new connection as root (asserts). */
MYSQL *mariadb_server_connect(const MariadbServer *server);
/* Runs @sql; NULL on success, else (transfer full) "error text (errno)". */
char *mariadb_server_try(MYSQL *conn, const char *sql);
/* Runs @sql and asserts it succeeds. */
void mariadb_server_exec(MYSQL *conn, const char *sql);
/* (transfer full) The first column of the first row of @sql (asserts). */
char *mariadb_server_value(MYSQL *conn, const char *sql);

/* TRUE when no connection holds a backup stage: a BACKUP STAGE START of
 * our own gets through within a second (the server runs one at a time). */
gboolean mariadb_server_backup_stage_free(const MariadbServer *server);

#endif
