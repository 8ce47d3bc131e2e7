/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mariadb-stage.h — MariaDB's BACKUP STAGE sequence, held by one connection
 * that lives from prepare to thaw (docs/mariadb.md says what this relies on).
 *
 *   prepare      BACKUP STAGE START, BACKUP STAGE FLUSH: the flushing and
 *                closing of idle non-transactional tables happens here,
 *                outside the window. Held until freeze, for at most the
 *                prepare hold (the caller ends it when no freeze comes).
 *   freeze       BACKUP STAGE BLOCK_DDL, BACKUP STAGE BLOCK_COMMIT (from
 *                START if prepare did not run); then, when
 *                innodb_flush_log_at_trx_commit=0, waits until InnoDB's
 *                redo log on disk reaches the LSN of that moment, so every
 *                commit acknowledged so far is in it.
 *   release      BACKUP STAGE END; when that fails, the connection is
 *                closed, which ends the backup stage in the server too.
 *
 * Every statement runs under SET STATEMENT lock_wait_timeout and
 * max_statement_time taken from what is left of the phase's time, and the
 * connection has a client read timeout past the longest phase, so a phase
 * never outlasts its limit by more than a round trip. A server that is not
 * running (nothing listens on its socket) is not an error: there is nothing
 * to protect, and the functions say so with MARIADB_STAGE_NOT_RUNNING.
 */
#ifndef QUIESCE_DB_WRITERS_MARIADB_STAGE_H
#define QUIESCE_DB_WRITERS_MARIADB_STAGE_H

#include <stddef.h>

typedef struct {
    const char *socket;        /* MariaDB's unix socket; NULL: the option files' */
    const char *defaults_file; /* read instead of the usual option files; NULL: those */
    const char *group;         /* option-file group read besides [client] */
    const char *user;          /* NULL: the option files', else the effective user */
    unsigned connect_timeout_s;
    unsigned prepare_timeout_s;
    unsigned freeze_timeout_s;
    unsigned release_timeout_s;
} MariadbOptions;

typedef enum {
    MARIADB_HELD_NOTHING,
    MARIADB_HELD_PARTIAL,      /* a phase's first stages, while it runs */
    MARIADB_HELD_FLUSH,        /* after prepare: START and FLUSH */
    MARIADB_HELD_BLOCK_COMMIT, /* after freeze */
} MariadbHeld;

typedef enum {
    MARIADB_STAGE_OK = 0,
    MARIADB_STAGE_NOT_RUNNING = 1, /* nothing listens: nothing to protect */
    MARIADB_STAGE_FAILED = -1,     /* reason says why; nothing is held */
} MariadbStageResult;

typedef struct MariadbStage MariadbStage;

/* (transfer full) A stage with no connection yet; @options must outlive it. */
MariadbStage *mariadb_stage_new(const MariadbOptions *options);
/* Closes the connection (which ends any backup stage) and frees. */
void mariadb_stage_free(MariadbStage *stage);

MariadbHeld mariadb_stage_held(const MariadbStage *stage);

/* The phases. On MARIADB_STAGE_FAILED @reason holds MariaDB's error and
 * nothing is held; on MARIADB_STAGE_NOT_RUNNING it says so. */
MariadbStageResult mariadb_stage_prepare(MariadbStage *stage, char *reason, size_t size);
MariadbStageResult mariadb_stage_freeze(MariadbStage *stage, char *reason, size_t size);

/*
 * Ends the backup stage: BACKUP STAGE END, or closing the connection when
 * that fails. Afterwards nothing is held, always. Returns 0, or -1 when END
 * failed and the connection was closed instead (@reason says why; the lock
 * is gone with the connection).
 */
int mariadb_stage_release(MariadbStage *stage, char *reason, size_t size);

#endif
