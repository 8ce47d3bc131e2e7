/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-freezer-failures.c — a freeze that fails leaves nothing frozen:
 * a FIFREEZE error mid-way rolls back, checks run before the first
 * FIFREEZE, a deadline passing mid-freeze rolls back, another process's
 * freeze (EBUSY) is reported and left alone, a failure inside a level frozen
 * concurrently rolls back what froze; and the LD_PRELOAD seam that
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

/* Every FIFREEZE event without an error is matched by exactly one FITHAW
 * after it: a rollback thawed exactly what this attempt froze. */
static void assert_each_freeze_thawed(const char *events)
{
    g_auto(GStrv) words = g_strsplit(events, " ", -1);
    for (guint i = 0; words[i]; i++) {
        if (words[i][0] != 'F' || strchr(words[i], '=')) {
            continue;
        }
        g_autofree char *thaw = g_strdup_printf("T:%s", words[i] + 2);
        guint found = 0;
        for (guint j = i + 1; words[j]; j++) {
            found += g_str_equal(words[j], thaw);
        }
        g_assert_cmpuint(found, ==, 1);
    }
    for (guint i = 0; words[i]; i++) {
        if (words[i][0] == 'T') {
            g_autofree char *freeze = g_strdup_printf("F:%s", words[i] + 2);
            g_assert_true(g_strv_contains((const char *const *)words, freeze));
        }
    }
}

/* One level, frozen concurrently with the pre-sync on: a failure in the
 * middle rolls back whatever had frozen by then, whatever the interleaving. */
static void test_parallel_rollback(Fixture *fixture, gconstpointer data)
{
    LoopFs *a, *b, *c, *d;
    if (!fixture_mount(fixture, "a", "ext4", &a, "b", "xfs", &b, "c", "btrfs", &c, "d", "ext4",
                       &d, NULL)) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_parallel_of(a, b, c, d, NULL);
    FsFreezeOptions options = fixture->options;
    options.presync_timeout_us = 10 * G_USEC_PER_SEC;
    const LoopFs *all[] = { a, b, c, d };
    for (guint round = 0; round < 8; round++) {
        fixture->guard->fail_freeze = all[round % 4];
        fixture->guard->fail_freeze_errno = round % 2 ? EIO : ENOSPC;
        g_autoptr(FsFrozenSet) frozen = NULL;
        g_autoptr(GError) error = NULL;
        g_assert_false(fs_freezer_freeze(targets, &options, &frozen, &error));
        g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
        g_assert_nonnull(error ? strstr(error->message, all[round % 4]->mountpoint) : NULL);
        g_assert_cmpuint(frozen ? fs_frozen_set_get_length(frozen) : 1, ==, 0);
        g_autofree char *events = take_events(fixture);
        g_test_message("round %u: %s", round, events);
        assert_each_freeze_thawed(events);
        for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
            g_assert_false(probe_frozen(fixture, all[i]));
        }
    }
    fixture->guard->fail_freeze = NULL;
    for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
        assert_not_frozen(fixture, all[i]);
    }
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
    FREEZER_ADD("parallel-rollback", test_parallel_rollback);
    FREEZER_ADD("seam-preload", test_seam_preload);
    return quiesce_test_run();
}
