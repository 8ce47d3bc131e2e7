/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs-type.h — what we know about a filesystem type from its name alone.
 *
 * Explicit tables, not guesses from the device number:
 *
 * - freezable: the kernel answers FIFREEZE only for a superblock whose
 *   super_operations implement freeze_fs or freeze_super
 *   (fs/ioctl.c ioctl_fsfreeze(): otherwise EOPNOTSUPP);
 * - pseudo: no data of their own on a disk (proc, sysfs, tmpfs, ...) or
 *   stacked on other mounts (overlay: its layers are frozen through their own
 *   filesystems);
 * - network: data served by another machine, a user-space process (FUSE) or
 *   the host itself (virtiofs, 9p): not part of a disk snapshot;
 * - no-freeze: disk filesystems without freeze support (vfat, exfat, ...).
 *
 * Anything else is FS_TYPE_KIND_UNKNOWN; the classifier decides from the
 * device what that means.
 */
#ifndef QUIESCE_FSFREEZE_FS_TYPE_H
#define QUIESCE_FSFREEZE_FS_TYPE_H

#include <glib.h>

typedef enum {
    FS_TYPE_KIND_UNKNOWN,
    FS_TYPE_KIND_FREEZABLE,
    FS_TYPE_KIND_PSEUDO,
    FS_TYPE_KIND_STACKED,
    FS_TYPE_KIND_NETWORK,
    FS_TYPE_KIND_HOST_SHARED,
    FS_TYPE_KIND_NO_FREEZE,
} FsTypeKind;

/* The kind of fstype as printed in mountinfo ("ext4", "fuse.sshfs", ...). */
FsTypeKind fs_type_get_kind(const char *fstype);

gboolean fs_type_is_freezable(const char *fstype);

/* Whether its FITHAW waits for a write: ext2/3/4's unfreeze writes the
 * superblock synchronously (ext4_unfreeze() -> ext4_commit_super()); xfs's
 * and btrfs's only reset in-memory state. */
gboolean fs_type_thaw_writes(const char *fstype);

#endif
