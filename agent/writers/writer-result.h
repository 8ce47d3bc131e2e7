/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writer-result.h — what running one writer for one phase produced
 * (WriterRun, internal to agent/writers/) and how a failed writer is
 * reported to the engine (WriterFailure, public through writers.h).
 *
 * A WriterRun is made by the script runner (writer-spawn.c) or the socket
 * exchange (writer-conn.c); writers.c turns a failed one into a
 * WriterFailure and into lines of the held log.
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITER_RESULT_H
#define QUIESCE_AGENT_WRITERS_WRITER_RESULT_H

#include <glib.h>

typedef enum {
    WRITER_PHASE_PREPARE,
    WRITER_PHASE_FREEZE,
    WRITER_PHASE_FREEZE_FAIL,
    WRITER_PHASE_THAW,
    WRITER_PHASE_POST_SNAPSHOT,
} WriterPhase;

/* "prepare", "freeze", "freeze-fail", "thaw", "post-snapshot" (static). */
const char *writer_phase_to_string(WriterPhase phase);

typedef enum {
    WRITER_KIND_SCRIPT, /* an executable in a writers directory */
    WRITER_KIND_SOCKET, /* a process connected to the writers socket */
} WriterKind;

/* "script", "socket writer" (static). */
const char *writer_kind_to_string(WriterKind kind);

typedef enum {
    WRITER_OUTCOME_OK,
    WRITER_OUTCOME_EXITED,        /* a script exited non-zero: exit_status */
    WRITER_OUTCOME_SIGNALED,      /* a script died of a signal it did not get from us */
    WRITER_OUTCOME_TIMED_OUT,     /* past its time limit: a script's process group was
                                   * killed, a socket writer's connection closed */
    WRITER_OUTCOME_REFUSED,       /* an untrusted script, or one that could not start */
    WRITER_OUTCOME_ANSWERED_FAIL, /* a socket writer answered "fail REASON" */
    WRITER_OUTCOME_DISCONNECTED,  /* a socket writer hung up or broke the protocol */
} WriterOutcome;

/* "ok", "exited", "signaled", "timed-out", "refused", "failed",
 * "disconnected" (static; machine-readable). */
const char *writer_outcome_to_string(WriterOutcome outcome);

typedef struct WriterOutput WriterOutput;

typedef struct {
    WriterOutcome outcome;
    int exit_status;      /* WRITER_OUTCOME_EXITED (and 0 for a script that succeeded) */
    int signal;           /* WRITER_OUTCOME_SIGNALED */
    gint64 elapsed_us;
    char *detail;         /* owned, or NULL: why it failed, in words (the socket
                           * writer's reason, the spawn errno, the time limit) */
    WriterOutput *output; /* owned, or NULL: a script's captured stdout+stderr */
} WriterRun;

/* (transfer full) A run with @outcome and no detail. */
WriterRun *writer_run_new(WriterOutcome outcome);
void writer_run_free(WriterRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterRun, writer_run_free)

/*
 * A writer that failed a phase, for the engine (a guest-snapshot-prepare
 * error, a saved-state reason) and for people.
 */
typedef struct {
    WriterKind kind;
    char *name;          /* owned: the script's path, or the socket writer's name */
    WriterPhase phase;
    WriterOutcome outcome;
    int exit_status;     /* WRITER_OUTCOME_EXITED */
    int signal;          /* WRITER_OUTCOME_SIGNALED */
    char *message;       /* owned: one line, e.g. "script /etc/quiesce/writers.d/10-db:
                          * freeze: exit status 3: cannot lock" */
    char *output_tail;   /* owned, never NULL: the end of the script's output (at most
                          * WRITER_FAILURE_TAIL_BYTES, UTF-8, control characters but
                          * newline and tab replaced), or a socket writer's reason */
} WriterFailure;

#define WRITER_FAILURE_TAIL_BYTES 2048

/* (transfer full) Builds the failure of @name from a failed @run. */
WriterFailure *writer_failure_new(WriterKind kind, const char *name, WriterPhase phase,
                                  const WriterRun *run);
void writer_failure_free(WriterFailure *failure);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WriterFailure, writer_failure_free)

#endif
