/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * writers.h — the applications that must reach a consistent on-disk state
 * before a snapshot (docs/design.md §6), as one API for the engine.
 *
 * Two kinds of writer:
 *   - scripts: executables in /etc/quiesce/writers.d/ and, for
 *     compatibility, qemu-ga's hook directories, called with the phase as
 *     their one argument (writer-script.h: which files, trust rules);
 *   - socket writers: long-running processes connected to
 *     /run/quiesce/writers.sock that receive the phases as events
 *     (client/quiesce-writer.h: wire protocol and client library).
 *
 * A session, as the engine drives it:
 *
 *   writers_check()         eligibility: refuse untrusted scripts up front
 *   writers_prepare()       socket writers: "prepare" (slow work, nothing held)
 *   writers_freeze()        scripts in order, then socket writers: "freeze";
 *                           on a failure the ones already frozen get
 *                           "freeze-fail" in reverse order
 *     ... the engine freezes filesystems; on failure: writers_freeze_fail()
 *     ... the host snapshots; the engine thaws filesystems
 *   writers_window_intact() did a frozen socket writer hang up meanwhile?
 *   writers_thaw()          every frozen writer, reverse order: "thaw"
 *   writers_post_snapshot() socket writers, after a good snapshot
 *   writers_flush_log()     the held writer output and notes, AFTER the
 *                           filesystems are thawed
 *
 * Scripts get, besides the phase argument, in their environment:
 *   QUIESCE_PHASE        the phase (for compat scripts too — see below)
 *   QUIESCE_SESSION_ID   the session id; unset when there is none
 *                        (guest-fsfreeze-freeze)
 *   QUIESCE_MOUNTPOINTS  the mountpoints being frozen, separated by
 *                        newlines (a colon can occur in a mount path; a
 *                        newline is escaped by the kernel in mountinfo);
 *                        empty when none. In sh:
 *                          printf '%s\n' "$QUIESCE_MOUNTPOINTS" | while read -r m; do ...
 * plus the agent's own environment (PATH set to a standard one if unset),
 * cwd "/", stdin /dev/null, stdout+stderr captured.
 *
 * qemu-ga compatibility: scripts from the compat directories know only
 * "freeze" and "thaw" (qemu's mysql-flush sample exits 1 on anything else
 * and would keep its lock), so where native writers get "freeze-fail" they
 * get "thaw" as their argument (QUIESCE_PHASE still says freeze-fail).
 *
 * Timeouts: each writer has writer_timeout_ms per phase, and a phase has
 * total_timeout_ms for all writers. A script past its limit is killed with
 * its whole process group; a socket writer past its limit is disconnected
 * (it must then release by protocol). Either counts as failed. In prepare
 * and freeze a writer not reached before the total limit fails the phase;
 * releasing phases (freeze-fail, thaw, post-snapshot) never skip a writer:
 * after the total limit each remaining one still gets
 * min(writer_timeout_ms, WRITERS_RELEASE_GRACE_MS).
 *
 * Nothing here writes to disk or logs while the filesystems are frozen:
 * notes and captured output go to an in-memory held log (capped) that the
 * engine flushes after the thaw. Every call is synchronous (poll and
 * waitpid with deadlines) because the engine calls from a command handler;
 * the socket listener runs on the main context between calls. Not
 * thread-safe: use from the thread owning that context.
 */
#ifndef QUIESCE_AGENT_WRITERS_WRITERS_H
#define QUIESCE_AGENT_WRITERS_WRITERS_H

#include <glib.h>
#include <sys/types.h>

#include "agent/writers/writer-result.h"
#include "agent/writers/writer-script.h"
#include "common/memlog.h"

#define WRITERS_DEFAULT_DIR "/etc/quiesce/writers.d"
#define WRITERS_DEFAULT_SOCKET "/run/quiesce/writers.sock"
#define WRITERS_DEFAULT_WRITER_TIMEOUT_MS 30000
#define WRITERS_DEFAULT_TOTAL_TIMEOUT_MS 60000
#define WRITERS_DEFAULT_OUTPUT_CAP (64 * 1024)
#define WRITERS_DEFAULT_LOG_CAP (256 * 1024)
#define WRITERS_RELEASE_GRACE_MS 2000

/* The machine-readable saved-state reason for untrusted scripts. */
#define WRITERS_REASON_UNTRUSTED_WRITER "untrusted-writer"

typedef struct {
    char **script_dirs;        /* native script directories, in order;
                                * default { WRITERS_DEFAULT_DIR } */
    char **compat_script_dirs; /* qemu-ga hook directories, after the native
                                * ones; default none (absent ones are simply
                                * empty) */
    gboolean compat_detect;    /* no [writers] compat-directories: the owner
                                * sets compat_script_dirs to what qemu-ga was
                                * set up to run (writer-qga-hooks.h) */
    char *socket_path;         /* default WRITERS_DEFAULT_SOCKET; NULL: no socket
                                * writers */
    char *socket_group;        /* group allowed besides root; NULL: root only */
    guint writer_timeout_ms;   /* per writer per phase */
    guint total_timeout_ms;    /* per phase, all writers */
    gsize output_cap;          /* bytes of output kept per script run */
    gsize log_cap;             /* bytes of the held log (MemLog cap) */
    uid_t trusted_uid;         /* owner accepted besides root; default 0. For
                                * tests that do not run as root. */
} WritersConfig;

/* Fills @config with the defaults above (owned copies). */
void writers_config_init(WritersConfig *config);
void writers_config_clear(WritersConfig *config);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(WritersConfig, writers_config_clear)

/* What the writers are told about the session (all borrowed). */
typedef struct {
    const char *session_id;           /* NULL: none; else 1-128 of [A-Za-z0-9._:-] */
    const char *const *mountpoints;   /* NULL-terminated, or NULL: none */
} WriterContext;

typedef struct Writers Writers;

/*
 * Copies @config and, when socket_path is set, starts listening for socket
 * writers on the thread-default main context.
 * Returns: (transfer full) or NULL with @error (bad config, socket busy).
 */
Writers *writers_new(const WritersConfig *config, GError **error);
/* Frees; a frozen socket writer sees the hang-up and releases by protocol.
 * Scripts are not called: thaw first. */
void writers_free(Writers *writers);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Writers, writers_free)

/*
 * The trust check of every script, for the eligibility report. No side
 * effects. Returns TRUE when every script is trusted; otherwise FALSE with
 * an error (QUIESCE_ERROR_INVALID_ARGUMENT) summarizing them.
 * @out_problems: (out) (optional) (transfer full) WriterProblem*, one per
 *   refused script or directory; empty on TRUE. Report them under
 *   WRITERS_REASON_UNTRUSTED_WRITER.
 */
gboolean writers_check(Writers *writers, GPtrArray **out_problems, GError **error);

/*
 * Sends "prepare" to every socket writer, in registration order, stopping
 * at the first failure (nothing to undo: prepare holds nothing).
 * @out_failure: (out) (optional) (transfer full) set on FALSE.
 */
gboolean writers_prepare(Writers *writers, const WriterContext *context,
                         WriterFailure **out_failure, GError **error);

/*
 * Freezes every writer: scripts (native directories, then compat ones,
 * each in name order), then socket writers in registration order. Scripts
 * are trust-checked first: any untrusted one fails the call before
 * anything runs (WRITER_OUTCOME_REFUSED). On any failure the writers
 * already frozen get freeze-fail in reverse order and nothing stays frozen.
 * Error codes: QUIESCE_ERROR_STATE (already frozen), INVALID_ARGUMENT
 * (untrusted script, bad session id), TIMED_OUT (a writer or the phase ran
 * out of time), FAILED (a writer failed).
 * @out_failure: (out) (optional) (transfer full) on FALSE, which writer
 *   failed, how, and the tail of its output; NULL for a state error.
 */
gboolean writers_freeze(Writers *writers, const WriterContext *context,
                        WriterFailure **out_failure, GError **error);

/* The filesystems could not be frozen: every frozen writer gets
 * freeze-fail, in reverse order. Failures go to the held log. No-op when
 * nothing is frozen. */
void writers_freeze_fail(Writers *writers, const WriterContext *context);

/*
 * The agent started and found the state of a session its previous run did
 * not end (killed, OOM-killed, ended by the service watchdog): which
 * writers that run froze died with it, so every trusted script gets
 * freeze-fail (qemu-ga's scripts: thaw), in reverse order, as if all had
 * frozen. Socket writers released when their connection dropped
 * (docs/design.md §7). Failures and untrusted scripts go to the held log.
 * A session id that is not valid for writers is left out (unset).
 */
void writers_release_orphaned(Writers *writers, const WriterContext *context);

/* TRUE while a session's writers are frozen (freeze done, no thaw yet). */
gboolean writers_is_frozen(Writers *writers);

/*
 * Was every frozen socket writer connected all through the window? Checks
 * now, without blocking. FALSE with QUIESCE_ERROR_FAILED naming each
 * writer that hung up or broke the protocol since its freeze: the snapshot
 * is not consistent. TRUE when nothing is frozen.
 */
gboolean writers_window_intact(Writers *writers, GError **error);

/*
 * Thaws every frozen writer in reverse freeze order; every one runs even
 * when another fails. A socket writer lost during the window cannot be
 * told and counts as a failure (WRITER_OUTCOME_DISCONNECTED). Ends the
 * session. No-op (TRUE) when nothing is frozen.
 * @out_failures: (out) (optional) (transfer full) WriterFailure*, empty on
 *   TRUE.
 * Returns: FALSE with one QUIESCE_ERROR_FAILED error listing every failure.
 */
gboolean writers_thaw(Writers *writers, const WriterContext *context,
                      GPtrArray **out_failures, GError **error);

/* After a good snapshot: "post-snapshot" to the socket writers that were
 * frozen in the session just thawed and are still connected. Failures go
 * to the held log. */
void writers_post_snapshot(Writers *writers, const WriterContext *context);

/*
 * Hands the held log to @func, oldest line first, and empties it: notes
 * (which writer ran, how long, failures) and the writers' captured output,
 * each line prefixed "writer NAME PHASE: ". Call it after the thaw, never
 * while filesystems are frozen. memlog_func_glib() is a ready @func.
 */
void writers_flush_log(Writers *writers, MemLogFunc func, gpointer user_data);
/* @notify runs after every line added to the held log (on the main loop's
 * thread: writers run no thread), so that lines produced between requests
 * (socket writers registering, refused, hanging up) reach the log without
 * waiting for one. NULL for none. */
void writers_set_log_notify(Writers *writers, MemLogNotify notify, gpointer user_data);

/* The socket writers registered now, in registration order. (transfer full) */
GStrv writers_dup_socket_writer_names(Writers *writers);
/* (transfer none) The socket path, or NULL without socket writers. */
const char *writers_get_socket_path(Writers *writers);

#endif
