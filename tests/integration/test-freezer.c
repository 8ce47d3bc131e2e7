/*
 * test-freezer.c — the freezer and the frozen state against real kernels:
 * ext4, xfs and btrfs images loop-mounted inside this test's temp dir.
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
 * Needs root, losetup, mount, fsfreeze, mkfs.{ext4,xfs,btrfs}; skips
 * otherwise. The confinement tests need none of it and always run.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "fsfreeze/freezer.h"
#include "fsfreeze/frozen-state.h"
#include "tests/integration/loopfs.h"

#define WATCHDOG_US (25 * G_USEC_PER_SEC)
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

static const char *const all_fstypes[] = { "ext4", "xfs", "btrfs", NULL };

static gboolean probe_frozen(Fixture *fixture, const LoopFs *fs)
{
    int frozen = loopfs_guard_probe_frozen(fixture->guard, fs);
    g_assert_cmpint(frozen, >=, 0);
    return frozen == 1;
}

static char *take_events(Fixture *fixture)
{
    return loopfs_guard_take_events(fixture->guard);
}

/* ---- Writers: child processes that write (and fsync) on a filesystem. ---- */

static GPid spawn_writer(Fixture *fixture, const LoopFs *fs, const char *name,
                         gboolean durable)
{
    g_autofree char *of = g_strdup_printf("of=%s/%s", fs->mountpoint, name);
    const char *argv[] = { "dd", "if=/dev/zero", of, "bs=64k", "count=16", "status=none",
                           durable ? "conv=fsync" : NULL, NULL };
    GPid pid = 0;
    g_autoptr(GError) error = NULL;
    g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                  NULL, NULL, &pid, &error);
    g_assert_no_error(error);
    if (pid > 0) {
        g_array_append_val(fixture->children, pid);
    }
    return pid;
}

/* Waits up to @timeout_us for @pid; TRUE (and reaped) if it exited 0. */
static gboolean wait_writer(Fixture *fixture, GPid pid, gint64 timeout_us, gboolean *exited)
{
    gint64 end = g_get_monotonic_time() + timeout_us;
    int status = 0;
    pid_t got;
    *exited = FALSE;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 && g_get_monotonic_time() < end) {
        g_usleep(2000);
    }
    if (got != pid) {
        return FALSE;
    }
    *exited = TRUE;
    for (guint i = 0; i < fixture->children->len; i++) {
        if (g_array_index(fixture->children, GPid, i) == pid) {
            g_array_remove_index(fixture->children, i);
            break;
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* What a user would check: a write + fsync completes, and nobody holds a freeze. */
static void assert_not_frozen(Fixture *fixture, const LoopFs *fs)
{
    gboolean exited = FALSE;
    GPid pid = spawn_writer(fixture, fs, "probe-write", TRUE);
    g_assert_true(pid > 0 && wait_writer(fixture, pid, WRITE_TIMEOUT_US, &exited));
    if (!exited) {
        g_test_message("write to %s did not complete: still frozen?", fs->mountpoint);
    }
    g_assert_false(probe_frozen(fixture, fs));
}

/* ---- Fixture. ---- */

/* A hung test (say, a freeze order bug) gets its filesystems thawed. */
static gpointer watchdog_main(gpointer data)
{
    Fixture *fixture = data;
    gint64 end = g_get_monotonic_time() + WATCHDOG_US;
    g_mutex_lock(&fixture->watchdog_lock);
    while (!fixture->watchdog_stop &&
           g_cond_wait_until(&fixture->watchdog_cond, &fixture->watchdog_lock, end)) {
    }
    fixture->watchdog_fired = !fixture->watchdog_stop;
    g_mutex_unlock(&fixture->watchdog_lock);
    if (fixture->watchdog_fired) {
        loopfs_guard_thaw_all(fixture->guard);
    }
    return NULL;
}

static void fixture_setup(Fixture *fixture, gconstpointer data)
{
    const char *const *fstypes = data;
    g_autoptr(GError) error = NULL;
    fixture->skip = fstypes ? loopfs_missing_requirement(fstypes) : NULL;
    g_autofree char *dir = g_dir_make_tmp("quiesce-freezer-XXXXXX", &error);
    g_assert_no_error(error);
    fixture->dir = realpath(dir, NULL);
    fixture->guard = loopfs_guard_new();
    fixture->options = (FsFreezeOptions){ .confine_dir = fixture->dir,
                                          .ops = &fixture->guard->ops };
    fixture->children = g_array_new(FALSE, FALSE, sizeof(GPid));
    g_mutex_init(&fixture->watchdog_lock);
    g_cond_init(&fixture->watchdog_cond);
    fixture->watchdog = g_thread_new("watchdog", watchdog_main, fixture);
}

static void remove_test_dir(const char *dir)
{
    const char *leftovers[] = { "state/" FROZEN_STATE_FILENAME, "state", "escape", "plain" };
    for (size_t i = 0; i < G_N_ELEMENTS(leftovers); i++) {
        g_autofree char *path = g_build_filename(dir, leftovers[i], NULL);
        if (g_remove(path) != 0 && errno != ENOENT) {
            g_test_message("could not remove %s: %s", path, g_strerror(errno));
        }
    }
    if (g_rmdir(dir) != 0) {
        g_test_message("could not remove %s: %s", dir, g_strerror(errno));
    }
}

static void fixture_teardown(Fixture *fixture, gconstpointer data)
{
    g_mutex_lock(&fixture->watchdog_lock);
    fixture->watchdog_stop = TRUE;
    g_cond_signal(&fixture->watchdog_cond);
    g_mutex_unlock(&fixture->watchdog_lock);
    g_thread_join(fixture->watchdog);
    g_assert_false(fixture->watchdog_fired);
    g_assert_cmpint(loopfs_guard_get_violations(fixture->guard), ==, 0);

    /* Thaw (the writers then finish), reap, unmount, detach, remove. */
    loopfs_guard_thaw_all(fixture->guard);
    for (guint i = 0; i < fixture->children->len; i++) {
        waitpid(g_array_index(fixture->children, GPid, i), NULL, 0);
    }
    loopfs_guard_free(fixture->guard);
    remove_test_dir(fixture->dir);
    g_array_unref(fixture->children);
    g_cond_clear(&fixture->watchdog_cond);
    g_mutex_clear(&fixture->watchdog_lock);
    g_free(fixture->dir);
    g_free(fixture->skip);
}

static gboolean fixture_skipped(Fixture *fixture)
{
    if (fixture->skip) {
        g_test_skip(fixture->skip);
        return TRUE;
    }
    return FALSE;
}

/* A new LoopFs in the fixture; its image in @image_dir (NULL = the test dir). */
static LoopFs *fixture_add(Fixture *fixture, const char *name, const char *fstype,
                           const char *image_dir)
{
    /* mkfs.xfs refuses images under 300 MiB; btrfs wants over ~114 MiB. */
    guint size_mib = g_str_equal(fstype, "xfs") ? 320 : image_dir ? 32 : 128;
    g_autoptr(GError) error = NULL;
    LoopFs *fs = loopfs_create(fixture->dir, image_dir ? image_dir : fixture->dir, name,
                               fstype, size_mib, &error);
    g_assert_no_error(error);
    if (fs) {
        loopfs_guard_add(fixture->guard, fs);
    }
    return fs;
}

static GPtrArray *targets_of(const LoopFs *first, ...)
{
    GPtrArray *targets = freeze_target_array_new();
    va_list args;
    va_start(args, first);
    for (const LoopFs *fs = first; fs; fs = va_arg(args, const LoopFs *)) {
        g_ptr_array_add(targets, loopfs_target(fs));
    }
    va_end(args);
    return targets;
}

static double ms_since(gint64 start)
{
    return (double)(g_get_monotonic_time() - start) / 1000.0;
}

/* ---- Confinement: the guard that makes every other test safe. ---- */

typedef struct {
    int freezes;
    int thaws;
} Counter;

/* Never reaches ioctl(): the confinement tests must prove the freezer
 * refuses before calling the ops at all. */
static int counter_freeze(int fd, gpointer user_data)
{
    ((Counter *)user_data)->freezes++;
    return 0;
}

static int counter_thaw(int fd, gpointer user_data)
{
    ((Counter *)user_data)->thaws++;
    return 0;
}

static void assert_refused(Fixture *fixture, const char *mountpoint, dev_t dev,
                           const char *message_part)
{
    Counter counter = { 0, 0 };
    FsFreezeOps ops = { counter_freeze, counter_thaw, &counter };
    FsFreezeOptions options = { .confine_dir = fixture->dir, .ops = &ops };
    g_autoptr(GPtrArray) targets = freeze_target_array_new();
    g_ptr_array_add(targets, freeze_target_new(mountpoint, dev, "ext4"));
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_false(fs_freezer_freeze(targets, &options, &frozen, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(error && strstr(error->message, message_part) ? error : NULL);
    g_assert_cmpuint(fs_frozen_set_get_length(frozen), ==, 0);
    g_clear_error(&error);
    /* Thaw failures are collected into one FAILED error. */
    g_assert_false(fs_freezer_thaw_targets(targets, &options, NULL, NULL, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    g_assert_true(error && g_str_has_prefix(error->message, "refusing to touch"));
    g_assert_cmpint(counter.freezes, ==, 0);
    g_assert_cmpint(counter.thaws, ==, 0);
}

static void test_confine_refuses_outside(Fixture *fixture, gconstpointer data)
{
    struct stat root, dir;
    g_assert_cmpint(stat("/", &root), ==, 0);
    g_assert_cmpint(stat(fixture->dir, &dir), ==, 0);

    /* "/" itself: refused by path, before anything is opened. */
    assert_refused(fixture, "/", root.st_dev, "not below the confinement directory");
    /* ".." climbing out of the confinement dir. */
    g_autofree char *climb = g_build_filename(fixture->dir, "..", "..", NULL);
    assert_refused(fixture, climb, root.st_dev, "not below the confinement directory");
    /* A symlink inside that points at "/": only the fd's real path shows it. */
    g_autofree char *link = g_build_filename(fixture->dir, "escape", NULL);
    g_assert_cmpint(symlink("/", link), ==, 0);
    assert_refused(fixture, link, root.st_dev, "resolves to /,");
    /* A plain directory inside: it is the host filesystem, not a mount. */
    g_autofree char *plain = g_build_filename(fixture->dir, "plain", NULL);
    g_assert_cmpint(g_mkdir(plain, 0700), ==, 0);
    assert_refused(fixture, plain, dir.st_dev, "holds the confinement directory");
}

/* A valid loop mount first and "/" last: still refused before any ioctl. */
static void test_confine_checks_all_before_freezing(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "ext4", NULL);
    if (!a) {
        return;
    }
    struct stat root;
    g_assert_cmpint(stat("/", &root), ==, 0);
    g_autoptr(GPtrArray) targets = targets_of(a, NULL);
    g_ptr_array_add(targets, freeze_target_new("/", root.st_dev, "ext4"));
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_false(fs_freezer_freeze(targets, &fixture->options, &frozen, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT);
    g_autofree char *events = take_events(fixture);
    g_assert_cmpstr(events, ==, "");
    g_assert_false(probe_frozen(fixture, a));
}

/* ---- (a) A write blocks while frozen and completes after the thaw. ---- */

static void test_write_blocks_while_frozen(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "ext4", NULL);
    if (!a) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_of(a, NULL);
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();
    g_assert_true(fs_freezer_freeze(targets, &fixture->options, &frozen, &error));
    g_assert_no_error(error);
    g_test_message("froze ext4 in %.1f ms", ms_since(start));

    gboolean exited = FALSE;
    GPid writer = spawn_writer(fixture, a, "blocked", TRUE);
    g_usleep(BLOCK_CHECK_US);
    g_assert_false(wait_writer(fixture, writer, 0, &exited));
    g_assert_false(exited);
    g_assert_true(probe_frozen(fixture, a));

    gint64 thaw_start = g_get_monotonic_time();
    guint thawed = 0;
    g_assert_true(fs_freezer_thaw(frozen, &thawed, NULL, &error));
    g_assert_cmpuint(thawed, ==, 1);
    g_assert_true(wait_writer(fixture, writer, WRITE_TIMEOUT_US, &exited));
    g_test_message("writer blocked %.0f ms while frozen, finished %.1f ms after the thaw",
                   (double)(thaw_start - start) / 1000.0, ms_since(thaw_start));
    g_autofree char *path = g_build_filename(a->mountpoint, "blocked", NULL);
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 16 * 64 * 1024);
}

/* ---- (b) ext4, xfs and btrfs frozen together, thawed in reverse. ---- */

static void test_three_filesystems(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *e = fixture_add(fixture, "e", "ext4", NULL);
    LoopFs *x = fixture_add(fixture, "x", "xfs", NULL);
    LoopFs *b = fixture_add(fixture, "b", "btrfs", NULL);
    if (!e || !x || !b) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_of(e, x, b, NULL);
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();
    g_assert_true(fs_freezer_freeze(targets, &fixture->options, &frozen, &error));
    g_assert_no_error(error);
    double freeze_ms = ms_since(start);
    g_assert_cmpuint(fs_frozen_set_get_length(frozen), ==, 3);
    g_assert_cmpstr(fs_frozen_set_get_target(frozen, 2)->mountpoint, ==, b->mountpoint);
    g_assert_true(probe_frozen(fixture, e));
    g_assert_true(probe_frozen(fixture, x));
    g_assert_true(probe_frozen(fixture, b));

    start = g_get_monotonic_time();
    guint thawed = 0;
    g_auto(GStrv) notes = NULL;
    g_assert_true(fs_freezer_thaw(frozen, &thawed, &notes, &error));
    g_test_message("froze ext4+xfs+btrfs in %.1f ms, thawed in %.1f ms", freeze_ms,
                   ms_since(start));
    g_assert_cmpuint(thawed, ==, 3);
    g_assert_cmpuint(g_strv_length(notes), ==, 0);
    g_assert_cmpuint(fs_frozen_set_get_length(frozen), ==, 0);
    g_autofree char *events = take_events(fixture);
    g_assert_cmpstr(events, ==, "F:e F:x F:b T:b T:x T:e");
    assert_not_frozen(fixture, e);
    assert_not_frozen(fixture, x);
    assert_not_frozen(fixture, b);
}

/* ---- (c) A loop image inside a loop mount: inner first, outer second. ---- */

static void test_nested_loop(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *outer = fixture_add(fixture, "outer", "ext4", NULL);
    LoopFs *inner = outer ? fixture_add(fixture, "inner", "ext4", outer->mountpoint) : NULL;
    if (!outer || !inner) {
        return;
    }
    /* Dirty pages in the inner fs: its FIFREEZE must write them through the
     * loop device into the outer fs, which therefore must not be frozen yet. */
    gboolean exited = FALSE;
    g_assert_true(wait_writer(fixture, spawn_writer(fixture, inner, "dirty", FALSE),
                              WRITE_TIMEOUT_US, &exited));

    g_autoptr(GPtrArray) targets = targets_of(inner, outer, NULL);
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();
    g_assert_true(fs_freezer_freeze(targets, &fixture->options, &frozen, &error));
    g_assert_no_error(error);
    double freeze_ms = ms_since(start);
    g_assert_true(probe_frozen(fixture, inner));
    g_assert_true(probe_frozen(fixture, outer));

    /* Outer first: thawing the inner fs first could make it write to a
     * backing file on a still-frozen filesystem, and block. */
    guint thawed = 0;
    g_assert_true(fs_freezer_thaw(frozen, &thawed, NULL, &error));
    g_assert_cmpuint(thawed, ==, 2);
    g_autofree char *events = take_events(fixture);
    g_assert_cmpstr(events, ==, "F:inner F:outer T:outer T:inner");
    g_test_message("nested loop: froze inner+outer (8 MiB dirty) in %.1f ms", freeze_ms);
    assert_not_frozen(fixture, inner);
    assert_not_frozen(fixture, outer);
}

/* ---- (d) A failure in the middle leaves nothing frozen. ---- */

static void freeze_expecting(Fixture *fixture, GPtrArray *targets, int code,
                             const char *message, const char *events)
{
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_false(fs_freezer_freeze(targets, &fixture->options, &frozen, &error));
    g_assert_error(error, QUIESCE_ERROR, code);
    if (error && message) {
        g_assert_cmpstr(error->message, ==, message);
    }
    g_assert_nonnull(frozen);
    g_assert_cmpuint(frozen ? fs_frozen_set_get_length(frozen) : 1, ==, 0);
    g_autofree char *seen = take_events(fixture);
    g_assert_cmpstr(seen, ==, events);
}

static void test_rollback_on_failure(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "ext4", NULL);
    LoopFs *b = fixture_add(fixture, "b", "xfs", NULL);
    LoopFs *c = fixture_add(fixture, "c", "btrfs", NULL);
    if (!a || !b || !c) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_of(a, b, c, NULL);

    fixture->guard->fail_freeze = b;
    fixture->guard->fail_freeze_errno = EIO;
    g_autofree char *eio = g_strdup_printf("failed to freeze %s: %s", b->mountpoint,
                                           g_strerror(EIO));
    freeze_expecting(fixture, targets, QUIESCE_ERROR_FAILED, eio, "F:a F:b=EIO T:a");
    assert_not_frozen(fixture, a);
    assert_not_frozen(fixture, b);
    assert_not_frozen(fixture, c);

    /* EOPNOTSUPP on the last one is an error too, not a skipped mount. */
    fixture->guard->fail_freeze = c;
    fixture->guard->fail_freeze_errno = EOPNOTSUPP;
    g_autofree char *unsupported = g_strdup_printf(
        "failed to freeze %s: %s (btrfs cannot be frozen)", c->mountpoint,
        g_strerror(EOPNOTSUPP));
    freeze_expecting(fixture, targets, QUIESCE_ERROR_NOT_SUPPORTED, unsupported,
                     "F:a F:b F:c=EOPNOTSUPP T:b T:a");
    fixture->guard->fail_freeze = NULL;
    assert_not_frozen(fixture, a);
    assert_not_frozen(fixture, b);
    assert_not_frozen(fixture, c);
}

/* Opens and checks happen before the first FIFREEZE. */
static void test_checks_before_freezing(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "ext4", NULL);
    LoopFs *b = fixture_add(fixture, "b", "ext4", NULL);
    if (!a || !b) {
        return;
    }
    /* b was re-mounted since probing: its dev no longer matches. */
    g_autoptr(GPtrArray) changed = targets_of(a, NULL);
    g_ptr_array_add(changed, freeze_target_new(b->mountpoint, makedev(7, 255), "ext4"));
    freeze_expecting(fixture, changed, QUIESCE_ERROR_NOT_FOUND, NULL, "");
    /* A mountpoint that is gone. */
    g_autoptr(GPtrArray) gone = targets_of(a, NULL);
    g_autofree char *missing = g_build_filename(fixture->dir, "missing", NULL);
    g_ptr_array_add(gone, freeze_target_new(missing, b->dev, "ext4"));
    freeze_expecting(fixture, gone, QUIESCE_ERROR_FAILED, NULL, "");
    /* One superblock twice would EBUSY on itself. */
    g_autoptr(GPtrArray) twice = targets_of(a, b, a, NULL);
    freeze_expecting(fixture, twice, QUIESCE_ERROR_INVALID_ARGUMENT, NULL, "");
    /* A deadline already passed. */
    g_autoptr(GPtrArray) both = targets_of(a, b, NULL);
    FsFreezeOptions late = fixture->options;
    late.deadline = g_get_monotonic_time() - 1;
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_false(fs_freezer_freeze(both, &late, &frozen, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT);
    g_autofree char *events = take_events(fixture);
    g_assert_cmpstr(events, ==, "");
    assert_not_frozen(fixture, a);
    assert_not_frozen(fixture, b);
}

/* The deadline passes between two FIFREEZEs: roll back. */
static void test_deadline_mid_freeze(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "ext4", NULL);
    LoopFs *b = fixture_add(fixture, "b", "ext4", NULL);
    if (!a || !b) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_of(a, b, NULL);
    FsFreezeOptions options = fixture->options;
    options.deadline = g_get_monotonic_time() + 200 * 1000;
    fixture->guard->sleep_after_freeze_us = 300 * 1000;
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_false(fs_freezer_freeze(targets, &options, &frozen, &error));
    fixture->guard->sleep_after_freeze_us = 0;
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT);
    g_assert_cmpuint(fs_frozen_set_get_length(frozen), ==, 0);
    g_autofree char *events = take_events(fixture);
    g_assert_cmpstr(events, ==, "F:a T:a");
    assert_not_frozen(fixture, a);
    assert_not_frozen(fixture, b);
}

/* ---- (e) EBUSY: someone else's freeze is reported and left alone. ---- */

static void test_busy(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "ext4", NULL);
    LoopFs *b = fixture_add(fixture, "b", "ext4", NULL);
    LoopFs *c = fixture_add(fixture, "c", "xfs", NULL);
    if (!a || !b || !c) {
        return;
    }
    g_autoptr(GError) error = NULL;
    g_assert_true(loopfs_fsfreeze(b, TRUE, NULL, NULL, &error));
    g_assert_no_error(error);

    g_autoptr(GPtrArray) targets = targets_of(a, b, c, NULL);
    g_autofree char *busy = g_strdup_printf("%s is already frozen by another process",
                                            b->mountpoint);
    freeze_expecting(fixture, targets, QUIESCE_ERROR_BUSY, busy, "F:a F:b=EBUSY T:a");
    assert_not_frozen(fixture, a);
    assert_not_frozen(fixture, c);
    g_assert_true(probe_frozen(fixture, b)); /* still theirs, still frozen */

    g_assert_true(loopfs_fsfreeze(b, FALSE, NULL, NULL, &error));
    g_assert_no_error(error);
    assert_not_frozen(fixture, b);
}

/* ---- Thaw: every thaw runs; EINVAL is a note; ours only. ---- */

static void test_thaw_continues_after_failure(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "ext4", NULL);
    LoopFs *b = fixture_add(fixture, "b", "xfs", NULL);
    LoopFs *c = fixture_add(fixture, "c", "ext4", NULL);
    if (!a || !b || !c) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_of(a, b, c, NULL);
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(fs_freezer_freeze(targets, &fixture->options, &frozen, &error));

    fixture->guard->fail_thaw = b; /* b's FITHAW "fails": b stays frozen */
    fixture->guard->fail_thaw_errno = EIO;
    guint thawed = 0;
    g_assert_false(fs_freezer_thaw(frozen, &thawed, NULL, &error));
    fixture->guard->fail_thaw = NULL;
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    g_autofree char *expected = g_strdup_printf("failed to thaw %s: %s", b->mountpoint,
                                                g_strerror(EIO));
    g_assert_cmpstr(error ? error->message : NULL, ==, expected);
    g_assert_cmpuint(thawed, ==, 2);
    g_assert_cmpuint(fs_frozen_set_get_length(frozen), ==, 1);
    assert_not_frozen(fixture, a);
    assert_not_frozen(fixture, c);
    g_assert_true(probe_frozen(fixture, b));

    /* The set kept b for a retry. */
    g_clear_error(&error);
    g_assert_true(fs_freezer_thaw(frozen, &thawed, NULL, &error));
    g_assert_cmpuint(thawed, ==, 1);
    g_autofree char *events = take_events(fixture);
    g_assert_cmpstr(events, ==, "F:a F:b F:c T:c T:b=EIO T:a T:b");
    assert_not_frozen(fixture, b);
}

static void test_thaw_not_frozen_is_a_note(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "ext4", NULL);
    LoopFs *b = fixture_add(fixture, "b", "ext4", NULL);
    if (!a || !b) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_of(a, b, NULL);
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(fs_freezer_freeze(targets, &fixture->options, &frozen, &error));
    g_assert_true(loopfs_fsfreeze(a, FALSE, NULL, NULL, &error)); /* someone thaws a */

    guint thawed = 0;
    g_auto(GStrv) notes = NULL;
    g_assert_true(fs_freezer_thaw(frozen, &thawed, &notes, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(thawed, ==, 1);
    g_assert_cmpuint(g_strv_length(notes), ==, 1);
    g_assert_true(notes && notes[0] && g_str_has_prefix(notes[0], a->mountpoint));

    /* Someone freezes a again; thawing our (now empty) set leaves it alone,
     * where qemu-ga's thaw would undo every freeze it finds. */
    g_assert_true(loopfs_fsfreeze(a, TRUE, NULL, NULL, &error));
    g_assert_true(fs_freezer_thaw(frozen, &thawed, NULL, &error));
    g_assert_cmpuint(thawed, ==, 0);
    g_assert_true(probe_frozen(fixture, a));
    g_assert_true(loopfs_fsfreeze(a, FALSE, NULL, NULL, &error));
    g_autofree char *events = take_events(fixture);
    g_assert_cmpstr(events, ==, "F:a F:b T:b T:a=EINVAL");
    assert_not_frozen(fixture, a);
    assert_not_frozen(fixture, b);
}

/* ---- Restart recovery from the state file. ---- */

static void test_recover_after_restart(Fixture *fixture, gconstpointer data)
{
    if (fixture_skipped(fixture)) {
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "xfs", NULL);
    LoopFs *b = fixture_add(fixture, "b", "ext4", NULL);
    if (!a || !b) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_of(a, b, NULL);
    g_autofree char *state_dir = g_build_filename(fixture->dir, "state", NULL);
    g_autoptr(GError) error = NULL;

    /* A state dir on a target is refused. */
    g_autofree char *on_target = g_build_filename(a->mountpoint, "state", NULL);
    g_autoptr(FrozenState) state = frozen_state_new("session-1", targets, 0);
    g_assert_false(frozen_state_write(on_target, state, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_rmdir(on_target);

    /* Write the state, freeze, and "crash": the fds close, nothing thaws. */
    g_assert_true(frozen_state_write(state_dir, state, &error));
    FsFrozenSet *frozen = NULL;
    g_assert_true(fs_freezer_freeze(targets, &fixture->options, &frozen, &error));
    fs_frozen_set_free(frozen);
    g_assert_true(probe_frozen(fixture, a));
    g_assert_true(probe_frozen(fixture, b));

    /* The restarted agent. */
    g_autoptr(FrozenStateBroken) broken = NULL;
    gint64 start = g_get_monotonic_time();
    g_assert_true(frozen_state_recover(state_dir, &fixture->options, NULL, &broken, &error));
    g_assert_no_error(error);
    g_test_message("recovery thawed 2 filesystems in %.1f ms", ms_since(start));
    g_assert_nonnull(broken);
    g_assert_cmpstr(broken ? broken->session_id : NULL, ==, "session-1");
    g_assert_cmpuint(broken ? broken->thawed : 0, ==, 2);
    g_autofree char *events = take_events(fixture);
    g_assert_cmpstr(events, ==, "F:a F:b T:b T:a");
    assert_not_frozen(fixture, a);
    assert_not_frozen(fixture, b);

    /* The host's later post learns the session was broken; then it is cleared. */
    g_autoptr(FrozenStateBroken) record = NULL;
    g_assert_true(frozen_state_read_broken(state_dir, &record, &error));
    g_assert_cmpstr(record ? record->reason : NULL, ==, FROZEN_STATE_REASON_RESTARTED);
    g_assert_true(frozen_state_clear_broken(state_dir, &error));
    g_assert_no_error(error);
}

/* ---- The LD_PRELOAD seam, driven through util-linux fsfreeze. ---- */

static gboolean seam_fsfreeze(const LoopFs *fs, gboolean freeze, const char *const *vars,
                              char **out_stderr)
{
    char **envp = g_get_environ();
    envp = g_environ_setenv(envp, "LD_PRELOAD", g_getenv("QUIESCE_SEAM_FIFREEZE_FAIL"), TRUE);
    for (guint i = 0; vars[i]; i += 2) {
        envp = g_environ_setenv(envp, vars[i], vars[i + 1], TRUE);
    }
    gboolean ok = loopfs_fsfreeze(fs, freeze, envp, out_stderr, NULL);
    g_strfreev(envp);
    return ok;
}

static void test_seam_preload(Fixture *fixture, gconstpointer data)
{
    const char *seam = g_getenv("QUIESCE_SEAM_FIFREEZE_FAIL");
    if (fixture_skipped(fixture)) {
        return;
    }
    if (!seam || !g_file_test(seam, G_FILE_TEST_EXISTS)) {
        g_test_skip("QUIESCE_SEAM_FIFREEZE_FAIL does not name the built seam");
        return;
    }
    LoopFs *a = fixture_add(fixture, "a", "ext4", NULL);
    LoopFs *b = fixture_add(fixture, "b", "ext4", NULL);
    if (!a || !b) {
        return;
    }
    g_autofree char *b_dev = g_strdup_printf("%u:%u", major(b->dev), minor(b->dev));
    g_autofree char *err = NULL;

    const char *by_path[] = { "QUIESCE_SEAM_FAIL_FREEZE_PATH", a->mountpoint,
                              "QUIESCE_SEAM_FAIL_FREEZE_ERRNO", "EIO", NULL };
    g_assert_false(seam_fsfreeze(a, TRUE, by_path, &err));
    g_assert_nonnull(err && strstr(err, g_strerror(EIO)) ? err : NULL);
    g_assert_false(probe_frozen(fixture, a));
    g_clear_pointer(&err, g_free);

    const char *by_dev[] = { "QUIESCE_SEAM_FAIL_FREEZE_DEV", b_dev,
                             "QUIESCE_SEAM_FAIL_FREEZE_ERRNO", "ENOSPC", NULL };
    g_assert_false(seam_fsfreeze(b, TRUE, by_dev, &err));
    g_assert_nonnull(err && strstr(err, g_strerror(ENOSPC)) ? err : NULL);
    g_assert_false(probe_frozen(fixture, b));
    /* Another filesystem is not affected. */
    g_assert_true(seam_fsfreeze(a, TRUE, by_dev, NULL));
    g_assert_true(probe_frozen(fixture, a));

    /* A failing thaw that still thaws (so nothing stays frozen). */
    const char *thaw[] = { "QUIESCE_SEAM_FAIL_THAW_PATH", a->mountpoint,
                           "QUIESCE_SEAM_FAIL_THAW_ERRNO", "EIO",
                           "QUIESCE_SEAM_FAIL_THAW_AFTER", "1", NULL };
    g_assert_false(seam_fsfreeze(a, FALSE, thaw, NULL));
    g_assert_false(probe_frozen(fixture, a));
}

int main(int argc, char **argv)
{
    /* mkfs.*, losetup and fsfreeze live in sbin, absent from some PATHs. */
    const char *path = g_getenv("PATH");
    g_autofree char *full_path =
        g_strdup_printf("%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
    g_setenv("PATH", full_path, TRUE);

    g_test_init(&argc, &argv, NULL);
    g_test_set_nonfatal_assertions();
#define ADD(name, fstypes, func) \
    g_test_add("/freezer/" name, Fixture, fstypes, fixture_setup, func, fixture_teardown)
    ADD("confine/refuses-outside", NULL, test_confine_refuses_outside);
    ADD("confine/checks-all-before-freezing", all_fstypes, test_confine_checks_all_before_freezing);
    ADD("write-blocks-while-frozen", all_fstypes, test_write_blocks_while_frozen);
    ADD("ext4-xfs-btrfs", all_fstypes, test_three_filesystems);
    ADD("nested-loop", all_fstypes, test_nested_loop);
    ADD("rollback-on-failure", all_fstypes, test_rollback_on_failure);
    ADD("checks-before-freezing", all_fstypes, test_checks_before_freezing);
    ADD("deadline-mid-freeze", all_fstypes, test_deadline_mid_freeze);
    ADD("busy", all_fstypes, test_busy);
    ADD("thaw-continues-after-failure", all_fstypes, test_thaw_continues_after_failure);
    ADD("thaw-not-frozen-is-a-note", all_fstypes, test_thaw_not_frozen_is_a_note);
    ADD("recover-after-restart", all_fstypes, test_recover_after_restart);
    ADD("seam-preload", all_fstypes, test_seam_preload);
#undef ADD
    return g_test_run();
}
