/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freezer-fixture.c — the loop filesystems, writers and watchdog of the
 * freezer tests (freezer-fixture.h says what guards every freeze).
 */
#include "tests/integration/freezer-fixture.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/quiesce-error.h"
#include "fsfreeze/frozen-state.h"

#define WATCHDOG_US (25 * G_USEC_PER_SEC)

const char *const freezer_fixture_fstypes[] = { "ext4", "xfs", "btrfs", NULL };

void freezer_fixture_init(int *argc, char ***argv)
{
    /* mkfs.*, losetup and fsfreeze live in sbin, absent from some PATHs. */
    const char *path = g_getenv("PATH");
    g_autofree char *full_path =
        g_strdup_printf("%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
    g_setenv("PATH", full_path, TRUE);

    g_test_init(argc, argv, NULL);
    g_test_set_nonfatal_assertions();
}

gboolean probe_frozen(Fixture *fixture, const LoopFs *fs)
{
    int frozen = loopfs_guard_probe_frozen(fixture->guard, fs);
    g_assert_cmpint(frozen, >=, 0);
    return frozen == 1;
}

char *take_events(Fixture *fixture)
{
    return loopfs_guard_take_events(fixture->guard);
}

/* ---- Writers: child processes that write (and fsync) on a filesystem. ---- */

GPid spawn_writer(Fixture *fixture, const LoopFs *fs, const char *name,
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

gboolean wait_writer(Fixture *fixture, GPid pid, gint64 timeout_us, gboolean *exited)
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

void assert_not_frozen(Fixture *fixture, const LoopFs *fs)
{
    gboolean exited = FALSE;
    GPid pid = spawn_writer(fixture, fs, "probe-write", TRUE);
    g_assert_true(pid > 0 && wait_writer(fixture, pid, WRITE_TIMEOUT_US, &exited));
    if (!exited) {
        g_test_message("write to %s did not complete: still frozen?", fs->mountpoint);
    }
    g_assert_false(probe_frozen(fixture, fs));
}

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

void freezer_fixture_setup(Fixture *fixture, gconstpointer data)
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
    static const char state_file[] = "state/" FROZEN_STATE_FILENAME;
    const char *leftovers[] = { state_file, "state", "escape", "plain" };
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

void freezer_fixture_teardown(Fixture *fixture, gconstpointer data)
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

gboolean fixture_skipped(Fixture *fixture)
{
    if (fixture->skip) {
        quiesce_test_skip_missing(fixture->skip);
        return TRUE;
    }
    return FALSE;
}

LoopFs *fixture_add(Fixture *fixture, const char *name, const char *fstype,
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

static GPtrArray *targets_of_valist(gboolean serial, const LoopFs *first, va_list args)
{
    GPtrArray *targets = freeze_target_array_new();
    for (const LoopFs *fs = first; fs; fs = va_arg(args, const LoopFs *)) {
        FreezeTarget *target = loopfs_target(fs);
        target->level = serial ? targets->len : 0;
        g_ptr_array_add(targets, target);
    }
    return targets;
}

GPtrArray *targets_of(const LoopFs *first, ...)
{
    va_list args;
    va_start(args, first);
    GPtrArray *targets = targets_of_valist(TRUE, first, args);
    va_end(args);
    return targets;
}

GPtrArray *targets_parallel_of(const LoopFs *first, ...)
{
    va_list args;
    va_start(args, first);
    GPtrArray *targets = targets_of_valist(FALSE, first, args);
    va_end(args);
    return targets;
}

double ms_since(gint64 start)
{
    return (double)(g_get_monotonic_time() - start) / 1000.0;
}

void freeze_expecting(Fixture *fixture, GPtrArray *targets, int code,
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

gboolean fixture_mount(Fixture *fixture, const char *name, ...)
{
    gboolean ok = TRUE;
    va_list args;

    if (fixture_skipped(fixture)) {
        return FALSE;
    }
    va_start(args, name);
    for (const char *n = name; n; n = va_arg(args, const char *)) {
        const char *fstype = va_arg(args, const char *);
        LoopFs **out = va_arg(args, LoopFs **);
        *out = fixture_add(fixture, n, fstype, NULL);
        ok = ok && *out;
    }
    va_end(args);
    return ok;
}

FsFrozenSet *freeze_all(Fixture *fixture, GPtrArray *targets, double *out_ms)
{
    FsFrozenSet *frozen = NULL;
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time();

    g_assert_true(fs_freezer_freeze(targets, &fixture->options, &frozen, &error));
    g_assert_no_error(error);
    if (out_ms) {
        *out_ms = ms_since(start);
    }
    return frozen;
}
