/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mariadb-stage.c — the BACKUP STAGE sequence over libmariadb
 * (mariadb-stage.h; the server's behaviour it relies on: docs/mariadb.md).
 */
#include "db-writers/mariadb/mariadb-stage.h"

#include <errmsg.h>
#include <mysql.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct MariadbStage {
    const MariadbOptions *options;
    MYSQL *conn;
    MariadbHeld held;
};

/* Seconds past the longest phase before the client gives up on a silent
 * server: the server's own limits fire first. */
#define CLIENT_GRACE_S 5

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

MariadbStage *mariadb_stage_new(const MariadbOptions *options)
{
    MariadbStage *stage = calloc(1, sizeof *stage);
    if (!stage) {
        abort();
    }
    stage->options = options;
    return stage;
}

static void stage_disconnect(MariadbStage *stage)
{
    if (stage->conn) {
        mysql_close(stage->conn);
        stage->conn = NULL;
    }
    /* The server ends a connection's backup stage when the connection ends
     * (docs/mariadb.md §3). */
    stage->held = MARIADB_HELD_NOTHING;
}

void mariadb_stage_free(MariadbStage *stage)
{
    if (stage) {
        stage_disconnect(stage);
        free(stage);
    }
}

MariadbHeld mariadb_stage_held(const MariadbStage *stage)
{
    return stage->held;
}

static int error_is_not_running(unsigned err)
{
    return err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR;
}

static int error_is_gone(unsigned err)
{
    return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST;
}

static unsigned longest_phase_s(const MariadbOptions *options)
{
    unsigned longest = options->prepare_timeout_s;
    if (options->freeze_timeout_s > longest) {
        longest = options->freeze_timeout_s;
    }
    if (options->release_timeout_s > longest) {
        longest = options->release_timeout_s;
    }
    return longest;
}

/* Connects unless connected. MARIADB_STAGE_OK, NOT_RUNNING or FAILED. */
static MariadbStageResult stage_connect(MariadbStage *stage, char *reason, size_t size)
{
    if (stage->conn) {
        return MARIADB_STAGE_OK;
    }
    const MariadbOptions *options = stage->options;
    MYSQL *conn = mysql_init(NULL);
    if (!conn) {
        snprintf(reason, size, "MariaDB client: out of memory");
        return MARIADB_STAGE_FAILED;
    }
    unsigned connect_s = options->connect_timeout_s;
    unsigned io_s = longest_phase_s(options) + CLIENT_GRACE_S;
    mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &io_s);
    mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
    /* The effective user's name first (Debian's root logs in by
     * unix_socket), which a user= in the option files then overrides. */
    struct passwd *pw = getpwuid(geteuid());
    if (pw) {
        mysql_optionsv(conn, MARIADB_OPT_USER, pw->pw_name);
    }
    if (options->defaults_file) {
        mysql_options(conn, MYSQL_READ_DEFAULT_FILE, options->defaults_file);
    }
    mysql_options(conn, MYSQL_READ_DEFAULT_GROUP, options->group);
    if (!mysql_real_connect(conn, NULL, options->user, NULL, NULL, 0, options->socket, 0)) {
        unsigned err = mysql_errno(conn);
        snprintf(reason, size, "MariaDB: %s (%u)", mysql_error(conn), err);
        mysql_close(conn);
        return error_is_not_running(err) ? MARIADB_STAGE_NOT_RUNNING : MARIADB_STAGE_FAILED;
    }
    stage->conn = conn;
    return MARIADB_STAGE_OK;
}

/*
 * Runs @sql under the phase's @deadline (monotonic seconds): the server's
 * lock wait and statement time are what is left of it. Returns 0, or -1
 * with "MariaDB STATEMENT: error (errno)" in @reason; *gone is set when
 * the connection is lost.
 */
static int stage_run(MariadbStage *stage, const char *sql, double deadline, char *reason,
                     size_t size, int *gone)
{
    double left = deadline - monotonic_s();
    if (left < 1) {
        left = 1;
    }
    /* lock_wait_timeout is whole seconds: the nearest, so a phase ends
     * within half a second of its limit. */
    char statement[256];
    snprintf(statement, sizeof statement,
             "SET STATEMENT lock_wait_timeout=%u, max_statement_time=%.1f FOR %s",
             (unsigned)(left + 0.5), left + 0.5, sql);
    if (mysql_query(stage->conn, statement) == 0) {
        MYSQL_RES *result = mysql_store_result(stage->conn);
        mysql_free_result(result);
        return 0;
    }
    unsigned err = mysql_errno(stage->conn);
    snprintf(reason, size, "MariaDB %s: %s (%u)", sql, mysql_error(stage->conn), err);
    *gone = error_is_gone(err);
    return -1;
}

/* Runs @steps in order from a fresh START when nothing is held. On a failure
 * the stage is ended, so nothing stays held. */
typedef int (*StageAfter)(MariadbStage *stage, double deadline, char *reason, size_t size);

static MariadbStageResult stage_run_steps(MariadbStage *stage, const char *const *steps,
                                          StageAfter after, MariadbHeld reached,
                                          unsigned timeout_s, char *reason, size_t size)
{
    double deadline = monotonic_s() + timeout_s;
    for (int attempt = 0; attempt < 2; attempt++) {
        MariadbStageResult rc = stage_connect(stage, reason, size);
        if (rc != MARIADB_STAGE_OK) {
            return rc;
        }
        int gone = 0;
        int failed = 0;
        for (const char *const *step = steps; *step && !failed; step++) {
            failed = stage_run(stage, *step, deadline, reason, size, &gone) < 0;
            if (!failed && stage->held == MARIADB_HELD_NOTHING) {
                stage->held = MARIADB_HELD_PARTIAL; /* so a failure below ENDs it */
            }
        }
        if (!failed && after) {
            failed = after(stage, deadline, reason, size) < 0;
            gone = failed && error_is_gone(mysql_errno(stage->conn));
        }
        if (!failed) {
            stage->held = reached;
            return MARIADB_STAGE_OK;
        }
        if (!gone) {
            char ignored[256];
            mariadb_stage_release(stage, ignored, sizeof ignored);
            return MARIADB_STAGE_FAILED;
        }
        /* The connection was lost (the server restarted or stopped since
         * the last phase): start over once on a new one from START, which
         * also tells "not running" apart. */
        stage_disconnect(stage);
        if (steps[0] && strcmp(steps[0], "BACKUP STAGE START") != 0) {
            return MARIADB_STAGE_FAILED;
        }
    }
    return MARIADB_STAGE_FAILED;
}

static const char *const prepare_steps[] = {
    "BACKUP STAGE START",
    "BACKUP STAGE FLUSH",
    NULL,
};

static const char *const freeze_steps[] = {
    "BACKUP STAGE START",
    "BACKUP STAGE FLUSH",
    "BACKUP STAGE BLOCK_DDL",
    "BACKUP STAGE BLOCK_COMMIT",
    NULL,
};

/* The first column of the first row of @sql as a number, or -1 (reason set). */
static long long stage_number(MariadbStage *stage, const char *sql, char *reason, size_t size)
{
    if (mysql_query(stage->conn, sql) != 0) {
        snprintf(reason, size, "MariaDB %s: %s (%u)", sql, mysql_error(stage->conn),
                 mysql_errno(stage->conn));
        return -1;
    }
    MYSQL_RES *result = mysql_store_result(stage->conn);
    MYSQL_ROW row = result ? mysql_fetch_row(result) : NULL;
    long long value = row && row[0] ? strtoll(row[0], NULL, 10) : -1;
    mysql_free_result(result);
    if (value < 0) {
        snprintf(reason, size, "MariaDB %s: no number", sql);
    }
    return value;
}

#define LSN_STATUS(name)                                                                           \
    "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='" name "'"

/*
 * With innodb_flush_log_at_trx_commit=0 a commit is acknowledged before its
 * redo is written; InnoDB writes the log buffer once per
 * innodb_flush_log_at_timeout. Commits are blocked now, so wait until the
 * redo log on disk reaches the current LSN (docs/mariadb.md §5). With 1
 * or 2 each acknowledged commit was written at commit: nothing to wait for.
 */
static int stage_wait_redo(MariadbStage *stage, double deadline, char *reason, size_t size)
{
    long long mode = stage_number(stage, "SELECT @@innodb_flush_log_at_trx_commit", reason, size);
    if (mode != 0) {
        return mode < 0 ? -1 : 0;
    }
    long long current = stage_number(stage, LSN_STATUS("INNODB_LSN_CURRENT"), reason, size);
    if (current < 0) {
        return -1;
    }
    for (;;) {
        long long flushed = stage_number(stage, LSN_STATUS("INNODB_LSN_FLUSHED"), reason, size);
        if (flushed < 0) {
            return -1;
        }
        if (flushed >= current) {
            return 0;
        }
        if (monotonic_s() >= deadline) {
            snprintf(reason, size, "MariaDB: InnoDB's redo log was not written up to the last "
                     "commit in time (LSN %lld flushed, %lld needed; "
                     "innodb_flush_log_at_trx_commit=0)", flushed, current);
            return -1;
        }
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
}

MariadbStageResult mariadb_stage_prepare(MariadbStage *stage, char *reason, size_t size)
{
    if (stage->held != MARIADB_HELD_NOTHING) {
        char ignored[256];
        mariadb_stage_release(stage, ignored, sizeof ignored); /* a stale one */
    }
    return stage_run_steps(stage, prepare_steps, NULL, MARIADB_HELD_FLUSH,
                           stage->options->prepare_timeout_s, reason, size);
}

MariadbStageResult mariadb_stage_freeze(MariadbStage *stage, char *reason, size_t size)
{
    const char *const *steps = freeze_steps;
    if (stage->held == MARIADB_HELD_FLUSH) {
        steps = freeze_steps + 2; /* prepare did START and FLUSH */
    } else if (stage->held == MARIADB_HELD_BLOCK_COMMIT) {
        return MARIADB_STAGE_OK; /* a second freeze without thaw */
    }
    MariadbStageResult rc = stage_run_steps(stage, steps, stage_wait_redo,
                                            MARIADB_HELD_BLOCK_COMMIT,
                                            stage->options->freeze_timeout_s, reason, size);
    if (rc == MARIADB_STAGE_FAILED && steps != freeze_steps && stage->conn == NULL) {
        /* The server went away between prepare and freeze: from START. */
        rc = stage_run_steps(stage, freeze_steps, stage_wait_redo, MARIADB_HELD_BLOCK_COMMIT,
                             stage->options->freeze_timeout_s, reason, size);
    }
    return rc;
}

int mariadb_stage_release(MariadbStage *stage, char *reason, size_t size)
{
    if (stage->held == MARIADB_HELD_NOTHING || !stage->conn) {
        stage->held = MARIADB_HELD_NOTHING;
        return 0;
    }
    int gone = 0;
    double deadline = monotonic_s() + stage->options->release_timeout_s;
    if (stage_run(stage, "BACKUP STAGE END", deadline, reason, size, &gone) == 0) {
        stage->held = MARIADB_HELD_NOTHING;
        return 0;
    }
    stage_disconnect(stage);
    return -1;
}
