/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-frozen-state.c — the persisted frozen set: file format round trip,
 * atomic replacement, the refusal of a state dir on a target, and restart
 * recovery (thaw in reverse, skip mounts that changed, mark broken, read
 * and clear the broken record).
 *
 * No filesystem is ever frozen or thawed here: the "mountpoints" are plain
 * directories in a temp dir and FsFreezeOps is a recorder that never calls
 * ioctl(), so confine_dir is left NULL (the confinement guard refuses
 * plain directories by design; it is tested with real loop mounts in
 * tests/integration/test-freezer.c).
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/quiesce-error.h"
#include "fsfreeze/frozen-state.h"
#include "tests/support/test-tmpdir.h"

typedef struct {
    char *dir;       /* temp dir, removed in teardown */
    char *state_dir; /* dir/state */
    dev_t dev;       /* st_dev of dir */
} Fixture;

/* Records every thaw call (by real path) and answers from a table. */
typedef struct {
    GPtrArray *thawed_paths;
    const char *fail_path; /* answer fail_errno for this one, 0 for the others */
    int fail_errno;
} Recorder;

static char *fd_path(int fd)
{
    g_autofree char *link = g_strdup_printf("/proc/self/fd/%d", fd);
    return g_file_read_link(link, NULL);
}

static int recorder_freeze(int fd, gpointer user_data)
{
    g_assert_not_reached();
    return ENOSYS;
}

static int recorder_thaw(int fd, gpointer user_data)
{
    Recorder *recorder = user_data;
    char *path = fd_path(fd);
    g_ptr_array_add(recorder->thawed_paths, path);
    if (recorder->fail_path && path && g_str_has_suffix(path, recorder->fail_path)) {
        return recorder->fail_errno;
    }
    return 0;
}

static void recorder_clear(Recorder *recorder)
{
    g_clear_pointer(&recorder->thawed_paths, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Recorder, recorder_clear)

/* frozen_state_recover() of the fixture's state dir, thawing through @recorder. */
static gboolean recover(Fixture *fixture, Recorder *recorder, FrozenStateBroken **broken,
                        GError **error)
{
    FsFreezeOps ops = { .freeze = recorder_freeze, .thaw = recorder_thaw, .user_data = recorder };
    FsFreezeOptions options = { .ops = &ops };

    return frozen_state_recover(fixture->state_dir, &options, NULL, broken, error);
}

static void fixture_setup(Fixture *fixture, gconstpointer data)
{
    fixture->dir = quiesce_test_make_tmp_dir("quiesce-frozen-state-XXXXXX");
    fixture->state_dir = g_build_filename(fixture->dir, "state", NULL);
    struct stat st;
    g_assert_cmpint(stat(fixture->dir, &st), ==, 0);
    fixture->dev = st.st_dev;
}

static void fixture_teardown(Fixture *fixture, gconstpointer data)
{
    quiesce_test_remove_tree(fixture->dir);
    g_free(fixture->dir);
    g_free(fixture->state_dir);
}

/* A target that is a real directory of the fixture ("a" -> dir/a). */
static FreezeTarget *make_dir_target(Fixture *fixture, const char *name)
{
    g_autofree char *path = g_build_filename(fixture->dir, name, NULL);
    g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
    return freeze_target_new(path, fixture->dev, "ext4");
}

static void test_round_trip(Fixture *fixture, gconstpointer data)
{
    g_autoptr(GPtrArray) targets = freeze_target_array_new();
    g_ptr_array_add(targets, freeze_target_new("/srv/data", makedev(7, 3), "xfs"));
    g_ptr_array_add(targets, freeze_target_new("/mnt/with space=and;semi", makedev(259, 1),
                                               "ext4"));
    /* Mount paths are bytes, not necessarily UTF-8 (Latin-1 "caf\xe9" here). */
    g_ptr_array_add(targets, freeze_target_new("/mnt/caf\xe9\n", makedev(8, 17), "vfat"));
    gint64 deadline = g_get_real_time() + 10 * G_USEC_PER_SEC;
    g_autoptr(FrozenState) state = frozen_state_new("7d3c-session", targets, deadline);
    g_autoptr(GError) error = NULL;

    g_assert_true(frozen_state_write(fixture->state_dir, state, &error));
    g_assert_no_error(error);

    /* The file and its marker, mode 0600, no temp file left behind. */
    g_autoptr(GDir) dir = g_dir_open(fixture->state_dir, 0, NULL);
    const char *first = g_dir_read_name(dir);
    const char *second = g_dir_read_name(dir);
    g_assert_true((g_strcmp0(first, FROZEN_STATE_FILENAME) == 0 &&
                   g_strcmp0(second, FROZEN_STATE_MARKER) == 0) ||
                  (g_strcmp0(first, FROZEN_STATE_MARKER) == 0 &&
                   g_strcmp0(second, FROZEN_STATE_FILENAME) == 0));
    g_assert_null(g_dir_read_name(dir));
    g_autofree char *path = g_build_filename(fixture->state_dir, FROZEN_STATE_FILENAME, NULL);
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);

    g_autoptr(FrozenState) read = NULL;
    g_assert_true(frozen_state_read(fixture->state_dir, &read, &error));
    g_assert_no_error(error);
    g_assert_nonnull(read);
    g_assert_cmpstr(read->session_id, ==, "7d3c-session");
    g_assert_cmpint(read->pid, ==, getpid());
    g_assert_cmpint(read->deadline_real_us, ==, deadline);
    g_assert_cmpint(read->created_real_us, ==, state->created_real_us);
    g_assert_cmpuint(read->targets->len, ==, 3);
    for (guint i = 0; i < 3; i++) {
        const FreezeTarget *want = g_ptr_array_index(targets, i);
        const FreezeTarget *got = g_ptr_array_index(read->targets, i);
        g_assert_cmpstr(got->mountpoint, ==, want->mountpoint);
        g_assert_cmpuint(got->dev, ==, want->dev);
        g_assert_cmpstr(got->fstype, ==, want->fstype);
    }

    /* Human-readable, as an operator would cat it. */
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "dev=7:3"));
    g_assert_nonnull(strstr(text, "path=/srv/data"));

    g_assert_true(frozen_state_remove(fixture->state_dir, &error));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_true(frozen_state_remove(fixture->state_dir, &error));
    g_assert_no_error(error);
    g_clear_pointer(&read, frozen_state_free);
    g_assert_true(frozen_state_read(fixture->state_dir, &read, &error));
    g_assert_null(read);
}

static void test_no_deadline(Fixture *fixture, gconstpointer data)
{
    g_autoptr(GPtrArray) targets = freeze_target_array_new();
    g_autoptr(FrozenState) state = frozen_state_new("s", targets, 0);
    g_autoptr(GError) error = NULL;
    g_assert_true(frozen_state_write(fixture->state_dir, state, &error));
    g_autoptr(FrozenState) read = NULL;
    g_assert_true(frozen_state_read(fixture->state_dir, &read, &error));
    g_assert_no_error(error);
    g_assert_cmpint(read->deadline_real_us, ==, 0);
    g_assert_cmpuint(read->targets->len, ==, 0);
}

static void test_refuses_state_dir_on_target(Fixture *fixture, gconstpointer data)
{
    g_autoptr(GPtrArray) targets = freeze_target_array_new();
    g_ptr_array_add(targets, freeze_target_new("/elsewhere", makedev(7, 9), "ext4"));
    g_ptr_array_add(targets, freeze_target_new("/the-fs-of-the-state-dir", fixture->dev,
                                               "ext4"));
    g_autoptr(FrozenState) state = frozen_state_new("s", targets, 0);
    g_autoptr(GError) error = NULL;
    g_assert_false(frozen_state_write(fixture->state_dir, state, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "/the-fs-of-the-state-dir"));
    g_autofree char *path = g_build_filename(fixture->state_dir, FROZEN_STATE_FILENAME, NULL);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void test_corrupt_file(Fixture *fixture, gconstpointer data)
{
    g_assert_cmpint(g_mkdir(fixture->state_dir, 0700), ==, 0);
    g_autofree char *path = g_build_filename(fixture->state_dir, FROZEN_STATE_FILENAME, NULL);
    g_assert_true(g_file_set_contents(path, "[session]\nid=x\nmounts=1\n[mount 0]\n"
                                            "path=/x\ndev=banana\n", -1, NULL));
    g_autoptr(FrozenState) read = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_false(frozen_state_read(fixture->state_dir, &read, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "banana"));
    g_assert_null(read);

    g_clear_error(&error);
    g_autoptr(FrozenStateBroken) broken = NULL;
    FsFreezeOptions options = { 0 };
    g_assert_false(frozen_state_recover(fixture->state_dir, &options, NULL, &broken, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
}

static void test_recover_nothing(Fixture *fixture, gconstpointer data)
{
    g_autoptr(FrozenStateBroken) broken = NULL;
    g_autoptr(GError) error = NULL;
    FsFreezeOptions options = { 0 };
    g_assert_true(frozen_state_recover(fixture->state_dir, &options, NULL, &broken, &error));
    g_assert_no_error(error);
    g_assert_null(broken);
    g_assert_true(frozen_state_clear_broken(fixture->state_dir, &error));
    g_assert_no_error(error);
}

/*
 * Writes a live state file by hand. frozen_state_write() would refuse it:
 * the "mountpoints" here are directories on the state dir's filesystem.
 */
static void write_state(Fixture *fixture, GPtrArray *targets)
{
    g_autoptr(GKeyFile) keyfile = g_key_file_new();
    g_key_file_set_string(keyfile, "session", "id", "session-42");
    g_key_file_set_int64(keyfile, "session", "pid", 999999);
    g_key_file_set_integer(keyfile, "session", "mounts", (int)targets->len);
    for (guint i = 0; i < targets->len; i++) {
        const FreezeTarget *target = g_ptr_array_index(targets, i);
        g_autofree char *group = g_strdup_printf("mount %u", i);
        g_autofree char *dev = g_strdup_printf("%u:%u", major(target->dev), minor(target->dev));
        g_key_file_set_string(keyfile, group, "path", target->mountpoint);
        g_key_file_set_string(keyfile, group, "dev", dev);
        g_key_file_set_string(keyfile, group, "fstype", target->fstype);
    }
    g_assert_cmpint(g_mkdir_with_parents(fixture->state_dir, 0700), ==, 0);
    g_autofree char *path = g_build_filename(fixture->state_dir, FROZEN_STATE_FILENAME, NULL);
    g_assert_true(g_key_file_save_to_file(keyfile, path, NULL));
}

static void test_recover_thaws_and_marks_broken(Fixture *fixture, gconstpointer data)
{
    g_autoptr(GPtrArray) targets = freeze_target_array_new();
    g_ptr_array_add(targets, make_dir_target(fixture, "a"));
    g_ptr_array_add(targets, make_dir_target(fixture, "b"));
    FreezeTarget *changed = make_dir_target(fixture, "c");
    changed->dev = makedev(7, 250); /* the mount changed since the freeze */
    g_ptr_array_add(targets, changed);
    g_autofree char *gone = g_build_filename(fixture->dir, "gone", NULL);
    g_ptr_array_add(targets, freeze_target_new(gone, fixture->dev, "ext4"));
    write_state(fixture, targets);

    g_auto(Recorder) recorder = { g_ptr_array_new_with_free_func(g_free), "/b", EINVAL };
    g_autoptr(FrozenStateBroken) broken = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(recover(fixture, &recorder, &broken, &error));
    g_assert_no_error(error);

    /* Reverse order, only the mounts that still match. */
    g_assert_cmpuint(recorder.thawed_paths->len, ==, 2);
    g_assert_true(g_str_has_suffix(g_ptr_array_index(recorder.thawed_paths, 0), "/b"));
    g_assert_true(g_str_has_suffix(g_ptr_array_index(recorder.thawed_paths, 1), "/a"));
    g_assert_nonnull(broken);
    g_assert_cmpstr(broken->session_id, ==, "session-42");
    g_assert_cmpstr(broken->reason, ==, FROZEN_STATE_REASON_RESTARTED);
    g_assert_cmpuint(broken->thawed, ==, 1);
    g_assert_cmpuint(g_strv_length(broken->notes), ==, 3); /* gone, c changed, b not frozen */

    /* No longer a live state; the broken record is on disk. */
    g_autoptr(FrozenState) live = NULL;
    g_assert_true(frozen_state_read(fixture->state_dir, &live, &error));
    g_assert_null(live);
    g_autoptr(FrozenStateBroken) again = NULL;
    g_assert_true(frozen_state_read_broken(fixture->state_dir, &again, &error));
    g_assert_nonnull(again);
    g_assert_cmpstr(again->session_id, ==, "session-42");
    g_assert_cmpuint(again->thawed, ==, 1);
    g_assert_cmpstrv(again->notes, broken->notes);
    g_assert_cmpint(again->broken_real_us / G_USEC_PER_SEC, ==,
                    broken->broken_real_us / G_USEC_PER_SEC);

    /* A second start does not thaw again; it reports the same record. */
    g_autoptr(FrozenStateBroken) second = NULL;
    g_assert_true(recover(fixture, &recorder, &second, &error));
    g_assert_cmpuint(recorder.thawed_paths->len, ==, 2);
    g_assert_cmpstr(second->session_id, ==, "session-42");

    g_assert_true(frozen_state_clear_broken(fixture->state_dir, &error));
    g_autoptr(FrozenStateBroken) none = NULL;
    g_assert_true(frozen_state_read_broken(fixture->state_dir, &none, &error));
    g_assert_null(none);
}

static void test_recover_thaw_failure(Fixture *fixture, gconstpointer data)
{
    g_autoptr(GPtrArray) targets = freeze_target_array_new();
    g_ptr_array_add(targets, make_dir_target(fixture, "a"));
    g_ptr_array_add(targets, make_dir_target(fixture, "b"));
    write_state(fixture, targets);

    g_auto(Recorder) recorder = { g_ptr_array_new_with_free_func(g_free), "/b", EIO };
    g_autoptr(FrozenStateBroken) broken = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_false(recover(fixture, &recorder, &broken, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "/b: Input/output error"));
    /* Every thaw ran although the first failed. */
    g_assert_cmpuint(recorder.thawed_paths->len, ==, 2);

    /* The record still tells the operator what went wrong. */
    g_autoptr(FrozenStateBroken) record = NULL;
    g_clear_error(&error);
    g_assert_true(frozen_state_read_broken(fixture->state_dir, &record, &error));
    g_assert_nonnull(record);
    g_assert_cmpuint(record->thawed, ==, 1);
    g_assert_cmpuint(g_strv_length(record->notes), ==, 1);
    g_assert_nonnull(strstr(record->notes[0], "failed to thaw"));
}

static void test_clear_refuses_live_state(Fixture *fixture, gconstpointer data)
{
    g_autoptr(GPtrArray) targets = freeze_target_array_new();
    g_autoptr(FrozenState) state = frozen_state_new("live", targets, 0);
    g_autoptr(GError) error = NULL;
    g_assert_true(frozen_state_write(fixture->state_dir, state, &error));
    g_assert_false(frozen_state_clear_broken(fixture->state_dir, &error));
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE);
    g_autoptr(FrozenState) read = NULL;
    g_clear_error(&error);
    g_assert_true(frozen_state_read(fixture->state_dir, &read, &error));
    g_assert_nonnull(read);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, func) \
    g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
    ADD("/frozen-state/round-trip", test_round_trip);
    ADD("/frozen-state/no-deadline", test_no_deadline);
    ADD("/frozen-state/refuses-state-dir-on-target", test_refuses_state_dir_on_target);
    ADD("/frozen-state/corrupt-file", test_corrupt_file);
    ADD("/frozen-state/recover-nothing", test_recover_nothing);
    ADD("/frozen-state/recover-thaws-and-marks-broken", test_recover_thaws_and_marks_broken);
    ADD("/frozen-state/recover-thaw-failure", test_recover_thaw_failure);
    ADD("/frozen-state/clear-refuses-live-state", test_clear_refuses_live_state);
#undef ADD
    return g_test_run();
}
