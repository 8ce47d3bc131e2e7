/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-freezer-confine.c — the freezer's confinement, the guard that makes
 * every other freezer test safe: targets outside the confinement dir ("/",
 * "..", a symlink out, a plain directory) are refused before any ioctl, and
 * one bad target among good ones refuses them all; the seam's real-ioctl
 * rules. The first two tests need no root and always run.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "tests/integration/freezer-fixture.h"

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
    FsFreezeOps ops = { .freeze = counter_freeze, .thaw = counter_thaw, .user_data = &counter };
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
    LoopFs *a;
    if (!fixture_mount(fixture, "a", "ext4", &a, NULL)) {
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

/* The seam's own rules (freezer.h): a synthetic machine, or ops run
 * without threads, never with the real FIFREEZE/FITHAW. Refused before
 * anything is opened, so the target ("/") is never touched. */
static void test_seam_refuses_real_ioctls(Fixture *fixture, gconstpointer data)
{
    struct stat root;
    g_assert_cmpint(stat("/", &root), ==, 0);
    const FsFreezeOps *real = fs_freeze_ops_default();
    const struct {
        FsFreezeOps ops;
        const char *message;
    } cases[] = {
        {{.freeze = real->freeze, .thaw = real->thaw, .in_caller = TRUE},
         "refusing to run the real FIFREEZE/FITHAW without threads"},
        {{.freeze = real->freeze, .thaw = real->thaw, .mount_root = fixture->dir},
         "refusing a synthetic mount table with the real FIFREEZE/FITHAW"},
        {{.thaw = real->thaw, .mount_root = fixture->dir, .in_caller = TRUE},
         "refusing a synthetic mount table with the real FIFREEZE/FITHAW"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        FsFreezeOptions options = {.confine_dir = fixture->dir, .ops = &cases[i].ops};
        g_autoptr(GPtrArray) targets = freeze_target_array_new();
        g_ptr_array_add(targets, freeze_target_new("/", root.st_dev, "ext4"));
        g_autoptr(FsFrozenSet) frozen = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_false(fs_freezer_freeze(targets, &options, &frozen, &error));
        g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT);
        g_assert_cmpstr(error->message, ==, cases[i].message);
    }
}

int main(int argc, char **argv)
{
    freezer_fixture_init(&argc, &argv);
    QUIESCE_TEST_ADD("/freezer/confine/refuses-outside", Fixture, NULL, freezer_fixture_setup,
                     test_confine_refuses_outside, freezer_fixture_teardown);
    QUIESCE_TEST_ADD("/freezer/confine/seam-refuses-real-ioctls", Fixture, NULL,
                     freezer_fixture_setup, test_seam_refuses_real_ioctls,
                     freezer_fixture_teardown);
    FREEZER_ADD("confine/checks-all-before-freezing", test_confine_checks_all_before_freezing);
    return quiesce_test_run();
}
