/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-classify.c — every fixture mount gets the class an operator expects,
 * with a reason that names what made it so.
 */
#include "fsfreeze/fs-type.h"
#include "fsfreeze/inventory.h"
#include "fsfreeze/mount-class.h"
#include "tests/support/inventory-fixture.h"
#include "tests/support/test-run.h"

#include <string.h>

/* The expectations live beside the fixtures, one line per mount, so a new
 * fixture (recorded or synthesized) brings its own: tests/fixtures/
 * expected-classes, "fixture TAB mountpoint TAB class TAB reason part". */
static void check_expected_line(const char *line, guint lineno)
{
    g_auto(GStrv) field = g_strsplit(line, "\t", 4);
    g_autoptr(Inventory) inventory = NULL;
    const InventoryMount *mount;
    g_autofree char *reason = NULL;
    const char *klass;

    if (g_strv_length(field) != 4) {
        g_error("expected-classes:%u: want 4 tab-separated fields: %s", lineno, line);
    }
    inventory = inventory_fixture_load(field[0]);
    mount = inventory_fixture_find(inventory, field[1]);
    klass = mount_class_to_string(mount_class_compute(mount, &reason));
    g_test_message("%s %s", field[0], field[1]);
    if (!g_str_equal(klass, field[2]) || !strstr(reason, field[3])) {
        g_error("expected-classes:%u: %s %s: got %s (%s), expected %s (…%s…)", lineno,
                field[0], field[1], klass, reason, field[2], field[3]);
    }
}

static void test_fixture_classes(void)
{
    g_autofree char *path =
        g_build_filename(g_getenv("QUIESCE_FIXTURES"), "expected-classes", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) error = NULL;
    guint checked = 0;

    g_assert_true(g_file_get_contents(path, &text, NULL, &error));
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (lines[i][0] == '\0' || lines[i][0] == '#') {
            continue;
        }
        check_expected_line(lines[i], i + 1);
        checked++;
    }
    g_assert_cmpuint(checked, >=, 52); /* the file was not cut short */
}

/* Every mount of every fixture (each directory with a mountinfo) gets a
 * class and a non-empty reason. */
static void test_every_mount_classified(void)
{
    const char *root = g_getenv("QUIESCE_FIXTURES");
    g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
    const char *name;
    guint fixtures = 0;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *mountinfo = g_build_filename(root, name, "mountinfo", NULL);
        g_autoptr(Inventory) inventory = NULL;

        if (!g_file_test(mountinfo, G_FILE_TEST_IS_REGULAR)) {
            continue;
        }
        inventory = inventory_fixture_load(name);
        for (guint i = 0; i < inventory->mounts->len; i++) {
            g_autofree char *reason = NULL;
            MountClass klass = mount_class_compute(inventory->mounts->pdata[i], &reason);
            g_assert_cmpint(klass, !=, MOUNT_CLASS_EXCLUDED);
            g_assert_nonnull(reason);
            g_assert_cmpuint(strlen(reason), >, 5);
        }
        fixtures++;
    }
    g_assert_cmpuint(fixtures, >=, 23);
}

static void test_class_names(void)
{
    g_assert_cmpstr(mount_class_to_string(MOUNT_CLASS_BASIC), ==, "basic");
    g_assert_cmpstr(mount_class_to_string(MOUNT_CLASS_VOLUME_MANAGED), ==, "volume-managed");
    g_assert_cmpstr(mount_class_to_string(MOUNT_CLASS_DYNAMIC), ==, "dynamic");
    g_assert_cmpstr(mount_class_to_string(MOUNT_CLASS_NOT_HOST_VISIBLE), ==, "not-host-visible");
    g_assert_cmpstr(mount_class_to_string(MOUNT_CLASS_LOOP_BACKED), ==, "loop-backed");
    g_assert_cmpstr(mount_class_to_string(MOUNT_CLASS_UNSUPPORTED_FILESYSTEM), ==,
                    "unsupported-filesystem");
    g_assert_cmpstr(mount_class_to_string(MOUNT_CLASS_READ_ONLY), ==, "read-only");
    g_assert_cmpstr(mount_class_to_string(MOUNT_CLASS_PSEUDO), ==, "pseudo");
    g_assert_cmpstr(mount_class_to_string(MOUNT_CLASS_EXCLUDED), ==, "excluded");
}

static void test_fs_type_table(void)
{
    const char *freezable[] = { "ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "jfs",
                                "reiserfs", "nilfs2", "gfs2", "bcachefs" };
    const char *no_freeze[] = { "vfat", "exfat", "ntfs3", "fuseblk", "iso9660", "zfs" };

    for (gsize i = 0; i < G_N_ELEMENTS(freezable); i++) {
        g_assert_true(fs_type_is_freezable(freezable[i]));
    }
    for (gsize i = 0; i < G_N_ELEMENTS(no_freeze); i++) {
        g_assert_cmpint(fs_type_get_kind(no_freeze[i]), ==, FS_TYPE_KIND_NO_FREEZE);
    }
    g_assert_cmpint(fs_type_get_kind("fuse.rclone"), ==, FS_TYPE_KIND_NETWORK);
    g_assert_cmpint(fs_type_get_kind("fuse"), ==, FS_TYPE_KIND_NETWORK);
    g_assert_cmpint(fs_type_get_kind("fuse.lxcfs"), ==, FS_TYPE_KIND_PSEUDO);
    g_assert_cmpint(fs_type_get_kind("virtiofs"), ==, FS_TYPE_KIND_HOST_SHARED);
    g_assert_cmpint(fs_type_get_kind("overlay"), ==, FS_TYPE_KIND_STACKED);
    g_assert_cmpint(fs_type_get_kind("somethingnew"), ==, FS_TYPE_KIND_UNKNOWN);
    g_assert_cmpint(fs_type_get_kind(NULL), ==, FS_TYPE_KIND_UNKNOWN);
    /* Whose FITHAW writes (the superblock): the thaw's order within a level. */
    g_assert_true(fs_type_thaw_writes("ext4") && fs_type_thaw_writes("ext3") &&
                  fs_type_thaw_writes("ext2"));
    g_assert_false(fs_type_thaw_writes("xfs") || fs_type_thaw_writes("btrfs") ||
                   fs_type_thaw_writes(NULL));
}

static const QuiesceTestFunc tests[] = {
    { "/classify/fixtures", test_fixture_classes },
    { "/classify/every-mount", test_every_mount_classified },
    { "/classify/class-names", test_class_names },
    { "/classify/fs-type-table", test_fs_type_table },
};

QUIESCE_TEST_MAIN(tests)
