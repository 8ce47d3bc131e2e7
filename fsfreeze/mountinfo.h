/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mountinfo.h — the mount table as /proc/self/mountinfo tells it.
 *
 * One MountEntry per line, in file order (the kernel prints mounts in the
 * order they were attached to the namespace's tree, parents first). Format,
 * from Documentation/filesystems/proc.rst:
 *
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   id parent major:minor root mountpoint mount-options [optional...] - fstype source super-options
 *
 * The kernel escapes space, tab, newline and backslash in root, mountpoint
 * and source as \ooo octal; they are decoded here. major:minor is the
 * superblock's s_dev: shared by every bind mount of one filesystem, 0:N for
 * filesystems without a block device, and also 0:N for btrfs (which gives
 * its superblock an anonymous device; the inventory stats the source).
 *
 * mountinfo comes from the kernel, so a line that does not parse is treated
 * as an error rather than skipped: skipping could hide a filesystem that
 * needs freezing.
 */
#ifndef QUIESCE_FSFREEZE_MOUNTINFO_H
#define QUIESCE_FSFREEZE_MOUNTINFO_H

#include <glib.h>
#include <sys/types.h>

typedef struct {
    int id;
    int parent_id;
    dev_t dev;             /* superblock device (major:minor column) */
    char *root;            /* owned; path of the mount's root inside the fs */
    char *mountpoint;      /* owned; decoded */
    char *mount_options;   /* owned; per-mount options, e.g. "rw,relatime" */
    char *fstype;          /* owned; e.g. "ext4", "fuse.sshfs" */
    char *source;          /* owned; decoded, may be "" */
    char *super_options;   /* owned; superblock options */
    gboolean read_only;    /* "ro" in the per-mount options */
    gboolean super_read_only; /* "ro" in the superblock options */
} MountEntry;

void mount_entry_free(MountEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MountEntry, mount_entry_free)

/* Parses the whole text of a mountinfo file. Returns an array of MountEntry
 * in file order, owning its elements. (transfer full) */
GPtrArray *mountinfo_parse(const char *text, GError **error);

/* Reads and parses the mountinfo file at path. (transfer full) */
GPtrArray *mountinfo_read(const char *path, GError **error);

/* Decodes the kernel's \ooo escapes (and "\\"). (transfer full) */
char *mountinfo_unescape(const char *field);

/* Whether path is dir or lies under it, by whole components ("/data" holds
 * "/data/x" but not "/database"). Both must be absolute and normalized. */
gboolean mountinfo_path_contains(const char *dir, const char *path);

/* The number of components of an absolute path: 0 for "/", 2 for "/a/b". */
guint mountinfo_path_depth(const char *path);

/* Whether a comma-separated option list contains option exactly. */
gboolean mountinfo_options_has(const char *options, const char *option);

#endif
