/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-device-stack.c — block device stacks and disk addresses resolved from
 * the sysfs trees of tests/fixtures (synthesized, and one recorded in a QEMU
 * guest): partitions, LVM, dm-crypt, MD RAID, loop, multi-device btrfs, and
 * disks on every bus we tell apart (what qemu-ga's guest-get-fsinfo reports:
 * bus type, PCI controller, bus/target/unit, serial, device node).
 */
#include "fsfreeze/device-stack.h"
#include "fsfreeze/inventory.h"
#include "fsfreeze/signature-probe.h"

#include "common/quiesce-error.h"
#include "tests/support/inventory-fixture.h"
#include "tests/support/test-run.h"
#include "tests/support/test-tmpdir.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/sysmacros.h>

/* A mount whose device stack resolved. */
static const InventoryMount *must_find(const Inventory *inventory, const char *path)
{
    const InventoryMount *mount = inventory_fixture_find(inventory, path);
    g_assert_null(mount->stack_error);
    return mount;
}

static const DeviceNode *child(const DeviceNode *node, guint i)
{
    g_assert_cmpuint(node->children->len, >, i);
    return node->children->pdata[i];
}

/* The single disk under a mount. */
static const DiskInfo *only_disk(const InventoryMount *mount)
{
    g_autoptr(GPtrArray) disks = inventory_mount_get_disks(mount);
    g_assert_cmpuint(disks->len, ==, 1);
    return disks->pdata[0];
}

/* How many disks a mount's device stack reaches. */
static guint count_disks(const InventoryMount *mount)
{
    g_autoptr(GPtrArray) disks = inventory_mount_get_disks(mount);
    return disks->len;
}

static void assert_pci(const DiskInfo *disk, const char *expected)
{
    g_autofree char *text = NULL;

    g_assert_true(disk->has_pci);
    text = disk_pci_address_format(&disk->pci);
    g_assert_cmpstr(text, ==, expected);
}

/* A mount of a fixture on a single disk: the mount's device, and the disk's
 * name, bus, driver, PCI controller and serial. */
typedef struct {
    const char *fixture;
    const char *mountpoint;
    const char *device_name;
    const char *disk_name;
    DiskBus bus;
    const char *driver;
    const char *pci;
    const char *serial;
} DiskCase;

static void check_disk_case(const DiskCase *c)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load(c->fixture);
    const InventoryMount *mount = must_find(inventory, c->mountpoint);
    const DiskInfo *disk = only_disk(mount);

    g_assert_cmpstr(mount->device_name, ==, c->device_name);
    g_assert_cmpstr(disk->name, ==, c->disk_name);
    g_assert_cmpint(disk->bus, ==, c->bus);
    g_assert_cmpstr(disk->driver, ==, c->driver);
    assert_pci(disk, c->pci);
    g_assert_cmpstr(disk->serial, ==, c->serial);
}

static void test_virtio_blk_partition(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("virtio-blk");
    const InventoryMount *root = must_find(inventory, "/");
    const DiskInfo *disk = only_disk(root);
    g_autofree char *expected_dev = NULL;

    g_assert_cmpstr(root->device_name, ==, "vda1");
    g_assert_cmpint(root->stack->kind, ==, DEVICE_NODE_KIND_PARTITION);
    g_assert_cmpuint(major(root->stack->devno), ==, 252);
    g_assert_cmpuint(minor(root->stack->devno), ==, 1);
    g_assert_cmpint(child(root->stack, 0)->kind, ==, DEVICE_NODE_KIND_DISK);
    g_assert_cmpstr(disk->name, ==, "vda");
    g_assert_cmpint(disk->bus, ==, DISK_BUS_VIRTIO);
    g_assert_cmpstr(disk_bus_to_string(disk->bus), ==, "virtio");
    g_assert_cmpstr(disk->label, ==, "virtio-blk");
    g_assert_cmpstr(disk->driver, ==, "virtio-pci");
    assert_pci(disk, "0000:00:04.0");
    g_assert_cmpuint(disk->bus_number, ==, 0);
    g_assert_cmpuint(disk->target, ==, 0);
    g_assert_cmpuint(disk->unit, ==, 0);
    g_assert_cmpstr(disk->serial, ==, "SYSDISK01");
    expected_dev = g_build_filename(g_getenv("QUIESCE_FIXTURES"), "virtio-blk", "dev", "vda",
                                    NULL);
    g_assert_cmpstr(disk->dev_path, ==, expected_dev);
    g_assert_cmpstr(disk->sysfs_path, ==, "/devices/pci0000:00/0000:00:04.0/virtio2/block/vda");
}

static void test_lvm(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("lvm");
    const InventoryMount *srv = must_find(inventory, "/srv");
    const InventoryMount *var = must_find(inventory, "/var");
    g_autoptr(GPtrArray) var_disks = inventory_mount_get_disks(var);
    DeviceStackSummary summary;

    g_assert_cmpstr(srv->device_name, ==, "dm-0");
    g_assert_cmpint(srv->stack->kind, ==, DEVICE_NODE_KIND_LVM);
    g_assert_cmpstr(srv->stack->dm_name, ==, "vg0-srv");
    g_assert_cmpstr(child(srv->stack, 0)->name, ==, "vda2");
    g_assert_cmpstr(only_disk(srv)->name, ==, "vda");
    device_stack_summarize(srv->stack, &summary);
    g_assert_cmpuint(summary.n_disks, ==, 1);
    g_assert_true(summary.has_lvm);

    g_assert_cmpint(var->stack->kind, ==, DEVICE_NODE_KIND_LVM);
    g_assert_cmpuint(var->stack->children->len, ==, 2);
    g_assert_cmpuint(var_disks->len, ==, 2);
    g_assert_cmpstr(((DiskInfo *)var_disks->pdata[0])->name, ==, "vdb");
    g_assert_cmpstr(((DiskInfo *)var_disks->pdata[1])->name, ==, "vdc");
    device_stack_summarize(var->stack, &summary);
    g_assert_cmpuint(summary.n_disks, ==, 2);
}

static void test_md_raid1(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("md-raid1");
    const InventoryMount *data = must_find(inventory, "/data");
    g_autoptr(GPtrArray) disks = inventory_mount_get_disks(data);

    g_assert_cmpint(data->stack->kind, ==, DEVICE_NODE_KIND_MD);
    g_assert_cmpstr(data->stack->md_level, ==, "raid1");
    g_assert_cmpstr(child(data->stack, 0)->name, ==, "vdb1");
    g_assert_cmpstr(child(data->stack, 1)->name, ==, "vdc1");
    g_assert_cmpuint(disks->len, ==, 2);
    g_assert_cmpstr(((DiskInfo *)disks->pdata[1])->serial, ==, "RAID-C");
}

static void test_crypt_and_lvm_on_crypt(void)
{
    g_autoptr(Inventory) crypt = inventory_fixture_load("dm-crypt");
    g_autoptr(Inventory) layered = inventory_fixture_load("lvm-on-crypt");
    const InventoryMount *secure = must_find(crypt, "/secure");
    const InventoryMount *root = must_find(layered, "/");
    const InventoryMount *home = must_find(layered, "/home");
    const DeviceNode *luks;

    g_assert_cmpint(secure->stack->kind, ==, DEVICE_NODE_KIND_CRYPT);
    g_assert_cmpstr(secure->stack->dm_name, ==, "secure");
    g_assert_cmpstr(only_disk(secure)->name, ==, "vda");

    g_assert_cmpint(root->stack->kind, ==, DEVICE_NODE_KIND_LVM);
    luks = child(root->stack, 0);
    g_assert_cmpint(luks->kind, ==, DEVICE_NODE_KIND_CRYPT);
    g_assert_cmpstr(luks->dm_name, ==, "vda2_crypt");
    g_assert_cmpint(child(luks, 0)->kind, ==, DEVICE_NODE_KIND_PARTITION);
    g_assert_cmpstr(only_disk(root)->name, ==, "vda");
    g_assert_cmpstr(only_disk(home)->name, ==, "vda");
    g_assert_cmpstr(must_find(layered, "/boot")->device_name, ==, "vda1");
}

static void test_iscsi_disk(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("iscsi");
    const DiskInfo *disk = only_disk(must_find(inventory, "/mnt/iscsi"));

    g_assert_cmpint(disk->bus, ==, DISK_BUS_ISCSI);
    g_assert_false(disk_bus_is_host_visible(disk->bus));
    g_assert_false(disk->has_pci);
    g_assert_cmpstr(disk->serial, ==, "6001405abcdef0123456789");
}

static void test_usb_disk(void)
{
    /* usb-storage gives no VPD page: the USB device's serial is used. */
    static const DiskCase usb = { "usb", "/media/usb", "sdb1", "sdb", DISK_BUS_USB, "xhci_hcd",
                                  "0000:00:05.0", "4C530001230918117223" };

    check_disk_case(&usb);
}

static void test_nvme_disk(void)
{
    static const DiskCase nvme = { "nvme", "/", "nvme0n1p2", "nvme0n1", DISK_BUS_NVME, "nvme",
                                   "0000:00:04.0", "deadbeef0001" };

    check_disk_case(&nvme);
}

typedef struct {
    const char *mountpoint;
    DiskBus bus;
    const char *label;
    const char *pci; /* NULL: no PCI controller */
    guint bus_number, target, unit;
    const char *serial;
} ControllerCase;

/* Bus/target/unit follow qemu-ga: IDE bus = port index, unit = target; AHCI
 * unit = port index; LSI unit = target; other SCSI: channel:target:lun. */
static const ControllerCase controller_cases[] = {
    { "/mnt/virtio-scsi", DISK_BUS_SCSI, "virtio-scsi", "0000:00:05.0", 0, 0, 1,
      "drive-scsi0-0-0-1" },
    { "/mnt/sata", DISK_BUS_SATA, "SATA", "0000:00:1f.2", 0, 0, 2, "QM00005" },
    { "/mnt/ide", DISK_BUS_IDE, "IDE", "0000:00:01.1", 1, 0, 1, "QM00004" },
    { "/mnt/lsi", DISK_BUS_SCSI, "SCSI", "0000:00:07.0", 0, 0, 2, NULL },
    { "/mnt/hyperv", DISK_BUS_SCSI, "Hyper-V SCSI", NULL, 0, 0, 0, "6002248012345678" },
    { "/mnt/xen", DISK_BUS_XEN, "Xen", NULL, 0, 0, 0, NULL },
};

static void test_controllers(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("controllers");

    for (gsize i = 0; i < G_N_ELEMENTS(controller_cases); i++) {
        const ControllerCase *c = &controller_cases[i];
        const DiskInfo *disk = only_disk(must_find(inventory, c->mountpoint));

        g_test_message("%s", c->mountpoint);
        g_assert_cmpint(disk->bus, ==, c->bus);
        g_assert_cmpstr(disk->label, ==, c->label);
        if (c->pci) {
            assert_pci(disk, c->pci);
        } else {
            g_assert_false(disk->has_pci);
        }
        g_assert_cmpuint(disk->bus_number, ==, c->bus_number);
        g_assert_cmpuint(disk->target, ==, c->target);
        g_assert_cmpuint(disk->unit, ==, c->unit);
        g_assert_cmpstr(disk->serial, ==, c->serial);
        g_assert_true(disk_bus_is_host_visible(disk->bus));
    }
}

static void test_virtual_device_has_no_disk(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("controllers");
    const InventoryMount *nbd = must_find(inventory, "/mnt/nbd");
    DeviceStackSummary summary;

    g_assert_cmpint(nbd->stack->kind, ==, DEVICE_NODE_KIND_VIRTUAL);
    g_assert_cmpuint(count_disks(nbd), ==, 0);
    device_stack_summarize(nbd->stack, &summary);
    g_assert_true(summary.virtual_leaf == nbd->stack);
}

static void test_nvme_over_fabrics(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("controllers");
    const DiskInfo *disk = only_disk(must_find(inventory, "/mnt/nvme-tcp"));

    g_assert_cmpint(disk->bus, ==, DISK_BUS_NVME_FABRICS);
    g_assert_cmpstr(disk_bus_to_string(disk->bus), ==, "nvme");
    g_assert_cmpstr(disk->label, ==, "NVMe over Fabrics (tcp)");
    g_assert_false(disk->has_pci);
    g_assert_false(disk_bus_is_host_visible(disk->bus));
    g_assert_cmpstr(disk->serial, ==, "a1b2c3d4e5f6");
}

static void test_loop_devices(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("loop-in-loop");
    const InventoryMount *img = must_find(inventory, "/data/img");

    g_assert_cmpint(img->stack->kind, ==, DEVICE_NODE_KIND_LOOP);
    g_assert_cmpstr(img->stack->backing_file, ==, "/data/outer.img");
    g_assert_false(img->stack->backing_deleted);
    g_assert_cmpuint(count_disks(img), ==, 0);
}

static void test_btrfs_on_two_disks(void)
{
    g_autoptr(Inventory) inventory = inventory_fixture_load("btrfs-raid1");
    const InventoryMount *pool = must_find(inventory, "/pool");
    DeviceStackSummary summary;

    g_assert_cmpstr(pool->device_name, ==, "vdb");
    g_assert_cmpint(pool->stack->kind, ==, DEVICE_NODE_KIND_BTRFS_VOLUME);
    g_assert_cmpuint(count_disks(pool), ==, 2);
    device_stack_summarize(pool->stack, &summary);
    g_assert_cmpuint(summary.n_disks, ==, 2);
}

/* The stacks recorded in the QEMU guest (record-fixture.sh) resolve as the
 * synthesized ones do, and their disks have the addresses the live probe in
 * that guest printed (recorded.txt): real virtio-blk serials end without a
 * newline, and the majors of virtio-blk (254) and device-mapper (252) are the
 * dynamic ones the modules got, not those of the synthesized trees. */
static void test_recorded_qemu_stacks(void)
{
    static const DiskCase disks[] = {
        { "recorded-qemu-stacks", "/srv", "dm-0", "vda", DISK_BUS_VIRTIO, "virtio-pci",
          "0000:00:03.0", "lvm-a" },
        { "recorded-qemu-stacks", "/secure", "dm-2", "vdf", DISK_BUS_VIRTIO, "virtio-pci",
          "0000:00:08.0", "crypt-f" },
        { "recorded-qemu-stacks", "/home", "dm-4", "vdg", DISK_BUS_VIRTIO, "virtio-pci",
          "0000:00:09.0", "crypt-g" },
    };
    g_autoptr(Inventory) inventory = inventory_fixture_load("recorded-qemu-stacks");
    const InventoryMount *srv = must_find(inventory, "/srv");
    const InventoryMount *var = must_find(inventory, "/var");
    const InventoryMount *data = must_find(inventory, "/data");
    const InventoryMount *home = must_find(inventory, "/home");
    const InventoryMount *image = must_find(inventory, "/mnt/image");

    for (gsize i = 0; i < G_N_ELEMENTS(disks); i++) {
        check_disk_case(&disks[i]);
    }
    g_assert_cmpint(srv->stack->kind, ==, DEVICE_NODE_KIND_LVM);
    g_assert_cmpuint(major(srv->stack->devno), ==, 252);
    g_assert_cmpint(child(srv->stack, 0)->kind, ==, DEVICE_NODE_KIND_PARTITION);
    g_assert_cmpuint(major(child(srv->stack, 0)->devno), ==, 254);
    g_assert_true(inventory_fixture_find(inventory, "/mnt/www") == srv); /* a bind: an alias */
    g_assert_cmpuint(count_disks(var), ==, 2);
    g_assert_cmpint(data->stack->kind, ==, DEVICE_NODE_KIND_MD);
    g_assert_cmpstr(data->stack->md_level, ==, "raid1");
    g_assert_cmpuint(count_disks(data), ==, 2);
    g_assert_cmpint(home->stack->kind, ==, DEVICE_NODE_KIND_LVM);
    g_assert_cmpint(child(home->stack, 0)->kind, ==, DEVICE_NODE_KIND_CRYPT);
    g_assert_cmpstr(child(home->stack, 0)->dm_name, ==, "home_crypt");
    g_assert_cmpint(image->stack->kind, ==, DEVICE_NODE_KIND_LOOP);
    g_assert_cmpstr(image->stack->backing_file, ==, "/srv/images/disk.img");
    g_assert_cmpuint(image->loops->len, ==, 1);
    g_assert_true(((const InventoryLoop *)image->loops->pdata[0])->holder == srv);
}

static void test_resolve_errors(void)
{
    const char *base = g_getenv("QUIESCE_FIXTURES");
    g_autofree char *sys = g_build_filename(base, "virtio-blk", "sys", NULL);
    g_autofree char *not_block = g_build_filename(sys, "devices", "pci0000:00", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(DeviceNode) node = device_stack_resolve(sys, "/dev", makedev(8, 99), &error);

    g_assert_null(node);
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND);
    g_clear_error(&error);
    node = device_stack_resolve_dir(sys, "/dev", not_block, &error);
    g_assert_null(node);
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);
}

static void put_le(guint8 *at, guint64 value, gsize bytes)
{
    for (gsize i = 0; i < bytes; i++) {
        at[i] = (guint8)(value >> (8 * i));
    }
}

/* A 1 MiB image holding a minimal ext2 superblock (what mkfs.ext2 writes at
 * offset 1024 that libblkid checks), so the libblkid path runs anywhere. */
static char *write_ext2_image(const char *dir)
{
    g_autofree guint8 *image = g_malloc0(1 << 20);
    guint8 *sb = image + 1024;
    char *path = g_build_filename(dir, "ext2.img", NULL);

    put_le(sb + 0, 128, 4);      /* s_inodes_count */
    put_le(sb + 4, 1024, 4);     /* s_blocks_count */
    put_le(sb + 32, 8192, 4);    /* s_blocks_per_group */
    put_le(sb + 40, 128, 4);     /* s_inodes_per_group */
    put_le(sb + 56, 0xEF53, 2);  /* s_magic */
    put_le(sb + 76, 1, 4);       /* s_rev_level */
    put_le(sb + 88, 128, 2);     /* s_inode_size */
    for (int i = 0; i < 16; i++) {
        sb[104 + i] = (guint8)(i + 1); /* s_uuid */
    }
    memcpy(sb + 120, "fixsig", 6); /* s_volume_name */
    g_assert_true(g_file_set_contents(path, (const char *)image, 1 << 20, NULL));
    return path;
}

static void test_signature_probe(void)
{
    g_autofree char *dir = quiesce_test_make_tmp_dir("quiesce-sig-XXXXXX");
    g_autofree char *ext2 = write_ext2_image(dir);
    g_autofree char *zeros = g_build_filename(dir, "zeros.img", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing.img", NULL);
    g_autoptr(Signature) signature = NULL;
    g_autoptr(GError) error = NULL;

    signature = signature_probe(ext2, &error);
    g_assert_no_error(error);
    g_assert_nonnull(signature);
    g_assert_cmpstr(signature->type, ==, "ext2");
    g_assert_cmpstr(signature->label, ==, "fixsig");
    g_assert_cmpstr(signature->uuid, ==, "01020304-0506-0708-090a-0b0c0d0e0f10");
    g_clear_pointer(&signature, signature_free);

    {
        g_autofree char *blank = g_malloc0(65536);
        g_assert_true(g_file_set_contents(zeros, blank, 65536, NULL));
    }
    signature = signature_probe(zeros, &error);
    g_assert_no_error(error);
    g_assert_null(signature);

    signature = signature_probe(missing, &error);
    g_assert_null(signature);
    g_assert_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED);

    quiesce_test_remove_tree(dir);
}

static const QuiesceTestFunc tests[] = {
    { "/device-stack/virtio-blk-partition", test_virtio_blk_partition },
    { "/device-stack/lvm", test_lvm },
    { "/device-stack/md-raid1", test_md_raid1 },
    { "/device-stack/crypt-and-lvm-on-crypt", test_crypt_and_lvm_on_crypt },
    { "/device-stack/iscsi", test_iscsi_disk },
    { "/device-stack/usb", test_usb_disk },
    { "/device-stack/nvme", test_nvme_disk },
    { "/device-stack/controllers", test_controllers },
    { "/device-stack/virtual-device", test_virtual_device_has_no_disk },
    { "/device-stack/nvme-over-fabrics", test_nvme_over_fabrics },
    { "/device-stack/loop", test_loop_devices },
    { "/device-stack/btrfs-two-disks", test_btrfs_on_two_disks },
    { "/device-stack/recorded-qemu-stacks", test_recorded_qemu_stacks },
    { "/device-stack/resolve-errors", test_resolve_errors },
    { "/device-stack/signature-probe", test_signature_probe },
};

QUIESCE_TEST_MAIN(tests)
