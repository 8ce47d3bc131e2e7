/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freezer.h — freeze a set of filesystems all-or-nothing, thaw exactly what
 * we froze.
 *
 * Differences from qemu-ga (docs/qga-reference.md §5), each deliberate:
 *   - every mountpoint is opened and checked before the first FIFREEZE, so
 *     a missing or re-mounted target fails with nothing frozen;
 *   - no partial freeze: any failure thaws what this call froze, in reverse;
 *   - EBUSY (frozen by someone else) and EOPNOTSUPP are errors, not skipped
 *     mounts: a snapshot that silently lacks a filesystem is the partial
 *     backup docs/design.md §2 forbids. The probe excludes filesystems that
 *     cannot freeze; a request that still names one is an error;
 *   - thaw acts on the set this process froze, through the fds it froze
 *     with, never on whatever the mount table holds; a freeze made by
 *     another tool is never undone.
 *
 * The ioctls go through FsFreezeOps so tests can inject failures that cannot
 * be produced for real (tests/support/fifreeze-fail-seam.c does the same for a
 * whole process via LD_PRELOAD).
 */
#ifndef QUIESCE_FSFREEZE_FREEZER_H
#define QUIESCE_FSFREEZE_FREEZER_H

#include <glib.h>
#include <sys/types.h>

#include "fsfreeze/freeze-target.h"

/*
 * The two ioctls, and for the fuzzers a whole machine of their own. Each
 * function returns 0 on success or an errno value (not -1).
 * @user_data: FsFreezeOps.user_data.
 *
 * The last four members are a test seam and nothing else: production code
 * never sets them (EngineConfig.ops is set by tests only, never from the
 * configuration). With mount_root set, every mount table, sysfs and /dev the
 * agent's freeze path reads (the engine's probes, the freezer's recovery
 * check, guest-get-fsinfo) is the fixture-shaped tree below it instead of
 * this machine's, and fd_dev says which of its synthetic filesystems an
 * opened mountpoint is on. A seam that fakes the machine must fake the
 * ioctls too: the freezer refuses (INVALID_ARGUMENT, before opening
 * anything) ops that set mount_root or fd_dev with a missing ioctl or
 * fs_freeze_ops_default()'s, so a synthetic mount table does not meet the
 * real FIFREEZE by mistake.
 */
typedef struct {
    int (*freeze)(int fd, gpointer user_data); /* ioctl(fd, FIFREEZE, 0) */
    int (*thaw)(int fd, gpointer user_data);   /* ioctl(fd, FITHAW, 0) */
    gpointer user_data;
    int (*sync)(int fd, gpointer user_data);   /* NULL = syncfs(fd) (the pre-sync) */
    /* NULL = fstat(fd)'s st_dev: the device of an opened mountpoint, which
     * the freezer compares with the probed one and the confinement guard
     * with the devices holding the confinement directory */
    int (*fd_dev)(int fd, dev_t *out_dev, gpointer user_data);
    /* NULL = this machine (/proc/self/mountinfo, /sys, /dev); else a
     * directory laid out as tests/fixtures/<name>/: mountinfo, sys/, dev/
     * (inventory_options_new_for_root()) */
    const char *mount_root;
    /* TRUE = the ops never block: fs_parallel_run() calls them in the
     * caller's thread, one after another, level by level, and starts no
     * worker thread. For the fuzzers, whose fakes take microseconds while a
     * hand-off to the pool's threads costs tens of context switches; the
     * threads' interleavings are tested by tests/unit/test-freeze-parallel.c. */
    gboolean in_caller;
} FsFreezeOps;

/* (transfer none) The real ioctls; static, lives forever. */
const FsFreezeOps *fs_freeze_ops_default(void);

typedef struct {
    /*
     * NULL, or a directory every target's mountpoint must lie strictly
     * below; targets elsewhere are refused before any ioctl. Tests set it
     * so a bug can never freeze the machine running them: see
     * fs_freezer_freeze().
     */
    const char *confine_dir;
    /* g_get_monotonic_time() by which freezing must have finished; 0 = none. */
    gint64 deadline;
    /* NULL = fs_freeze_ops_default(). Copied; user_data must outlive the set,
     * and any FIFREEZE given up at the deadline (freeze-parallel.h). */
    const FsFreezeOps *ops;
    /*
     * 0: no pre-sync. Otherwise syncfs() every target, all at once, before
     * the first FIFREEZE, while applications still run, so that FIFREEZE's
     * own flush (which applications wait for) finds little left; a syncfs
     * that has not finished after this long fails the freeze with nothing
     * frozen (TIMED_OUT), since its FIFREEZE would hang the same way with
     * the others already frozen. A syncfs error (a past writeback error)
     * is not a failure: FIFREEZE does not report it either.
     * A long pass may be followed by another (FS_PRESYNC_MAX_PASSES at
     * most, all within the same limit), for what applications dirtied
     * while the first one flushed. Passes stop once one takes under
     * FS_PRESYNC_SHORT_US, or is not at least a third shorter than the one
     * before (the applications dirty as fast as the disks flush).
     */
    gint64 presync_timeout_us;
    /*
     * NULL: RCU left alone. Else the knob (RCU_EXPEDITE_KNOB, or a test's
     * file) that expedites RCU grace periods, set to 1 for the span of the
     * FIFREEZE calls when it reads 0 and put back after them
     * (kernel-knob.h), with @rcu_record (NULL = none) as the record a
     * restart puts it back from. Not being able to set it costs speed
     * only: the freeze goes on, and the timings say so.
     */
    const char *rcu_knob;
    const char *rcu_record;
    /*
     * The flush ahead of the applications for the pre-sync and the FIFREEZE
     * calls: the threads that run them at FS_PARALLEL_FLUSH_NICE
     * (freeze-parallel.h) when @flush_priority, and the kernel's flusher
     * threads when @writeback_knob (WRITEBACK_NICE_KNOB, or a test's file;
     * NULL = left alone) is set to WRITEBACK_NICE_VALUE for that span and
     * put back after it, with @writeback_record as its record
     * (kernel-knob.h). Like the RCU knob, one that cannot be set costs
     * speed only.
     */
    gboolean flush_priority;
    const char *writeback_knob;
    const char *writeback_record;
    /* Where the dirty data is read (KERNEL_MEMINFO, or a test's file; NULL
     * = not read): the writeback knob is set only when at least
     * FS_FLUSH_PRIORITY_MIN_DIRTY_KIB are dirty or under writeback, or
     * when that cannot be read. */
    const char *meminfo;
} FsFreezeOptions;

/*
 * One pass: measured side by side with qemu-ga (bench/freeze-vm-dirty.sh
 * 12 dirty, quiet machine, 1 and 3 passes alternated twice), three passes
 * left the application stall where one had it (0.15-0.17 against
 * 0.16-0.24 of qemu-ga's) and lengthened the freeze's round trip (0.65-0.97
 * against 0.56-0.68): each pass is time the host waits, and the writers
 * dirty again while it runs.
 */
#define FS_PRESYNC_MAX_PASSES 1
#define FS_PRESYNC_SHORT_US (20 * 1000)

/*
 * Below this much dirty data the writeback knob is left alone: its flush
 * takes a few milliseconds anyway, and changing a workqueue's nice makes
 * the kernel start a new pool of threads, which costs more than it saves
 * (light TCG guest, ext4 + xfs with a few KiB dirty: 6-16 ms more per
 * freeze with the knob set, on a busy machine).
 */
#define FS_FLUSH_PRIORITY_MIN_DIRTY_KIB (16 * 1024)

/* Where a freeze's time went, for the agent's log (all µs). */
typedef struct {
    gint64 open_us;    /* validate, open and check every mountpoint */
    gint64 presync_us; /* the syncfs() passes, 0 without one */
    guint presync_passes;
    gint64 freeze_us;  /* first FIFREEZE start to last FIFREEZE end */
    guint levels;      /* dependency levels frozen one after another */
    gint64 thaw_us;    /* the last fs_freezer_thaw() of the set */
    gboolean rcu_expedited; /* the FIFREEZE calls ran with rcu_knob set */
    gboolean writeback_prioritized; /* the flush ran with writeback_knob set */
    gint64 knobs_us;                /* setting and putting back the knobs, when one was set */
    gint64 dirty_kib; /* dirty and under writeback before the pre-sync; -1 = not read */
} FsFreezeTimings;

/*
 * FsFrozenSet: the filesystems one fs_freezer_freeze() call froze, in freeze
 * order, each with the fd it was frozen through (kept open, O_CLOEXEC, so the
 * thaw reaches the same superblock even if the mount table changed).
 */
typedef struct FsFrozenSet FsFrozenSet;

/* Closes the fds. Does NOT thaw: call fs_freezer_thaw() first. */
void fs_frozen_set_free(FsFrozenSet *set);
guint fs_frozen_set_get_length(const FsFrozenSet *set);
/* (transfer none) The @index-th target in freeze order. */
const FreezeTarget *fs_frozen_set_get_target(const FsFrozenSet *set, guint index);
/* (transfer full) Copies of the targets in freeze order (freeze_target_array_new()). */
GPtrArray *fs_frozen_set_dup_targets(const FsFrozenSet *set);
/* (transfer none) Where the freeze and the last thaw of the set spent their time. */
const FsFreezeTimings *fs_frozen_set_get_timings(const FsFrozenSet *set);
/* (transfer full) The timings with each target's FIFREEZE, for a log line:
 * "open 0.2 ms, pre-sync 31.0 ms, FIFREEZE 12.1 ms in 1 level (/a 12.0, /b 3.1)",
 * the knobs that were set, then what became of a knob that was not simply
 * set and put back. */
char *fs_frozen_set_describe_timings(const FsFrozenSet *set);

/*
 * Freezes @targets (FreezeTarget*, transfer none, sorted by level) level by
 * level, the targets of one level concurrently (freeze-parallel.h).
 *
 * Steps: validate (absolute paths, no device twice, levels in order,
 * confinement), open each mountpoint O_RDONLY|O_CLOEXEC|O_DIRECTORY and
 * check fstat().st_dev == target->dev, the optional pre-sync, then FIFREEZE
 * by levels; nothing new starts after a failure or past the deadline, which
 * is checked again after the last. On any failure everything this call froze
 * is thawed, highest level first, and the error names the mount and errno
 * (the first failure in freeze order; others are appended). Codes:
 * INVALID_ARGUMENT (bad target, outside confine_dir), FAILED (open or
 * FIFREEZE errno), NOT_FOUND (mount changed since probing), BUSY (EBUSY:
 * already frozen by another process; left frozen, not ours), NOT_SUPPORTED
 * (EOPNOTSUPP), TIMED_OUT (deadline passed).
 *
 * @out_frozen: (out) (transfer full) on success what was frozen; on failure
 *   what rollback could not thaw (normally empty; a caller must keep a
 *   non-empty one and retry fs_freezer_thaw(), since those stay frozen).
 */
gboolean fs_freezer_freeze(GPtrArray *targets, const FsFreezeOptions *options,
                           FsFrozenSet **out_frozen, GError **error);

/*
 * Thaws @frozen in reverse freeze order: highest level first, the targets of
 * a level concurrently. Every FITHAW runs even when one fails. EINVAL (not frozen: someone else thawed it) is not a failure: it
 * adds a line to @out_notes. Thawed and not-frozen entries leave the set (and
 * their fds are closed) so a second call cannot undo a freeze someone else
 * made in between; entries whose FITHAW failed stay, for a retry.
 *
 * @out_thawed: (out) (optional) how many FITHAW calls succeeded.
 * @out_notes: (out) (optional) (transfer full) NULL-terminated, maybe empty.
 * Returns: FALSE with one QUIESCE_ERROR_FAILED error naming every mount
 *   that failed, TRUE otherwise. The out values are set in both cases.
 */
gboolean fs_freezer_thaw(FsFrozenSet *frozen, guint *out_thawed, GStrv *out_notes,
                         GError **error);

/*
 * Thaws @targets (transfer none) in reverse order by path, for a restarted
 * agent that no longer has the fds (frozen-state.c). A target whose mount
 * is gone or whose st_dev no longer matches is skipped with a note; EINVAL
 * is a note. Honors @options->confine_dir and ops; ignores the deadline.
 * Same results as fs_freezer_thaw().
 */
gboolean fs_freezer_thaw_targets(GPtrArray *targets, const FsFreezeOptions *options,
                                 guint *out_thawed, GStrv *out_notes, GError **error);

/* What one FITHAW by path found (fs_freezer_thaw_target()). */
typedef enum {
    FS_THAW_THAWED,     /* FITHAW succeeded: it was frozen, now it is not */
    FS_THAW_NOT_FROZEN, /* FITHAW answered EINVAL: it was not frozen */
    FS_THAW_GONE,       /* nothing is mounted at the path any more (or another
                         * filesystem alone is): nothing left to thaw there */
    FS_THAW_COVERED,    /* the path is covered by a later mount, or could not be
                         * opened while still a mountpoint: unreachable for now */
    FS_THAW_FAILED,     /* FITHAW failed otherwise: it may still be frozen */
    FS_THAW_REFUSED,    /* outside options->confine_dir: never touched */
} FsThawOutcome;

/*
 * Thaws one @target by path, for recovery (docs/design.md §7): opens the
 * mountpoint, checks st_dev and the confinement, FITHAW. An unreachable
 * path is told apart by /proc/self/mountinfo: still a mountpoint more than
 * once (covered) or with @target's device is FS_THAW_COVERED (retry later),
 * otherwise FS_THAW_GONE.
 * @out_message: (out) (transfer full) what happened, for notes and logs.
 */
FsThawOutcome fs_freezer_thaw_target(const FreezeTarget *target, const FsFreezeOptions *options,
                                     char **out_message);

/*
 * The confinement guard on its own, for other actions on a filesystem
 * (guest-fstrim): TRUE when @mountpoint, opened as @fd, passes the three
 * checks fs_freezer_freeze() makes against @confine_dir; otherwise FALSE
 * with QUIESCE_ERROR_INVALID_ARGUMENT.
 */
gboolean fs_freezer_check_confined(const char *confine_dir, const char *mountpoint, int fd,
                                   GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FsFrozenSet, fs_frozen_set_free)

#endif
