/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freezer-fixture.h — what the freezer's tests (test-freezer-*.c) share:
 * ext4, xfs and btrfs images loop-mounted inside the test's own temp dir,
 * the freezer options that reach them, writer processes, and a watchdog.
 *
 * SAFETY. Nothing outside the test's own loop mounts may ever be frozen.
 * Three independent guards stand between a bug and a frozen host:
 *   1. every fs_freezer_*() call passes confine_dir = the test dir, so the
 *      freezer itself refuses any other target before any ioctl;
 *   2. every real FIFREEZE/FITHAW goes through a LoopFsGuard (loopfs.h),
 *      which only calls ioctl() for an fd whose st_dev and path are one of
 *      the fixture's LoopFs, re-proven from /proc/self/mountinfo
 *      (loopfs_check_ours()); anything else is counted as a violation and
 *      gets EPERM;
 *   3. `fsfreeze -f` is only run through loopfs_fsfreeze(), same check.
 * A watchdog thread thaws the fixture's mounts if a test hangs, and the
 * teardown thaws, unmounts and detaches everything even after a failure
 * (assertions are non-fatal so the teardown runs).
 *
 * Needs root, losetup, mount, fsfreeze, mkfs.{ext4,xfs,btrfs}; a test
 * skips otherwise (fails with QUIESCE_TEST_REQUIRE_ROOT=1, test-run.h).
 */
#ifndef QUIESCE_TESTS_FREEZER_FIXTURE_H
#define QUIESCE_TESTS_FREEZER_FIXTURE_H

#include <glib.h>

#include "fsfreeze/freezer.h"
#include "tests/support/loopfs.h"
#include "tests/support/test-run.h"

#define BLOCK_CHECK_US (300 * 1000)
#define WRITE_TIMEOUT_US (10 * G_USEC_PER_SEC)

typedef struct {
    char *dir;               /* realpath of this test's temp dir; the confinement dir */
    char *skip;              /* why the test cannot run, or NULL */
    LoopFsGuard *guard;      /* the filesystems and the only ops that reach ioctl() */
    FsFreezeOptions options; /* confine_dir = dir, ops = &guard->ops */
    GArray *children;        /* GPid of writers not yet reaped */
    GThread *watchdog;
    GMutex watchdog_lock;
    GCond watchdog_cond;
    gboolean watchdog_stop;  /* under watchdog_lock */
    gboolean watchdog_fired; /* under watchdog_lock */
} Fixture;

/* "ext4", "xfs", "btrfs": the tools every loop test needs. */
extern const char *const freezer_fixture_fstypes[];

/* PATH with sbin, g_test_init(), non-fatal assertions. */
void freezer_fixture_init(int *argc, char ***argv);

/* @data: the fstypes whose tools the test needs, NULL for none. */
void freezer_fixture_setup(Fixture *fixture, gconstpointer data);
void freezer_fixture_teardown(Fixture *fixture, gconstpointer data);

/* A test under /freezer/ that needs every tool (and root). */
#define FREEZER_ADD(name, func)                                                                   \
    QUIESCE_TEST_ADD("/freezer/" name, Fixture, freezer_fixture_fstypes, freezer_fixture_setup,   \
                     func, freezer_fixture_teardown)

/* TRUE (after a counted skip) when the tools or root are missing. */
gboolean fixture_skipped(Fixture *fixture);

/* A new LoopFs in the fixture; its image in @image_dir (NULL = the test dir). */
LoopFs *fixture_add(Fixture *fixture, const char *name, const char *fstype,
                    const char *image_dir);

/*
 * The usual start of a test: unless skipped, mounts each (name, fstype,
 * LoopFs **out) triple up to a NULL name, images in the test dir.
 * Returns: FALSE when the test skipped or a mount failed (already reported).
 */
gboolean fixture_mount(Fixture *fixture, const char *name, ...) G_GNUC_NULL_TERMINATED;

/* (transfer full) Targets for the NULL-terminated LoopFs list, each in a
 * level of its own (level = index), so the freezer takes them one by one
 * in list order and events are deterministic. */
GPtrArray *targets_of(const LoopFs *first, ...) G_GNUC_NULL_TERMINATED;
/* The same, all in level 0: frozen and thawed concurrently. */
GPtrArray *targets_parallel_of(const LoopFs *first, ...) G_GNUC_NULL_TERMINATED;

/* Is @fs frozen (FIFREEZE's EBUSY)? Asserts the probe worked. */
gboolean probe_frozen(Fixture *fixture, const LoopFs *fs);

/* (transfer full) The guard's events so far; clears them. */
char *take_events(Fixture *fixture);

/* A dd of 1 MiB into @fs/@name (with fsync when @durable), reaped at teardown. */
GPid spawn_writer(Fixture *fixture, const LoopFs *fs, const char *name, gboolean durable);

/* Waits up to @timeout_us for @pid; TRUE (and reaped) if it exited 0. */
gboolean wait_writer(Fixture *fixture, GPid pid, gint64 timeout_us, gboolean *exited);

/* What a user would check: a write + fsync completes, and nobody holds a freeze. */
void assert_not_frozen(Fixture *fixture, const LoopFs *fs);

/* A freeze of @targets fails with @code (and @message unless NULL), leaves
 * nothing frozen, and the guard saw exactly @events. */
void freeze_expecting(Fixture *fixture, GPtrArray *targets, int code, const char *message,
                      const char *events);

/* (transfer full) Freezes @targets, asserting success; @out_ms: (optional)
 * how long it took. */
FsFrozenSet *freeze_all(Fixture *fixture, GPtrArray *targets, double *out_ms);

double ms_since(gint64 start);

#endif
