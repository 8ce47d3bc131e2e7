/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-freezer-thaw.c — thawing: every thaw runs after one fails, a
 * filesystem someone else thawed is a note (and one they froze again is
 * left alone), and a restarted agent thaws what the state file says it had
 * frozen.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "common/quiesce-error.h"
#include "fsfreeze/frozen-state.h"
#include "tests/integration/freezer-fixture.h"

/* ---- Thaw: every thaw runs; EINVAL is a note; ours only. ---- */

/* A level's FITHAWs are handed to fs_parallel_run() with the ones that
 * write (ext4's superblock) first, whatever the set's order
 * (freezer.c thaw_order()): its caller takes the first at once while the
 * threads wake. Seen in that order with the ops run in the caller
 * (in_caller: one after another, in item order). Negative control: in
 * the set's order, xfs's comes first. */
static void test_thaw_writing_one_first(Fixture *fixture, gconstpointer data)
{
    LoopFs *a, *b, *c;

    if (!fixture_mount(fixture, "a", "xfs", &a, "b", "ext4", &b, "c", "btrfs", &c, NULL)) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_parallel_of(a, b, c, NULL); /* one level */
    fixture->guard->ops.in_caller = TRUE;
    g_autoptr(FsFrozenSet) frozen = freeze_all(fixture, targets, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *froze = take_events(fixture);
    g_assert_true(fs_freezer_thaw(frozen, NULL, NULL, &error));
    fixture->guard->ops.in_caller = FALSE;
    g_autofree char *thawed = take_events(fixture);
    g_assert_cmpstr(froze, ==, "F:a F:b F:c");
    g_assert_cmpstr(thawed, ==, "T:b T:a T:c");
}

static void test_thaw_continues_after_failure(Fixture *fixture, gconstpointer data)
{
    LoopFs *a, *b, *c;
    if (!fixture_mount(fixture, "a", "ext4", &a, "b", "xfs", &b, "c", "ext4", &c, NULL)) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_of(a, b, c, NULL);
    g_autoptr(FsFrozenSet) frozen = freeze_all(fixture, targets, NULL);
    g_autoptr(GError) error = NULL;

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
    LoopFs *a, *b;
    if (!fixture_mount(fixture, "a", "ext4", &a, "b", "ext4", &b, NULL)) {
        return;
    }
    g_autoptr(GPtrArray) targets = targets_of(a, b, NULL);
    g_autoptr(FsFrozenSet) frozen = freeze_all(fixture, targets, NULL);
    g_autoptr(GError) error = NULL;
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
    LoopFs *a, *b;
    if (!fixture_mount(fixture, "a", "xfs", &a, "b", "ext4", &b, NULL)) {
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

int main(int argc, char **argv)
{
    freezer_fixture_init(&argc, &argv);
    FREEZER_ADD("thaw-writing-one-first", test_thaw_writing_one_first);
    FREEZER_ADD("thaw-continues-after-failure", test_thaw_continues_after_failure);
    FREEZER_ADD("thaw-not-frozen-is-a-note", test_thaw_not_frozen_is_a_note);
    FREEZER_ADD("recover-after-restart", test_recover_after_restart);
    return quiesce_test_run();
}
