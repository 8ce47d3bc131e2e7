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

typedef struct {
    const char *fixture;
    const char *mountpoint;
    MountClass klass;
    const char *reason_part; /* must appear in the reason */
} ClassCase;

static const ClassCase class_cases[] = {
    { "virtio-blk", "/", MOUNT_CLASS_BASIC, "partition vda1 of virtio-blk disk vda" },
    { "lvm", "/srv", MOUNT_CLASS_VOLUME_MANAGED, "LVM volume dm-0 on disk vda" },
    { "lvm", "/var", MOUNT_CLASS_DYNAMIC, "LVM spans 2 disks (vdb, vdc)" },
    { "md-raid1", "/data", MOUNT_CLASS_DYNAMIC, "MD RAID md0 (raid1) over vdb, vdc" },
    { "dm-crypt", "/secure", MOUNT_CLASS_VOLUME_MANAGED, "dm-crypt volume dm-0 on disk vda" },
    { "lvm-on-crypt", "/", MOUNT_CLASS_VOLUME_MANAGED, "LVM and dm-crypt volume dm-1" },
    { "lvm-on-crypt", "/home", MOUNT_CLASS_VOLUME_MANAGED, "on disk vda" },
    { "lvm-on-crypt", "/boot", MOUNT_CLASS_BASIC, "partition vda1" },
    { "iscsi", "/mnt/iscsi", MOUNT_CLASS_NOT_HOST_VISIBLE, "iSCSI disk sda" },
    { "nfs", "/home", MOUNT_CLASS_NOT_HOST_VISIBLE, "nfs4 is a network filesystem (fileserver:/export/home)" },
    { "cifs", "/mnt/share", MOUNT_CLASS_NOT_HOST_VISIBLE, "(//fs01/share)" },
    { "fuse-sshfs", "/mnt/remote", MOUNT_CLASS_NOT_HOST_VISIBLE,
      "fuse.sshfs is a FUSE filesystem served by a user-space process" },
    { "fuse-sshfs", "/sys/fs/fuse/connections", MOUNT_CLASS_PSEUDO, "fusectl" },
    { "vfat-efi", "/boot/efi", MOUNT_CLASS_UNSUPPORTED_FILESYSTEM,
      "vfat does not support freezing; exclude /boot/efi" },
    { "vfat-efi", "/", MOUNT_CLASS_BASIC, "partition vda2" },
    { "pseudo", "/proc", MOUNT_CLASS_PSEUDO, "proc keeps no data on a disk" },
    { "pseudo", "/sys/fs/cgroup", MOUNT_CLASS_PSEUDO, "cgroup2" },
    { "pseudo", "/run/user/1000", MOUNT_CLASS_PSEUDO, "tmpfs" },
    { "pseudo", "/tmp", MOUNT_CLASS_PSEUDO, "tmpfs" },
    { "pseudo", "/proc/sys/fs/binfmt_misc", MOUNT_CLASS_PSEUDO, "autofs" },
    { "pseudo", "/var/lib/docker/overlay2/3f9c/merged", MOUNT_CLASS_PSEUDO,
      "overlay is stacked on other mounts" },
    { "read-only", "/srv/reference", MOUNT_CLASS_READ_ONLY, "read-only" },
    { "read-only", "/media/cdrom", MOUNT_CLASS_READ_ONLY, "read-only" },
    { "read-only", "/", MOUNT_CLASS_BASIC, "vda1" },
    { "loop-in-loop", "/data", MOUNT_CLASS_BASIC, "partition vdb1" },
    { "loop-in-loop", "/data/img", MOUNT_CLASS_LOOP_BACKED,
      "loop0 with image /data/outer.img on /data" },
    { "loop-in-loop", "/data/img/inner", MOUNT_CLASS_LOOP_BACKED,
      "loop1 with image /data/img/inner.img on /data/img" },
    { "loop-elsewhere", "/vm", MOUNT_CLASS_LOOP_BACKED, "on /srv/images" },
    { "loop-elsewhere", "/mnt/scratch", MOUNT_CLASS_NOT_HOST_VISIBLE,
      "the image /tmp/scratch.img of loop1 is kept on /tmp (tmpfs)" },
    { "loop-elsewhere", "/mnt/orphan", MOUNT_CLASS_LOOP_BACKED, "/srv/images/old.img" },
    { "bind-mounts", "/data", MOUNT_CLASS_BASIC, "partition vdb1" },
    { "overmount", "/hidden", MOUNT_CLASS_UNSUPPORTED_FILESYSTEM, "covered by another mount" },
    { "overmount", "/mnt/data", MOUNT_CLASS_BASIC, "vdb1" },
    { "btrfs-subvolumes", "/", MOUNT_CLASS_BASIC, "partition vda2 of virtio-blk disk vda" },
    { "btrfs-raid1", "/pool", MOUNT_CLASS_DYNAMIC, "btrfs spans 2 disks (vdb, vdc)" },
    { "usb", "/media/usb", MOUNT_CLASS_NOT_HOST_VISIBLE, "USB disk sdb" },
    { "nvme", "/", MOUNT_CLASS_BASIC, "partition nvme0n1p2 of NVMe disk nvme0n1" },
    { "controllers", "/mnt/virtio-scsi", MOUNT_CLASS_BASIC, "whole virtio-scsi disk sda" },
    { "controllers", "/mnt/sata", MOUNT_CLASS_BASIC, "whole SATA disk sdb" },
    { "controllers", "/mnt/ide", MOUNT_CLASS_BASIC, "whole IDE disk sdc" },
    { "controllers", "/mnt/hyperv", MOUNT_CLASS_BASIC, "whole Hyper-V SCSI disk sde" },
    { "controllers", "/mnt/xen", MOUNT_CLASS_BASIC, "whole Xen disk xvda" },
    { "controllers", "/mnt/nbd", MOUNT_CLASS_NOT_HOST_VISIBLE, "nbd0, a virtual block device" },
    { "controllers", "/mnt/nvme-tcp", MOUNT_CLASS_NOT_HOST_VISIBLE,
      "on NVMe over Fabrics (tcp) disk nvme1n1" },
};

static void test_fixture_classes(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(class_cases); i++) {
        const ClassCase *c = &class_cases[i];
        g_autoptr(Inventory) inventory = inventory_fixture_load(c->fixture);
        const InventoryMount *mount = inventory_find_mount(inventory, c->mountpoint);
        g_autofree char *reason = NULL;
        MountClass klass;

        g_test_message("%s %s", c->fixture, c->mountpoint);
        g_assert_nonnull(mount);
        klass = mount_class_compute(mount, &reason);
        if (klass != c->klass || !strstr(reason, c->reason_part)) {
            g_error("%s %s: got %s (%s), expected %s (…%s…)", c->fixture, c->mountpoint,
                    mount_class_to_string(klass), reason, mount_class_to_string(c->klass),
                    c->reason_part);
        }
    }
}

/* Every mount of every fixture gets a class and a non-empty reason. */
static void test_every_mount_classified(void)
{
    const char *fixtures[] = { "virtio-blk", "lvm", "md-raid1", "dm-crypt", "lvm-on-crypt",
                               "iscsi", "nfs", "cifs", "fuse-sshfs", "vfat-efi", "pseudo",
                               "read-only", "loop-in-loop", "loop-elsewhere", "loop-cycle",
                               "bind-mounts", "overmount", "btrfs-subvolumes", "btrfs-raid1",
                               "usb", "nvme", "controllers" };

    for (gsize f = 0; f < G_N_ELEMENTS(fixtures); f++) {
        g_autoptr(Inventory) inventory = inventory_fixture_load(fixtures[f]);
        for (guint i = 0; i < inventory->mounts->len; i++) {
            g_autofree char *reason = NULL;
            MountClass klass = mount_class_compute(inventory->mounts->pdata[i], &reason);
            g_assert_cmpint(klass, !=, MOUNT_CLASS_EXCLUDED);
            g_assert_nonnull(reason);
            g_assert_cmpuint(strlen(reason), >, 5);
        }
    }
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
}

static const QuiesceTestFunc tests[] = {
    { "/classify/fixtures", test_fixture_classes },
    { "/classify/every-mount", test_every_mount_classified },
    { "/classify/class-names", test_class_names },
    { "/classify/fs-type-table", test_fs_type_table },
};

QUIESCE_TEST_MAIN(tests)
