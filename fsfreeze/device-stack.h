/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * device-stack.h — the block devices under a filesystem, down to its disks.
 *
 * Resolved through sysfs only (Documentation/ABI/testing/sysfs-block):
 *
 *   <sys>/dev/block/MAJ:MIN      symlink to the device directory
 *   <dir>/partition              present for a partition; the parent
 *                                directory is its disk
 *   <dir>/slaves/<name>          the devices a dm or md device is built on
 *   <dir>/dm/uuid, dm/name       device-mapper: "LVM-..." (LVM), "CRYPT-..."
 *                                (dm-crypt, cryptsetup), "mpath-..." (multipath)
 *   <dir>/md/level               MD RAID ("raid1", "linear", ...)
 *   <dir>/loop/backing_file      a bound loop device's image (" (deleted)"
 *                                appended when it was unlinked)
 *
 * The result is a small tree: the filesystem's device at the top, each node's
 * children being what it is built on, whole disks (with their DiskInfo) and
 * loop devices at the leaves. A loop device's backing file lives on some other
 * filesystem; the inventory resolves which one.
 */
#ifndef QUIESCE_FSFREEZE_DEVICE_STACK_H
#define QUIESCE_FSFREEZE_DEVICE_STACK_H

#include "fsfreeze/disk-info.h"

#include <glib.h>
#include <sys/types.h>

/* Deeper stacks than this are treated as malformed (real ones are 2-5). */
#define DEVICE_STACK_MAX_DEPTH 16

typedef enum {
    DEVICE_NODE_KIND_DISK,          /* whole disk; disk is set */
    DEVICE_NODE_KIND_PARTITION,     /* one child: its disk */
    DEVICE_NODE_KIND_LVM,           /* dm, uuid "LVM-" */
    DEVICE_NODE_KIND_CRYPT,         /* dm, uuid "CRYPT-" */
    DEVICE_NODE_KIND_MULTIPATH,     /* dm, uuid "mpath-": children are paths to one LUN */
    DEVICE_NODE_KIND_DM_OTHER,      /* any other device-mapper target */
    DEVICE_NODE_KIND_MD,            /* MD RAID */
    DEVICE_NODE_KIND_LOOP,          /* loop device; leaf */
    DEVICE_NODE_KIND_STACKED_OTHER, /* other virtual device with slaves (bcache, ...) */
    DEVICE_NODE_KIND_VIRTUAL,       /* virtual leaf without a disk: nbd, rbd, zram */
    DEVICE_NODE_KIND_BTRFS_VOLUME,  /* not a device: the members of a multi-device btrfs */
} DeviceNodeKind;

/* "disk", "partition", "lvm", "crypt", "multipath", "dm", "md", "loop",
 * "stacked", "virtual", "btrfs-volume". */
const char *device_node_kind_to_string(DeviceNodeKind kind);

typedef struct DeviceNode DeviceNode;
struct DeviceNode {
    char *name;              /* owned; kernel name, "vda1", "dm-0", "md0" */
    dev_t devno;
    DeviceNodeKind kind;
    char *dm_name;           /* owned; dm/name, e.g. "vg0-root", or NULL */
    char *dm_uuid;           /* owned; dm/uuid, or NULL */
    char *md_level;          /* owned; md/level, e.g. "raid1", or NULL */
    char *backing_file;      /* owned; loop only, without " (deleted)" */
    gboolean backing_deleted;
    DiskInfo *disk;          /* owned; DEVICE_NODE_KIND_DISK only */
    GPtrArray *children;     /* owned DeviceNode, never NULL */
};

DeviceNode *device_node_new(const char *name, dev_t devno, DeviceNodeKind kind);
void device_node_free(DeviceNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DeviceNode, device_node_free)

/* Resolves the stack of block device devno. Fails when sysfs has no such
 * device or the stack is malformed (too deep). (transfer full) */
DeviceNode *device_stack_resolve(const char *sysfs_root, const char *dev_root, dev_t devno,
                                 GError **error);

/* Same, from a device directory (a path under <sys>/devices, symlinks
 * allowed). (transfer full) */
DeviceNode *device_stack_resolve_dir(const char *sysfs_root, const char *dev_root,
                                     const char *dir, GError **error);

/* What a stack is made of, for classification. */
typedef struct {
    guint n_disks;            /* distinct disks; all paths of a multipath LUN count once */
    gboolean has_partition;
    gboolean has_lvm;
    gboolean has_crypt;
    gboolean has_multipath;
    gboolean has_dm_other;
    gboolean has_md;
    gboolean has_loop;
    gboolean has_stacked_other;
    gboolean has_btrfs_volume;
    const DeviceNode *md;             /* first MD node, or NULL */
    const DeviceNode *virtual_leaf;   /* first virtual leaf (nbd, ...), or NULL */
    const DiskInfo *hidden_disk;      /* first disk the host cannot see, or NULL */
    const DiskInfo *unknown_disk;     /* first disk on an unknown bus, or NULL */
} DeviceStackSummary;

void device_stack_summarize(const DeviceNode *top, DeviceStackSummary *summary);

/* Appends the distinct disks of the stack (borrowed DiskInfo pointers) to
 * disks, in depth-first order. */
void device_stack_collect_disks(const DeviceNode *top, GPtrArray *disks);

/* Appends the loop nodes of the stack (borrowed) to loops. */
void device_stack_collect_loops(const DeviceNode *top, GPtrArray *loops);

#endif
