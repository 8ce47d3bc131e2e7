/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freeze-parallel.h — runs syncfs(), FIFREEZE or FITHAW over many file
 * descriptors at once, in worker threads, level by level, with a deadline;
 * the freezer's engine room (freezer.c keeps the policy: what to open, what
 * counts as frozen, how errors read).
 *
 * Why threads: FIFREEZE blocks while it writes back the filesystem's dirty
 * data (freeze_super() → sync_filesystem()), and so does syncfs(). One after
 * another, every filesystem already frozen keeps applications waiting while
 * the next one flushes; concurrently, the stall is the slowest flush, not
 * the sum. Levels (freeze-order.h) keep what depends on another filesystem
 * before it: a level starts only once every item of the one below has
 * finished.
 *
 * Guarantees, whatever the interleaving:
 *   - FREEZE stops starting items at the first failure or at the deadline;
 *     every item it reports frozen (result 0) is frozen, every other one is
 *     not (or was never touched). An item still inside FIFREEZE when the
 *     deadline and FS_PARALLEL_LATE_GRACE_US after it have passed is given
 *     up (FS_PARALLEL_LATE): if its FIFREEZE later succeeds, its worker
 *     thaws it at once, so a late freeze never outlives the call unnoticed.
 *   - THAW runs every item, highest level first, and waits for all (no
 *     deadline): a filesystem left frozen because another thaw failed would
 *     hang the guest for nothing.
 *   - SYNC runs every item at once, ignoring levels; items past the deadline
 *     are given up (FS_PARALLEL_LATE) and their syncfs() finishes in the
 *     background. Nothing is frozen by a sync, so nothing needs undoing.
 *   - A run that was not given up returns only once every worker has let go
 *     of it: nothing of it is left running or allocated.
 * The workers are threads kept between runs, each for FS_PARALLEL_IDLE_US
 * after its last job; a worker stuck in an ioctl holds up no other run.
 * The workers log nothing and allocate nothing the caller sees: the GLib log
 * writer holds lines in memory only for the main thread's calls (agent/log.c).
 * Each run works on its own dup() of every fd, closed when the last worker
 * is done, so an abandoned worker never touches an fd the caller closed.
 * The ops (and their user_data) must stay valid until every worker is done;
 * the real ops have no user_data.
 */
#ifndef QUIESCE_FSFREEZE_FREEZE_PARALLEL_H
#define QUIESCE_FSFREEZE_FREEZE_PARALLEL_H

#include <glib.h>

#include "fsfreeze/freezer.h"

typedef enum {
    FS_PARALLEL_SYNC,   /* syncfs() */
    FS_PARALLEL_FREEZE, /* ops->freeze, ascending levels */
    FS_PARALLEL_THAW,   /* ops->thaw, descending levels */
} FsParallelOp;

#define FS_PARALLEL_NOT_RUN (-1) /* never started (an earlier failure, the deadline) */
#define FS_PARALLEL_LATE (-2)    /* started, not finished when given up */

/* A FIFREEZE still running at the deadline gets this much longer before it
 * is given up: long enough for a slow flush to land and be rolled back in
 * order, short enough that a hung device cannot hang the request. */
#define FS_PARALLEL_LATE_GRACE_US (2 * G_USEC_PER_SEC)
/* At most this many threads per level. */
#define FS_PARALLEL_MAX_THREADS 16
/* How long a worker thread waits for another job before it exits: as long
 * as the default freeze window, so the thaw that ends a freeze finds the
 * freeze's threads waiting (a snapshot often takes longer than a few
 * seconds); idle, they cost no wake-up until then. */
#define FS_PARALLEL_IDLE_US (60 * G_USEC_PER_SEC)
/* The nice value a SYNC or FREEZE job runs at when the run asks for flush
 * priority: the thread that flushes (a btrfs transaction commit, the block
 * device's own pages) goes ahead of the applications that keep dirtying,
 * which the freeze is about to stop anyway (kernel-knob.h says the same of
 * the kernel's flusher threads). Each job puts its thread's nice back. */
#define FS_PARALLEL_FLUSH_NICE (-20)

typedef struct {
    int fd;         /* borrowed; the run works on a dup */
    guint level;    /* items must be sorted by level, ascending */
    int result;     /* out: 0, an errno value, FS_PARALLEL_NOT_RUN or FS_PARALLEL_LATE */
    gint64 took_us; /* out: the call's duration (0 when not finished) */
} FsParallelItem;

/*
 * Runs @op over @items (sorted by level). @ops: the seam (NULL = real
 * ioctls and syncfs(); SYNC calls ops->sync, or syncfs() when that is
 * NULL). @deadline: g_get_monotonic_time() by which FREEZE and SYNC stop
 * starting items (0 = none; ignored by THAW). @flush_priority: SYNC and
 * FREEZE jobs run at FS_PARALLEL_FLUSH_NICE where the process may raise its
 * priority (CAP_SYS_NICE), at their thread's own nice elsewhere (ignored by
 * THAW).
 * Returns: TRUE when every item ran and returned 0.
 */
gboolean fs_parallel_run(FsParallelOp op, FsParallelItem *items, guint n_items,
                         const FsFreezeOps *ops, gint64 deadline, gboolean flush_priority);

#endif
