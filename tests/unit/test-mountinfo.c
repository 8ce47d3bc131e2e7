/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-mountinfo.c — the mount table parser and the inventory's view of it:
 * one entry per superblock, aliases, btrfs subvolumes, covered mounts,
 * read-only, loop backing files. Runs on tests/fixtures/<case>/mountinfo.
 */
#include "fsfreeze/inventory.h"
#include "fsfreeze/mountinfo.h"

#include "common/quiesce-error.h"
#include "tests/support/inventory-fixture.h"
#include "tests/support/test-run.h"

#include <sys/sysmacros.h>

static void test_parse_fields(void)
{
    const char *text =
        "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 shared:7 - ext3 /dev/root "
        "rw,errors=continue\n"
        "40 36 252:17 /dir\\040with\\011tab /srv/my\\040share\\134x ro,relatime - ext4 "
        "/dev/disk\\040by\\040label rw\n"
        "41 36 0:50 / /mnt/empty rw - tmpfs  rw\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) entries = mountinfo_parse(text, &error);
    const MountEntry *e;

    g_assert_no_error(error);
    g_assert_cmpuint(entries->len, ==, 3);
    e = entries->pdata[0];
    g_assert_cmpint(e->id, ==, 36);
    g_assert_cmpint(e->parent_id, ==, 35);
    g_assert_cmpuint(major(e->dev), ==, 98);
    g_assert_cmpuint(minor(e->dev), ==, 0);
    g_assert_cmpstr(e->root, ==, "/mnt1");
    g_assert_cmpstr(e->mountpoint, ==, "/mnt/parent");
    g_assert_cmpstr(e->fstype, ==, "ext3");
    g_assert_cmpstr(e->source, ==, "/dev/root");
    g_assert_cmpstr(e->super_options, ==, "rw,errors=continue");
    g_assert_false(e->read_only);
    e = entries->pdata[1];
    g_assert_cmpstr(e->root, ==, "/dir with\ttab");
    g_assert_cmpstr(e->mountpoint, ==, "/srv/my share\\x");
    g_assert_cmpstr(e->source, ==, "/dev/disk by label");
    g_assert_true(e->read_only);
    g_assert_false(e->super_read_only);
    e = entries->pdata[2];
    g_assert_cmpstr(e->source, ==, "");
    g_assert_cmpstr(e->fstype, ==, "tmpfs");
}

static void test_parse_rejects_malformed(void)
{
    const char *bad[] = {
        "36 35 98:0 /mnt1 /mnt/parent rw,noatime ext3 /dev/root rw\n", /* no separator */
        "36 35 98 / /mnt rw - ext4 /dev/vda rw\n",                      /* no minor */
        "x 35 98:0 / /mnt rw - ext4 /dev/vda rw\n",                     /* bad id */
        "36 35 98:0 / /mnt rw - ext4 /dev/vda\n",                       /* no super options */
        "36 35 98:0 / relative rw - ext4 /dev/vda rw\n",                /* relative mountpoint */
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) entries = mountinfo_parse(bad[i], &error);
        g_assert_null(entries);
        g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
    }
}

static void test_unescape_and_paths(void)
{
    g_autofree char *plain = mountinfo_unescape("/a\\040b\\012c\\\\d\\9");

    g_assert_cmpstr(plain, ==, "/a b\nc\\d\\9");
    g_assert_true(mountinfo_options_has("rw,ro,relatime", "ro"));
    g_assert_false(mountinfo_options_has("rw,errors=remount-ro", "ro"));
    g_assert_true(mountinfo_path_contains("/", "/anything"));
    g_assert_true(mountinfo_path_contains("/data", "/data"));
    g_assert_true(mountinfo_path_contains("/data", "/data/img"));
    g_assert_false(mountinfo_path_contains("/data", "/database"));
    g_assert_cmpuint(mountinfo_path_depth("/"), ==, 0);
    g_assert_cmpuint(mountinfo_path_depth("/data/img/inner"), ==, 3);
}

static void test_read_missing_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) entries = mountinfo_read("/nonexistent/mountinfo", &error);

    g_assert_null(entries);
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
}

/* Four mounts of vdb1 (whole fs, two subdirectory binds and a file bind)
 * become one filesystem, frozen through /data. */
static void test_bind_mounts_are_one_filesystem(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("bind-mounts");
    const InventoryMount *data = inventory_fixture_find(inventory, "/data");
    const InventoryMount *root = inventory_fixture_find(inventory, "/");

    g_assert_true(data == inventory_fixture_find(inventory, "/var/www"));
    g_assert_true(data == inventory_fixture_find(inventory, "/etc/app.conf"));
    g_assert_true(data == inventory_fixture_find(inventory, "/srv/my share"));
    g_assert_cmpstr(data->mountpoint, ==, "/data");
    g_assert_cmpstr(data->root, ==, "/");
    g_assert_cmpuint(data->aliases->len, ==, 3);
    g_assert_cmpstr(data->aliases->pdata[0], ==, "/var/www");
    g_assert_cmpstr(data->aliases->pdata[1], ==, "/etc/app.conf");
    g_assert_cmpstr(data->aliases->pdata[2], ==, "/srv/my share");
    g_assert_cmpstr(data->device_name, ==, "vdb1");
    g_assert_cmpstr(root->mountpoint, ==, "/");
    g_assert_cmpuint(root->aliases->len, ==, 1);
    g_assert_cmpstr(root->aliases->pdata[0], ==, "/mnt/rootfs");
}

/* Subvolumes of one btrfs share the superblock: one entry, "/" kept (the
 * shorter subvolume root), the real block device found from the source. */
static void test_btrfs_subvolumes_are_one_filesystem(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("btrfs-subvolumes");
    const InventoryMount *root = inventory_fixture_find(inventory, "/");

    g_assert_true(root == inventory_fixture_find(inventory, "/home"));
    g_assert_cmpstr(root->mountpoint, ==, "/");
    g_assert_cmpstr(root->root, ==, "/@");
    g_assert_cmpuint(root->aliases->len, ==, 1);
    g_assert_cmpstr(root->aliases->pdata[0], ==, "/home");
    g_assert_cmpuint(major(root->sb_dev), ==, 0);
    g_assert_cmpuint(major(root->block_dev), ==, 252);
    g_assert_cmpuint(minor(root->block_dev), ==, 2);
    g_assert_cmpstr(root->device_name, ==, "vda2");
    g_assert_nonnull(root->stack);
    g_assert_cmpint(root->stack->kind, ==, DEVICE_NODE_KIND_PARTITION);
}

/* A mount hidden under a later mount on the same path cannot be frozen
 * through that path: another mountpoint of the filesystem is kept. */
static void test_covered_mounts(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("overmount");
    const InventoryMount *data = inventory_fixture_find(inventory, "/mnt/data");
    const InventoryMount *hidden = inventory_fixture_find(inventory, "/hidden");

    g_assert_cmpstr(data->mountpoint, ==, "/mnt/data");
    g_assert_cmpstr(data->aliases->pdata[0], ==, "/data");
    g_assert_false(data->all_covered);
    g_assert_cmpstr(hidden->fstype, ==, "ext4");
    g_assert_true(hidden->all_covered);
    /* Paths under /data now lead to the tmpfs on top. */
    g_assert_cmpstr(inventory_find_holder(inventory, "/data/file")->fstype, ==, "tmpfs");
}

static void test_read_only(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("read-only");

    g_assert_true(inventory_fixture_find(inventory, "/srv/reference")->read_only);
    g_assert_true(inventory_fixture_find(inventory, "/media/cdrom")->read_only);
    /* A read-only bind of / leaves / writable. */
    g_assert_false(inventory_fixture_find(inventory, "/")->read_only);
    g_assert_true(inventory_fixture_find(inventory, "/") == inventory_fixture_find(inventory, "/mnt/ro-root"));
}

static void test_loop_holders(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("loop-in-loop");
    const InventoryMount *img = inventory_fixture_find(inventory, "/data/img");
    const InventoryMount *inner = inventory_fixture_find(inventory, "/data/img/inner");
    const InventoryLoop *dep;

    g_assert_cmpuint(img->loops->len, ==, 1);
    dep = img->loops->pdata[0];
    g_assert_cmpstr(dep->loop->name, ==, "loop0");
    g_assert_cmpstr(dep->loop->backing_file, ==, "/data/outer.img");
    g_assert_true(dep->holder == inventory_fixture_find(inventory, "/data"));
    dep = inner->loops->pdata[0];
    g_assert_true(dep->holder == img);
    g_assert_cmpuint(inventory_fixture_find(inventory, "/data")->loops->len, ==, 0);
}

static void test_loop_deleted_backing_file(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("loop-elsewhere");
    const InventoryLoop *dep = inventory_fixture_find(inventory, "/mnt/orphan")->loops->pdata[0];

    g_assert_cmpstr(dep->loop->backing_file, ==, "/srv/images/old.img");
    g_assert_true(dep->loop->backing_deleted);
    g_assert_true(dep->holder == inventory_fixture_find(inventory, "/srv/images"));
}

static void test_mount_order_and_pseudo(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("pseudo");
    const InventoryMount *first = inventory->mounts->pdata[0];

    g_assert_cmpstr(first->mountpoint, ==, "/sys");
    g_assert_null(first->stack);
    g_assert_cmpuint(first->block_dev, ==, 0);
    for (guint i = 0; i < inventory->mounts->len; i++) {
        g_assert_cmpuint(((InventoryMount *)inventory->mounts->pdata[i])->index, ==, i);
    }
    g_assert_cmpuint(inventory->entries->len, ==, inventory->mounts->len);
}

static const QuiesceTestFunc tests[] = {
    { "/mountinfo/parse-fields", test_parse_fields },
    { "/mountinfo/parse-rejects-malformed", test_parse_rejects_malformed },
    { "/mountinfo/unescape-and-paths", test_unescape_and_paths },
    { "/mountinfo/read-missing-file", test_read_missing_file },
    { "/mountinfo/bind-mounts", test_bind_mounts_are_one_filesystem },
    { "/mountinfo/btrfs-subvolumes", test_btrfs_subvolumes_are_one_filesystem },
    { "/mountinfo/covered-mounts", test_covered_mounts },
    { "/mountinfo/read-only", test_read_only },
    { "/mountinfo/loop-holders", test_loop_holders },
    { "/mountinfo/loop-deleted-backing-file", test_loop_deleted_backing_file },
    { "/mountinfo/order-and-pseudo", test_mount_order_and_pseudo },
};

QUIESCE_TEST_MAIN(tests)
