/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * frozen-state.h — the frozen set persisted under /run, so that an agent
 * that died while filesystems were frozen thaws them as soon as it restarts.
 *
 * Life of the state file (one GKeyFile, FROZEN_STATE_FILENAME in the state
 * dir, and an empty FROZEN_STATE_MARKER beside it):
 *   1. frozen_state_write() before the first FIFREEZE: the marker, then the
 *      session id, targets in freeze order (mountpoint, dev, fstype),
 *      deadline, agent pid, written atomically (temp file, fsync, rename,
 *      fsync of the dir).
 *   2. frozen_state_remove() after the last FITHAW: the file, then the marker.
 *   3. At start, frozen_state_recover(). The file is not trusted: a live
 *      file that parses completely has its targets thawed (reverse order,
 *      only mounts whose st_dev still matches); anything else — unreadable,
 *      not a regular file, over 1 MiB, unparsable, a bad or missing
 *      section, a marker without a live file, a "broken" record with the
 *      marker still there — makes recovery thaw every filesystem the caller
 *      says could have been frozen (the sweep) as well as every section
 *      that still parses. A damaged file is set aside as
 *      FROZEN_STATE_DAMAGED. What could not be thawed (FITHAW failed, the
 *      mountpoint covered by another mount) stays in the record as pending,
 *      with the marker, and frozen_state_retry() tries it again.
 *      The record is rewritten marked broken, with the reason; the host's
 *      later post/thaw reads it (frozen_state_read_broken()) and gets an
 *      error saying the session was broken; frozen_state_clear_broken() then
 *      removes it. When nothing was frozen at restart (every listed target
 *      answered EINVAL: the session had already ended, say a post whose
 *      file removal failed) there is no broken record: nothing was left.
 *
 * Unlike qemu-ga's empty marker (docs/qga-reference.md §5), the file says what
 * was frozen, so a restarted agent thaws only that, at once, instead of
 * starting "frozen" and waiting for a host that may be gone; only when the
 * file cannot say does it fall back to qemu-ga's thaw-everything.
 *
 * The state dir must be on a filesystem the freeze never touches (tmpfs
 * /run): frozen_state_write() refuses one that lies on a target. The file
 * lists the planned set, written before the first FIFREEZE; if the agent
 * dies mid-freeze, recovery thaws every listed mount, which undoes a
 * foreign freeze only if one of them was frozen by another tool at that
 * moment (EBUSY) — rarer and less harmful than leaving ours frozen. The
 * sweep has the same trade-off, over every filesystem in the confinement.
 */
#ifndef QUIESCE_FSFREEZE_FROZEN_STATE_H
#define QUIESCE_FSFREEZE_FROZEN_STATE_H

#include <glib.h>
#include <sys/types.h>

#include "fsfreeze/freezer.h"

#define FROZEN_STATE_DEFAULT_DIR "/run/quiesce"
#define FROZEN_STATE_FILENAME "frozen-state"
#define FROZEN_STATE_MARKER "frozen-marker"
#define FROZEN_STATE_DAMAGED "frozen-state.damaged"
#define FROZEN_STATE_REASON_RESTARTED "agent restarted while frozen"

typedef struct {
    char *session_id;         /* owned */
    GPtrArray *targets;       /* owned, FreezeTarget*, freeze order */
    gint64 created_real_us;   /* wall clock, µs since the epoch */
    gint64 deadline_real_us;  /* wall clock; 0 = none; for humans only */
    pid_t pid;                /* the agent that froze */
} FrozenState;

/*
 * Returns: (transfer full) a state for @session_id; @targets is copied
 * (transfer none); pid is getpid(), created is now.
 */
FrozenState *frozen_state_new(const char *session_id, GPtrArray *targets,
                              gint64 deadline_real_us);
void frozen_state_free(FrozenState *state);

/*
 * Writes @state atomically to @state_dir (created 0700 if missing).
 * Fails with INVALID_ARGUMENT if @state_dir lies on one of the targets.
 */
gboolean frozen_state_write(const char *state_dir, const FrozenState *state, GError **error);

/*
 * Reads a live (not broken) state file.
 * @out_state: (out) (transfer full) the state, or NULL when there is none
 *   or it is already marked broken (see frozen_state_read_broken()).
 * Returns: FALSE on a read or parse error.
 */
gboolean frozen_state_read(const char *state_dir, FrozenState **out_state, GError **error);

/* Removes the state file after the last thaw. A missing file is fine. */
gboolean frozen_state_remove(const char *state_dir, GError **error);

/* A session the agent had to end on its own while it was frozen. */
typedef struct {
    char *session_id;       /* owned */
    char *reason;           /* owned, e.g. FROZEN_STATE_REASON_RESTARTED */
    gint64 broken_real_us;  /* when recovery ran, wall clock */
    guint thawed;           /* FITHAWs recovery made */
    GStrv notes;            /* owned, what recovery skipped or failed; maybe empty */
    GPtrArray *pending;     /* owned FreezeTarget: not thawed yet (FITHAW failed,
                             * or covered); frozen_state_retry() retries them */
    char *damaged;          /* owned; why the file was not trusted, or NULL */
} FrozenStateBroken;

void frozen_state_broken_free(FrozenStateBroken *broken);

/* Whether the state dir holds a state file (of any kind) or the marker:
 * only then does recovery have anything to do. */
gboolean frozen_state_exists(const char *state_dir);

/*
 * Run once at start, before serving the host (see the top of this file).
 * @sweep_targets: (nullable) (transfer none) every filesystem that could
 *   have been frozen, in freeze order; thawed when the file cannot be trusted.
 * @thaw_options: honoured (confinement, ops) for every FITHAW.
 * @out_broken: (out) (transfer full) the broken record (new or left by an
 *   earlier start), NULL when there was nothing left frozen to report.
 * Returns: FALSE when a thaw failed or was refused, or the record could not
 *   be written; *out_broken is still set when there is one.
 */
gboolean frozen_state_recover(const char *state_dir, const FsFreezeOptions *thaw_options,
                              GPtrArray *sweep_targets, FrozenStateBroken **out_broken,
                              GError **error);

/*
 * Tries the pending targets of @broken again, updates its counts and notes
 * and rewrites the record (the marker goes once nothing is pending).
 * Returns: FALSE when the record could not be written.
 */
gboolean frozen_state_retry(const char *state_dir, const FsFreezeOptions *thaw_options,
                            FrozenStateBroken *broken, GError **error);

/*
 * @out_broken: (out) (transfer full) the broken-session record, or NULL
 *   when there is none (no file, or a live state).
 */
gboolean frozen_state_read_broken(const char *state_dir, FrozenStateBroken **out_broken,
                                  GError **error);

/*
 * Removes the broken-session record once the host has been told. Refuses
 * (QUIESCE_ERROR_STATE) to remove a live state file; no file is fine.
 */
gboolean frozen_state_clear_broken(const char *state_dir, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FrozenState, frozen_state_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FrozenStateBroken, frozen_state_broken_free)

#endif
