/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount-class.h — the one class of each mounted filesystem (docs/design.md §5),
 * with a reason a person can read.
 *
 * Classes, in the order they are decided (the first that applies wins):
 *
 *   pseudo                  no data on a disk (proc, tmpfs, ...) or stacked
 *                           on other mounts (overlay)
 *   not-host-visible        network, FUSE or host-shared filesystems; disks
 *                           the host does not snapshot (iSCSI sessions, USB,
 *                           nbd); loop images kept on such filesystems
 *   read-only               nothing can change, nothing to freeze
 *   unsupported-filesystem  writable, but the type has no freeze support
 *                           (vfat, exfat, ...) or is not known to have one
 *   loop-backed             a loop device (frozen before the filesystem that
 *                           holds its image)
 *   dynamic                 MD RAID, or a stack spanning several disks
 *   volume-managed          LVM, dm-crypt or other device-mapper over one disk
 *   basic                   a partition or whole disk the host provides
 *
 * `excluded` is never computed here: it is the operator's choice, applied by
 * the eligibility policy on top of the class computed here.
 */
#ifndef QUIESCE_FSFREEZE_MOUNT_CLASS_H
#define QUIESCE_FSFREEZE_MOUNT_CLASS_H

#include "fsfreeze/inventory.h"

#include <glib.h>

typedef enum {
    MOUNT_CLASS_BASIC,
    MOUNT_CLASS_VOLUME_MANAGED,
    MOUNT_CLASS_DYNAMIC,
    MOUNT_CLASS_NOT_HOST_VISIBLE,
    MOUNT_CLASS_LOOP_BACKED,
    MOUNT_CLASS_UNSUPPORTED_FILESYSTEM,
    MOUNT_CLASS_READ_ONLY,
    MOUNT_CLASS_PSEUDO,
    MOUNT_CLASS_EXCLUDED,
} MountClass;

/* "basic", "volume-managed", "dynamic", "not-host-visible", "loop-backed",
 * "unsupported-filesystem", "read-only", "pseudo", "excluded". */
const char *mount_class_to_string(MountClass klass);

/* Classifies mount (its loop holders, resolved by the inventory, are
 * followed). Sets *reason to a sentence for people (transfer full). Never
 * returns MOUNT_CLASS_EXCLUDED. */
MountClass mount_class_compute(const InventoryMount *mount, char **reason);

#endif
