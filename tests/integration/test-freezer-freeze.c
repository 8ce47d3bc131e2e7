/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-freezer-freeze.c — freezing for real on loop images: a write blocks
 * while frozen and completes after the thaw; ext4, xfs and btrfs frozen
 * together and thawed in reverse; a loop image inside a loop mount frozen
 * inner first and thawed outer first.
 */
#include <string.h>
#include <sys/stat.h>

#include "common/quiesce-error.h"
#include "tests/integration/freezer-fixture.h"

/* ---- (a) A write blocks while frozen and completes after the thaw. ---- */

static void test_write_blocks_while_frozen(Fixture *fixture, gconstpointer data)
{
    LoopFs *a;
    if (!fixture_mount(fixture, "a", "ext4", &a, NULL)) {
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
    LoopFs *e, *x, *b;
    if (!fixture_mount(fixture, "e", "ext4", &e, "x", "xfs", &x, "b", "btrfs", &b, NULL)) {
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

/* ---- (b') The same three in one level, with the pre-sync, dirty data. ---- */

static void test_three_in_parallel(Fixture *fixture, gconstpointer data)
{
    LoopFs *e, *x, *b;
    if (!fixture_mount(fixture, "e", "ext4", &e, "x", "xfs", &x, "b", "btrfs", &b, NULL)) {
        return;
    }
    gboolean exited = FALSE;
    const LoopFs *all[] = { e, x, b };
    for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
        g_assert_true(wait_writer(fixture, spawn_writer(fixture, all[i], "dirty", FALSE),
                                  WRITE_TIMEOUT_US, &exited));
    }
    g_autoptr(GPtrArray) targets = targets_parallel_of(e, x, b, NULL);
    FsFreezeOptions options = fixture->options;
    options.presync_timeout_us = 10 * G_USEC_PER_SEC;
    g_autoptr(FsFrozenSet) frozen = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(fs_freezer_freeze(targets, &options, &frozen, &error));
    g_assert_no_error(error);
    g_autofree char *timings = fs_frozen_set_describe_timings(frozen);
    g_test_message("froze ext4+xfs+btrfs concurrently: %s", timings);
    g_assert_cmpuint(fs_frozen_set_get_timings(frozen)->levels, ==, 1);
    g_assert_cmpuint(fs_frozen_set_get_timings(frozen)->presync_passes, >=, 1);
    g_assert_cmpuint(fs_frozen_set_get_timings(frozen)->presync_passes, <=, FS_PRESYNC_MAX_PASSES);
    g_assert_cmpuint(fs_frozen_set_get_length(frozen), ==, 3);
    for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
        g_assert_true(probe_frozen(fixture, all[i]));
    }
    GPid writer = spawn_writer(fixture, x, "blocked", TRUE);
    g_usleep(BLOCK_CHECK_US);
    g_assert_false(wait_writer(fixture, writer, 0, &exited));
    guint thawed = 0;
    g_assert_true(fs_freezer_thaw(frozen, &thawed, NULL, &error));
    g_assert_cmpuint(thawed, ==, 3);
    g_assert_true(wait_writer(fixture, writer, WRITE_TIMEOUT_US, &exited));
    g_autofree char *events = take_events(fixture);
    /* Any order inside the level, each once. */
    for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
        g_autofree char *name = g_path_get_basename(all[i]->mountpoint);
        g_autofree char *f = g_strdup_printf("F:%s", name);
        g_autofree char *t = g_strdup_printf("T:%s", name);
        g_assert_nonnull(strstr(events, f));
        g_assert_nonnull(strstr(events, t));
        assert_not_frozen(fixture, all[i]);
    }
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

    /* Two levels even when run concurrently: inner (0) before outer (1). */
    g_autoptr(GPtrArray) targets = targets_of(inner, outer, NULL);
    double freeze_ms = 0;
    g_autoptr(FsFrozenSet) frozen = freeze_all(fixture, targets, &freeze_ms);
    g_autoptr(GError) error = NULL;
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

int main(int argc, char **argv)
{
    freezer_fixture_init(&argc, &argv);
    FREEZER_ADD("write-blocks-while-frozen", test_write_blocks_while_frozen);
    FREEZER_ADD("ext4-xfs-btrfs", test_three_filesystems);
    FREEZER_ADD("ext4-xfs-btrfs-parallel", test_three_in_parallel);
    FREEZER_ADD("nested-loop", test_nested_loop);
    return quiesce_test_run();
}
