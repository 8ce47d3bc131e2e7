/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loopfs.h — loop-mounted filesystem images for tests that freeze for real.
 *
 * A LoopFs is an image file made by the test (truncate + mkfs), attached to
 * a loop device (losetup --find --show) and mounted on a directory inside
 * the test's own temp dir. loopfs_check_ours() is the test-side guard that
 * every real FIFREEZE and every `fsfreeze -f` goes through: it proves from
 * /proc/self/mountinfo that a mountpoint is one of these mounts, inside the
 * test dir, and not the filesystem holding the test dir or "/".
 *
 * LoopFsGuard is the FsFreezeOps the tests give the freezer: real ioctls
 * for these mounts only, with event recording and failure injection.
 *
 * Tests need root, losetup, mount, umount, fsfreeze and mkfs.<type>;
 * loopfs_missing_requirement() says what is missing so a test can skip.
 */
#ifndef QUIESCE_TESTS_LOOPFS_H
#define QUIESCE_TESTS_LOOPFS_H

#include <glib.h>
#include <sys/types.h>

#include "fsfreeze/freeze-target.h"
#include "fsfreeze/freezer.h"

typedef struct {
    char *test_dir;   /* owned; the confinement dir every mount is inside */
    char *image;      /* owned; the image file */
    char *mountpoint; /* owned; test_dir/<name> */
    char *loopdev;    /* owned; /dev/loopN, NULL once detached */
    char *fstype;     /* owned */
    dev_t dev;        /* st_dev of the mounted filesystem */
    gboolean mounted;
} LoopFs;

/*
 * Returns: (transfer full) NULL when the tools for @fstypes (NULL-terminated)
 * are available and we are root, else why not (for g_test_skip()).
 */
char *loopfs_missing_requirement(const char *const *fstypes);

/*
 * Creates @image_dir/@name.img of @size_mib (sparse), makes an @fstype
 * filesystem on it, attaches a loop device and mounts it on
 * @test_dir/@name. @image_dir may be another LoopFs's mountpoint (nesting).
 * Returns: (transfer full) the mounted filesystem, or NULL with @error set
 * after undoing what was done.
 */
LoopFs *loopfs_create(const char *test_dir, const char *image_dir, const char *name,
                      const char *fstype, guint size_mib, GError **error);

/*
 * Thaws (fsfreeze -u, errors ignored: it is usually not frozen), unmounts,
 * detaches the loop device, removes the image and the mountpoint. Safe on a
 * partly created LoopFs. Always frees.
 */
void loopfs_destroy(LoopFs *fs);

/* (transfer full) A FreezeTarget for @fs. */
FreezeTarget *loopfs_target(const LoopFs *fs);

/*
 * The guard: TRUE only if @fs->mountpoint is currently mounted from
 * @fs->loopdev per /proc/self/mountinfo, lies strictly inside
 * @fs->test_dir, has st_dev @fs->dev, and that dev is neither the test dir's
 * filesystem's nor "/"'s.
 */
gboolean loopfs_check_ours(const LoopFs *fs, GError **error);

/*
 * Runs util-linux `fsfreeze -f` (@freeze) or `fsfreeze -u` on @fs, after
 * loopfs_check_ours(). @envp: NULL for our environment (e.g. to LD_PRELOAD
 * the seam). @out_stderr: (optional) (transfer full).
 * Returns: TRUE if fsfreeze exited 0.
 */
gboolean loopfs_fsfreeze(const LoopFs *fs, gboolean freeze, char **envp, char **out_stderr,
                         GError **error);

/* Spawns argv synchronously with PATH search; FALSE unless it exits 0. */
gboolean loopfs_run(const char *const *argv, GError **error);

/* Whether @fs is frozen, as an application sees it: a dd of 16 KiB with
 * fsync into @fs blocks while it is. loopfs_start_write() returns the dd's
 * pid; loopfs_wait_write() is TRUE when it finished within @timeout_ms. */
GPid loopfs_start_write(const LoopFs *fs);
gboolean loopfs_wait_write(GPid pid, int timeout_ms);

/*
 * LoopFsGuard: the FsFreezeOps tests hand to the freezer. Its freeze and
 * thaw call ioctl() only for an fd whose st_dev and /proc/self/fd path are
 * one of the guard's LoopFs and that passes loopfs_check_ours(); any other
 * fd is counted in violations and gets EPERM. It records every call as an
 * event ("F:a", "T:b=EIO": F/T, mountpoint basename, errno name if any)
 * and can inject a failure instead of the ioctl. An event from
 * mark_thread (when set) ends in "*": "T:b*".
 * Thread-safe for loopfs_guard_thaw_all() (a watchdog) against the rest.
 */
typedef struct {
    FsFreezeOps ops;              /* user_data = the guard */
    const LoopFs *fail_freeze;    /* this FIFREEZE returns fail_freeze_errno, no ioctl */
    int fail_freeze_errno;
    const LoopFs *fail_thaw;      /* this FITHAW returns fail_thaw_errno, no ioctl */
    int fail_thaw_errno;
    gint64 sleep_after_freeze_us; /* after each successful FIFREEZE */
    GThread *mark_thread;         /* its events end in "*"; NULL = none */
    GMutex lock;
    GPtrArray *filesystems;       /* owned LoopFs*, creation order */
    GPtrArray *events;            /* owned char* */
    int violations;
} LoopFsGuard;

LoopFsGuard *loopfs_guard_new(void);
/* Thaws and destroys every LoopFs, last created first. */
void loopfs_guard_free(LoopFsGuard *guard);
/* @fs: (transfer full). */
void loopfs_guard_add(LoopFsGuard *guard, LoopFs *fs);
/* (transfer full) The events so far joined by spaces (maybe ""); clears them. */
char *loopfs_guard_take_events(LoopFsGuard *guard);
int loopfs_guard_get_violations(LoopFsGuard *guard);
/*
 * Is @fs frozen? FIFREEZE answers EBUSY if so; if it was not, the probe
 * froze it and thaws it at once. Records no event.
 * Returns: 1 frozen, 0 not frozen, -1 refused by the guard or failed.
 */
int loopfs_guard_probe_frozen(LoopFsGuard *guard, const LoopFs *fs);
/* Emergency thaw for a watchdog: FITHAW until it fails, on each fs, oldest first. */
void loopfs_guard_thaw_all(LoopFsGuard *guard);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LoopFs, loopfs_destroy)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LoopFsGuard, loopfs_guard_free)

#endif
