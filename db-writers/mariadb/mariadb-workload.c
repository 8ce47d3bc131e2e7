/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mariadb-workload.c — `quiesce-mariadb-workload`, a steady committer for a
 * MariaDB database, to show what a snapshot captured and what a freeze
 * window costs its clients (the tests, the vm scenario and bench/ use it).
 *
 *   quiesce-mariadb-workload --database NAME [--table T] [--engine E]
 *       [--socket PATH] [--defaults-file PATH] [--user NAME] [--create]
 *       [--interval-ms N] [--count N] [--tag TAG]
 *
 * Inserts one row per transaction (autocommit) into NAME.T (default rows:
 * id BIGINT PRIMARY KEY, written_ns BIGINT, payload VARCHAR(64), engine E,
 * default InnoDB), ids counting on from the table's largest, and after each
 * INSERT returns prints
 *
 *   committed ID REALTIME_NS STALL_NS
 *
 * or, with --tag, the line of tests/vm/vm-workload.c that tests/vm/lib.sh
 * reads from the guest's console,
 *
 *   committed TAG ID START_REALTIME_NS STALL_US
 *
 * on stdout (flushed): the server acknowledged the commit at that moment,
 * so a consistent snapshot taken later holds every id printed before it.
 * STALL_NS is how long that one commit took (a held BACKUP STAGE
 * BLOCK_COMMIT shows up as one long stall; the session's lock_wait_timeout
 * is raised to an hour so it waits instead of failing). --create makes the
 * database and the table. Stops after --count rows (0: never) or on
 * SIGTERM/SIGINT between commits; exits 1 on the first failed commit.
 */
#include <getopt.h>
#include <mysql.h>
#include <signal.h>
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

static int run(MYSQL *conn, const char *sql)
{
    if (mysql_query(conn, sql) != 0) {
        fprintf(stderr, "quiesce-mariadb-workload: %s: %s (%u)\n", sql, mysql_error(conn),
                mysql_errno(conn));
        return -1;
    }
    mysql_free_result(mysql_store_result(conn));
    return 0;
}

static long long next_id(MYSQL *conn, const char *database, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(id), 0) FROM `%s`.`%s`", database, table);
    if (mysql_query(conn, sql) != 0) {
        fprintf(stderr, "quiesce-mariadb-workload: %s: %s\n", sql, mysql_error(conn));
        return -1;
    }
    MYSQL_RES *result = mysql_store_result(conn);
    MYSQL_ROW row = result ? mysql_fetch_row(result) : NULL;
    long long id = row && row[0] ? atoll(row[0]) + 1 : -1;
    mysql_free_result(result);
    return id;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "database", required_argument, NULL, 'd' },
        { "socket", required_argument, NULL, 's' },
        { "defaults-file", required_argument, NULL, 'f' },
        { "user", required_argument, NULL, 'u' },
        { "create", no_argument, NULL, 'c' },
        { "interval-ms", required_argument, NULL, 'i' },
        { "count", required_argument, NULL, 'n' },
        { "table", required_argument, NULL, 't' },
        { "engine", required_argument, NULL, 'e' },
        { "tag", required_argument, NULL, 'T' },
        { NULL, 0, NULL, 0 },
    };
    const char *database = NULL, *socket = NULL, *defaults = NULL, *user = NULL;
    const char *table = "rows", *engine = "InnoDB", *tag = NULL;
    int create = 0, interval_ms = 10;
    long long count = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': database = optarg; break;
        case 's': socket = optarg; break;
        case 'f': defaults = optarg; break;
        case 'u': user = optarg; break;
        case 'c': create = 1; break;
        case 'i': interval_ms = atoi(optarg); break;
        case 'n': count = atoll(optarg); break;
        case 't': table = optarg; break;
        case 'e': engine = optarg; break;
        case 'T': tag = optarg; break;
        default:
            fprintf(stderr, "usage: quiesce-mariadb-workload --database NAME [--socket PATH] "
                            "[--defaults-file PATH] [--user NAME] [--create] "
                            "[--interval-ms N] [--count N] [--table T] [--engine E] "
                            "[--tag TAG]\n");
            return 2;
        }
    }
    if (!database || strchr(database, '`') || strchr(table, '`') ||
        strspn(engine, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != strlen(engine) ||
        interval_ms < 0) {
        fprintf(stderr, "quiesce-mariadb-workload: --database NAME is required (and names "
                        "without backquotes)\n");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    MYSQL *conn = mysql_init(NULL);
    if (defaults) {
        mysql_options(conn, MYSQL_READ_DEFAULT_FILE, defaults);
    }
    mysql_options(conn, MYSQL_READ_DEFAULT_GROUP, "client");
    if (!mysql_real_connect(conn, NULL, user, NULL, NULL, 0, socket, 0)) {
        fprintf(stderr, "quiesce-mariadb-workload: connect: %s\n", mysql_error(conn));
        return 1;
    }
    char sql[512];
    if (create) {
        snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS `%s`", database);
        if (run(conn, sql) < 0) {
            return 1;
        }
        snprintf(sql, sizeof sql,
                 "CREATE TABLE IF NOT EXISTS `%s`.`%s` (id BIGINT PRIMARY KEY, "
                 "written_ns BIGINT NOT NULL, payload VARCHAR(64) NOT NULL) ENGINE=%s",
                 database, table, engine);
        if (run(conn, sql) < 0) {
            return 1;
        }
    }
    if (run(conn, "SET SESSION lock_wait_timeout=3600, autocommit=1") < 0) {
        return 1;
    }
    long long id = next_id(conn, database, table);
    if (id < 0) {
        return 1;
    }
    for (long long done = 0; !stop_requested && (count == 0 || done < count); done++, id++) {
        long long start = clock_ns(CLOCK_MONOTONIC);
        long long start_real = clock_ns(CLOCK_REALTIME);
        snprintf(sql, sizeof sql,
                 "INSERT INTO `%s`.`%s` (id, written_ns, payload) "
                 "VALUES (%lld, %lld, 'row %lld of the workload')",
                 database, table, id, start_real, id);
        if (run(conn, sql) < 0) {
            return 1;
        }
        long long stall = clock_ns(CLOCK_MONOTONIC) - start;
        if (tag) {
            printf("committed %s %lld %lld %lld\n", tag, id, start_real, stall / 1000);
        } else {
            printf("committed %lld %lld %lld\n", id, clock_ns(CLOCK_REALTIME), stall);
        }
        fflush(stdout);
        if (interval_ms > 0) {
            struct timespec pause = { interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L };
            nanosleep(&pause, NULL);
        }
    }
    mysql_close(conn);
    return 0;
}
