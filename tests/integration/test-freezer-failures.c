/*
 * test-freezer-failures.c — a freeze that fails leaves nothing frozen:
 * a FIFREEZE error mid-way rolls back, checks run before the first
 * FIFREEZE, a deadline passing mid-freeze rolls back, another process's
 * freeze (EBUSY) is reported and left alone; and the LD_PRELOAD seam that
 * produces such errors in the daemon, driven through util-linux fsfreeze.
 */
#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "common/quiesce-error.h"
#include "tests/integration/freezer-fixture.h"

static void test_rollback_on_failure(Fixture *fixture, gconstpointer data)
{
    LoopFs *a, *b, *c;
    if (!fixture_mount(fixture, "a", "ext4", &a, "b", "xfs", &b, "c", "btrfs", &c, NULL)) {
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
    LoopFs *a, *b;
    if (!fixture_mount(fixture, "a", "ext4", &a, "b", "ext4", &b, NULL)) {
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
    LoopFs *a, *b;
    if (!fixture_mount(fixture, "a", "ext4", &a, "b", "ext4", &b, NULL)) {
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
    LoopFs *a, *b, *c;
    if (!fixture_mount(fixture, "a", "ext4", &a, "b", "ext4", &b, "c", "xfs", &c, NULL)) {
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
    if (!seam || !g_file_test(seam, G_FILE_TEST_EXISTS)) {
        quiesce_test_skip_missing("the built seam (QUIESCE_SEAM_FIFREEZE_FAIL)");
        return;
    }
    LoopFs *a, *b;
    if (!fixture_mount(fixture, "a", "ext4", &a, "b", "ext4", &b, NULL)) {
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
    freezer_fixture_init(&argc, &argv);
    FREEZER_ADD("rollback-on-failure", test_rollback_on_failure);
    FREEZER_ADD("checks-before-freezing", test_checks_before_freezing);
    FREEZER_ADD("deadline-mid-freeze", test_deadline_mid_freeze);
    FREEZER_ADD("busy", test_busy);
    FREEZER_ADD("seam-preload", test_seam_preload);
    return quiesce_test_run();
}
