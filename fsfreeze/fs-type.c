/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs-type.c — the filesystem-type tables; see the header.
 *
 * Freezable types were checked against the kernel's super_operations
 * (Linux 6.x): ext2 (ext2_freeze), ext3/ext4 (ext4_freeze; ext2/ext3 may
 * also be served by the ext4 driver), xfs (xfs_fs_freeze), btrfs
 * (btrfs_freeze), f2fs (f2fs_freeze), jfs (jfs_freeze), reiserfs
 * (reiserfs_freeze, removed in 6.13), nilfs2 (nilfs_freeze), gfs2
 * (gfs2_freeze_super) and bcachefs (bch2_freeze). vfat, exfat, ntfs3, udf,
 * hfsplus, ocfs2, ... implement neither hook, so FIFREEZE on them returns
 * EOPNOTSUPP and qemu-ga silently skips them: their data is then captured
 * crash-consistent only, which is why we report them instead.
 */
#include "fsfreeze/fs-type.h"

#include <string.h>

typedef struct {
    const char *name;
    FsTypeKind kind;
} FsTypeRow;

static const FsTypeRow fs_type_table[] = {
    /* FIFREEZE works. */
    { "ext2", FS_TYPE_KIND_FREEZABLE },
    { "ext3", FS_TYPE_KIND_FREEZABLE },
    { "ext4", FS_TYPE_KIND_FREEZABLE },
    { "ext4dev", FS_TYPE_KIND_FREEZABLE },
    { "xfs", FS_TYPE_KIND_FREEZABLE },
    { "btrfs", FS_TYPE_KIND_FREEZABLE },
    { "f2fs", FS_TYPE_KIND_FREEZABLE },
    { "jfs", FS_TYPE_KIND_FREEZABLE },
    { "reiserfs", FS_TYPE_KIND_FREEZABLE },
    { "nilfs2", FS_TYPE_KIND_FREEZABLE },
    { "gfs2", FS_TYPE_KIND_FREEZABLE },
    { "bcachefs", FS_TYPE_KIND_FREEZABLE },

    /* Disk filesystems without freeze support. */
    { "vfat", FS_TYPE_KIND_NO_FREEZE },
    { "msdos", FS_TYPE_KIND_NO_FREEZE },
    { "fat", FS_TYPE_KIND_NO_FREEZE },
    { "exfat", FS_TYPE_KIND_NO_FREEZE },
    { "ntfs", FS_TYPE_KIND_NO_FREEZE },
    { "ntfs3", FS_TYPE_KIND_NO_FREEZE },
    { "fuseblk", FS_TYPE_KIND_NO_FREEZE }, /* ntfs-3g, exfat-fuse on a block device */
    { "hfs", FS_TYPE_KIND_NO_FREEZE },
    { "hfsplus", FS_TYPE_KIND_NO_FREEZE },
    { "udf", FS_TYPE_KIND_NO_FREEZE },
    { "iso9660", FS_TYPE_KIND_NO_FREEZE },
    { "minix", FS_TYPE_KIND_NO_FREEZE },
    { "ufs", FS_TYPE_KIND_NO_FREEZE },
    { "ocfs2", FS_TYPE_KIND_NO_FREEZE },
    { "zfs", FS_TYPE_KIND_NO_FREEZE },
    { "ubifs", FS_TYPE_KIND_NO_FREEZE },
    { "jffs2", FS_TYPE_KIND_NO_FREEZE },
    { "squashfs", FS_TYPE_KIND_NO_FREEZE }, /* read-only by design */
    { "erofs", FS_TYPE_KIND_NO_FREEZE },
    { "cramfs", FS_TYPE_KIND_NO_FREEZE },
    { "romfs", FS_TYPE_KIND_NO_FREEZE },

    /* No data on a disk. */
    { "proc", FS_TYPE_KIND_PSEUDO },
    { "sysfs", FS_TYPE_KIND_PSEUDO },
    { "devtmpfs", FS_TYPE_KIND_PSEUDO },
    { "devpts", FS_TYPE_KIND_PSEUDO },
    { "tmpfs", FS_TYPE_KIND_PSEUDO },
    { "ramfs", FS_TYPE_KIND_PSEUDO },
    { "rootfs", FS_TYPE_KIND_PSEUDO },
    { "cgroup", FS_TYPE_KIND_PSEUDO },
    { "cgroup2", FS_TYPE_KIND_PSEUDO },
    { "securityfs", FS_TYPE_KIND_PSEUDO },
    { "selinuxfs", FS_TYPE_KIND_PSEUDO },
    { "smackfs", FS_TYPE_KIND_PSEUDO },
    { "apparmorfs", FS_TYPE_KIND_PSEUDO },
    { "debugfs", FS_TYPE_KIND_PSEUDO },
    { "tracefs", FS_TYPE_KIND_PSEUDO },
    { "pstore", FS_TYPE_KIND_PSEUDO },
    { "efivarfs", FS_TYPE_KIND_PSEUDO },
    { "bpf", FS_TYPE_KIND_PSEUDO },
    { "mqueue", FS_TYPE_KIND_PSEUDO },
    { "hugetlbfs", FS_TYPE_KIND_PSEUDO },
    { "configfs", FS_TYPE_KIND_PSEUDO },
    { "fusectl", FS_TYPE_KIND_PSEUDO },
    { "binfmt_misc", FS_TYPE_KIND_PSEUDO },
    { "autofs", FS_TYPE_KIND_PSEUDO },
    { "rpc_pipefs", FS_TYPE_KIND_PSEUDO },
    { "nfsd", FS_TYPE_KIND_PSEUDO },
    { "nsfs", FS_TYPE_KIND_PSEUDO },
    { "fuse.lxcfs", FS_TYPE_KIND_PSEUDO },
    { "fuse.gvfsd-fuse", FS_TYPE_KIND_PSEUDO },
    { "fuse.portal", FS_TYPE_KIND_PSEUDO },
    { "fuse.snapfuse", FS_TYPE_KIND_PSEUDO },

    /* Stacked on other mounts: the filesystems below are frozen instead. */
    { "overlay", FS_TYPE_KIND_STACKED },
    { "aufs", FS_TYPE_KIND_STACKED },
    { "shiftfs", FS_TYPE_KIND_STACKED },
    { "ecryptfs", FS_TYPE_KIND_STACKED },

    /* Served from elsewhere. */
    { "nfs", FS_TYPE_KIND_NETWORK },
    { "nfs4", FS_TYPE_KIND_NETWORK },
    { "cifs", FS_TYPE_KIND_NETWORK },
    { "smb3", FS_TYPE_KIND_NETWORK },
    { "smbfs", FS_TYPE_KIND_NETWORK },
    { "ncpfs", FS_TYPE_KIND_NETWORK },
    { "ceph", FS_TYPE_KIND_NETWORK },
    { "glusterfs", FS_TYPE_KIND_NETWORK },
    { "lustre", FS_TYPE_KIND_NETWORK },
    { "gpfs", FS_TYPE_KIND_NETWORK },
    { "afs", FS_TYPE_KIND_NETWORK },
    { "beegfs", FS_TYPE_KIND_NETWORK },
    { "orangefs", FS_TYPE_KIND_NETWORK },
    { "davfs", FS_TYPE_KIND_NETWORK },
    { "9p", FS_TYPE_KIND_HOST_SHARED },
    { "virtiofs", FS_TYPE_KIND_HOST_SHARED },
    { "vboxsf", FS_TYPE_KIND_HOST_SHARED },
    { "fuse.vmhgfs-fuse", FS_TYPE_KIND_HOST_SHARED },
};

FsTypeKind fs_type_get_kind(const char *fstype)
{
    if (!fstype) {
        return FS_TYPE_KIND_UNKNOWN;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(fs_type_table); i++) {
        if (strcmp(fs_type_table[i].name, fstype) == 0) {
            return fs_type_table[i].kind;
        }
    }
    /* Every other FUSE filesystem ("fuse", "fuse.sshfs", "fuse.rclone", ...)
     * is served by a user-space process, usually over the network. */
    if (strcmp(fstype, "fuse") == 0 || g_str_has_prefix(fstype, "fuse.")) {
        return FS_TYPE_KIND_NETWORK;
    }
    return FS_TYPE_KIND_UNKNOWN;
}

gboolean fs_type_is_freezable(const char *fstype)
{
    return fs_type_get_kind(fstype) == FS_TYPE_KIND_FREEZABLE;
}

gboolean fs_type_thaw_writes(const char *fstype)
{
    return g_strcmp0(fstype, "ext4") == 0 || g_strcmp0(fstype, "ext3") == 0 ||
           g_strcmp0(fstype, "ext2") == 0;
}
