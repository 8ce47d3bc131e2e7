/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inventory.h — every mounted filesystem with the devices under it, probed
 * once, up front.
 *
 * The inventory is the only place that reads /proc, /sys and /dev (and,
 * when enabled, the block devices themselves through libblkid). Everything
 * after it — classification, eligibility, freeze order, the freezer — works
 * on this plain data, so nothing is probed between the first FIFREEZE and
 * the last FITHAW (docs/design.md §7).
 *
 * One InventoryMount per superblock, not per mount: bind mounts and btrfs
 * subvolumes of one filesystem share the superblock device (the major:minor
 * column of mountinfo) and are frozen once. The mountpoint kept for freezing
 * is one whose root is shortest (the whole filesystem rather than a
 * subdirectory bind), first in mount order among those, and not hidden under
 * a later mount on the same path; the others are aliases. FIFREEZE on any of
 * them freezes the same superblock, and a second FIFREEZE through an alias
 * would fail with EBUSY (qemu-ga dedups by device for the same reason).
 *
 * btrfs prints an anonymous 0:N device in mountinfo, so its block device is
 * found by stat()ing the source (as qemu-ga's dev_major_minor() does) or, in
 * recorded fixtures where /dev has no device nodes, by the source's name in
 * <sys>/class/block. A btrfs spanning several devices is found through
 * <sys>/fs/btrfs/<fsid>/devices/. stat() of a btrfs mountpoint reports yet
 * another device, the subvolume's own anonymous one; the inventory records
 * it (mountpoint_dev) because that is what the freezer's fstat() check sees.
 * Only filesystems of a freezable type on a block device are stat()ed: a
 * stat() on a network or FUSE mount can hang.
 *
 * Roots are parameters so tests run on recorded trees (tests/fixtures/).
 */
#ifndef QUIESCE_FSFREEZE_INVENTORY_H
#define QUIESCE_FSFREEZE_INVENTORY_H

#include "fsfreeze/device-stack.h"
#include "fsfreeze/signature-probe.h"

#include <glib.h>
#include <sys/types.h>

typedef struct {
    char *mountinfo_path;      /* owned; default "/proc/self/mountinfo" */
    char *sysfs_root;          /* owned; default "/sys" */
    char *dev_root;            /* owned; default "/dev" */
    gboolean probe_signatures; /* read superblock signatures with libblkid;
                                * default TRUE, FALSE for fixtures */
    gboolean stat_mountpoints; /* stat() the mountpoint of each filesystem that
                                * can be frozen; default TRUE, FALSE for fixtures */
} InventoryOptions;

/* Options for the running system. (transfer full) */
InventoryOptions *inventory_options_new(void);
/* Options for a recorded tree: root/mountinfo, root/sys, root/dev, and no
 * libblkid probing. (transfer full) */
InventoryOptions *inventory_options_new_for_root(const char *root);
void inventory_options_free(InventoryOptions *options);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(InventoryOptions, inventory_options_free)

typedef struct InventoryMount InventoryMount;

/* A loop device under a mount, and the mount that holds its backing file. */
typedef struct {
    const DeviceNode *loop;       /* borrowed from the mount's stack */
    const InventoryMount *holder; /* borrowed from the same inventory; NULL when
                                   * no mount in our namespace holds the file */
    gboolean unresolved;          /* the kernel gave no usable (absolute) path */
} InventoryLoop;

struct InventoryMount {
    guint index;           /* position in Inventory.mounts (mount order) */
    char *mountpoint;      /* owned; the path to freeze through */
    GPtrArray *aliases;    /* owned char *: the superblock's other mountpoints */
    char *root;            /* owned; root of the kept mount inside the fs */
    char *fstype;          /* owned */
    char *source;          /* owned; decoded, e.g. "/dev/vda1", "server:/export" */
    char *super_options;   /* owned */
    dev_t sb_dev;          /* superblock device as in mountinfo (0:N for btrfs) */
    dev_t block_dev;       /* the block device it lives on, 0 when none */
    dev_t mountpoint_dev;  /* st_dev of the mountpoint at probe time, 0 when not
                            * stat()ed; differs from sb_dev on btrfs, whose
                            * subvolumes each have an anonymous device */
    char *device_name;     /* owned; kernel name of block_dev ("vda1", "dm-0"), or NULL */
    gboolean read_only;    /* the superblock is read-only ("ro" in its options); a
                            * mount that is read-only only in this namespace
                            * does not count: other namespaces may write */
    gboolean all_covered;  /* every mountpoint is hidden under a later mount */
    DeviceNode *stack;     /* owned; NULL without a block device or on error */
    char *stack_error;     /* owned; why a block device could not be resolved */
    GPtrArray *loops;      /* owned InventoryLoop */
    Signature *signature;  /* owned; libblkid's view of block_dev, or NULL;
                            * probed only for writable mounts of a type that
                            * cannot be frozen */
};

typedef struct {
    int ref_count;
    GPtrArray *mounts;  /* owned InventoryMount, in order of first appearance */
    GPtrArray *entries; /* owned MountEntry: the raw mount table */
    GHashTable *covered_ids; /* owned set of GINT_TO_POINTER(mount id): mounts
                              * hidden under a later mount on the same path */
} Inventory;

/* Probes mounts and devices. Fails only when the mount table cannot be read
 * or parsed; a device that cannot be resolved is recorded in stack_error.
 * (transfer full) */
Inventory *inventory_probe(const InventoryOptions *options, GError **error);

/* Builds an inventory from an already parsed mount table (entries is
 * consumed). (transfer full) */
Inventory *inventory_new_from_entries(const InventoryOptions *options, GPtrArray *entries);

Inventory *inventory_ref(Inventory *inventory);
void inventory_unref(Inventory *inventory);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Inventory, inventory_unref)

/* The device a freezer sees through fstat() of the mountpoint:
 * mountpoint_dev when known, else sb_dev. */
dev_t inventory_mount_get_dev(const InventoryMount *mount);

/* The mount whose mountpoint or alias is exactly path, or NULL. (transfer none) */
const InventoryMount *inventory_find_mount(const Inventory *inventory, const char *path);

/* The mount holding path: the visible mount with the longest mountpoint
 * containing it, or NULL. (transfer none) */
const InventoryMount *inventory_find_holder(const Inventory *inventory, const char *path);

/* The distinct disks under the mount, for guest-get-fsinfo. Elements are
 * borrowed from the mount. (transfer container) */
GPtrArray *inventory_mount_get_disks(const InventoryMount *mount);

/* Whether path is the mountpoint or one of the aliases. */
gboolean inventory_mount_has_path(const InventoryMount *mount, const char *path);

#endif
