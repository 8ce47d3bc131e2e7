/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mount-class.c — classification of one mounted filesystem; see the header
 * for the classes and their order.
 */
#include "fsfreeze/mount-class.h"

#include "fsfreeze/fs-type.h"

#include <string.h>
#include <sys/sysmacros.h>

/* Loop images on loop images on ...: deeper chains are not followed. */
#define LOOP_HOLDER_MAX_DEPTH 8

const char *mount_class_to_string(MountClass klass)
{
    switch (klass) {
    case MOUNT_CLASS_BASIC:
        return "basic";
    case MOUNT_CLASS_VOLUME_MANAGED:
        return "volume-managed";
    case MOUNT_CLASS_DYNAMIC:
        return "dynamic";
    case MOUNT_CLASS_NOT_HOST_VISIBLE:
        return "not-host-visible";
    case MOUNT_CLASS_LOOP_BACKED:
        return "loop-backed";
    case MOUNT_CLASS_UNSUPPORTED_FILESYSTEM:
        return "unsupported-filesystem";
    case MOUNT_CLASS_READ_ONLY:
        return "read-only";
    case MOUNT_CLASS_PSEUDO:
        return "pseudo";
    case MOUNT_CLASS_EXCLUDED:
        return "excluded";
    }
    g_assert_not_reached();
}

static gboolean has_block_device(const InventoryMount *mount)
{
    return major(mount->sb_dev) != 0 || mount->block_dev != 0 || mount->stack_error;
}

/* Whether a network mount's source names this guest over loopback
 * ("127.0.0.1:/srv/export", "localhost:/x", "[::1]:/x", "//127.0.0.1/share"):
 * an export of the guest's own filesystem mounted back, whose data is on that
 * filesystem. */
static gboolean network_source_is_loopback(const char *source)
{
    const char *host = source;

    if (!source) {
        return FALSE;
    }
    if (g_str_has_prefix(host, "//")) {
        host += 2;
    }
    return g_str_has_prefix(host, "127.") || g_str_has_prefix(host, "localhost:") ||
           g_str_has_prefix(host, "localhost/") || g_str_has_prefix(host, "[::1]");
}

/* Decided by the filesystem type alone: pseudo, stacked, network. */
static gboolean classify_by_type(const InventoryMount *mount, MountClass *klass, char **reason)
{
    switch (fs_type_get_kind(mount->fstype)) {
    case FS_TYPE_KIND_PSEUDO:
        *klass = MOUNT_CLASS_PSEUDO;
        *reason = g_strdup_printf("%s keeps no data on a disk", mount->fstype);
        return TRUE;
    case FS_TYPE_KIND_STACKED:
        *klass = MOUNT_CLASS_PSEUDO;
        *reason = g_strdup_printf("%s is stacked on other mounts; the filesystems under it "
                                  "are frozen instead", mount->fstype);
        return TRUE;
    case FS_TYPE_KIND_NETWORK:
        *klass = MOUNT_CLASS_NOT_HOST_VISIBLE;
        if (!g_str_has_prefix(mount->fstype, "fuse") && network_source_is_loopback(mount->source)) {
            *reason = g_strdup_printf("%s is served by this guest itself (%s): not frozen; its "
                                      "data is on the exported filesystem, which is classified "
                                      "on its own", mount->fstype, mount->source);
            return TRUE;
        }
        *reason = g_strdup_printf("%s is a %s (%s), not on a host disk; back it up from inside "
                                  "the guest", mount->fstype,
                                  g_str_has_prefix(mount->fstype, "fuse")
                                      ? "FUSE filesystem served by a user-space process"
                                      : "network filesystem",
                                  mount->source);
        return TRUE;
    case FS_TYPE_KIND_HOST_SHARED:
        *klass = MOUNT_CLASS_NOT_HOST_VISIBLE;
        *reason = g_strdup_printf("%s shares a directory of the host (%s); it is not on a disk "
                                  "of this VM", mount->fstype, mount->source);
        return TRUE;
    case FS_TYPE_KIND_UNKNOWN:
        if (!has_block_device(mount)) {
            *klass = MOUNT_CLASS_PSEUDO;
            *reason = g_strdup_printf("%s has no block device", mount->fstype);
            return TRUE;
        }
        return FALSE;
    case FS_TYPE_KIND_FREEZABLE:
    case FS_TYPE_KIND_NO_FREEZE:
        return FALSE;
    }
    g_assert_not_reached();
}

/* Whether the data of holder is somewhere the host does not snapshot. */
static gboolean holder_is_off_disk(const InventoryMount *holder, guint depth)
{
    DeviceStackSummary summary;

    switch (fs_type_get_kind(holder->fstype)) {
    case FS_TYPE_KIND_PSEUDO:
    case FS_TYPE_KIND_NETWORK:
    case FS_TYPE_KIND_HOST_SHARED:
        return TRUE;
    case FS_TYPE_KIND_STACKED:
    case FS_TYPE_KIND_UNKNOWN:
    case FS_TYPE_KIND_FREEZABLE:
    case FS_TYPE_KIND_NO_FREEZE:
        break;
    }
    device_stack_summarize(holder->stack, &summary);
    if (summary.hidden_disk || summary.virtual_leaf) {
        return TRUE;
    }
    for (guint i = 0; i < holder->loops->len && depth < LOOP_HOLDER_MAX_DEPTH; i++) {
        const InventoryLoop *dep = holder->loops->pdata[i];
        if (dep->holder && dep->holder != holder && holder_is_off_disk(dep->holder, depth + 1)) {
            return TRUE;
        }
    }
    return FALSE;
}

/* Disks or images the host does not see. */
static gboolean classify_by_visibility(const InventoryMount *mount,
                                       const DeviceStackSummary *summary, MountClass *klass,
                                       char **reason)
{
    if (summary->hidden_disk) {
        *klass = MOUNT_CLASS_NOT_HOST_VISIBLE;
        *reason = g_strdup_printf("on %s disk %s, which the host does not snapshot; back it up "
                                  "from inside the guest", summary->hidden_disk->label,
                                  summary->hidden_disk->name);
        return TRUE;
    }
    if (summary->virtual_leaf) {
        *klass = MOUNT_CLASS_NOT_HOST_VISIBLE;
        *reason = g_strdup_printf("on %s, a virtual block device with no host disk behind it",
                                  summary->virtual_leaf->name);
        return TRUE;
    }
    for (guint i = 0; i < mount->loops->len; i++) {
        const InventoryLoop *dep = mount->loops->pdata[i];
        if (dep->holder && dep->holder != mount && holder_is_off_disk(dep->holder, 0)) {
            *klass = MOUNT_CLASS_NOT_HOST_VISIBLE;
            *reason = g_strdup_printf("the image %s of %s is kept on %s (%s), which is not on "
                                      "a host disk", dep->loop->backing_file, dep->loop->name,
                                      dep->holder->mountpoint, dep->holder->fstype);
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean classify_writability(const InventoryMount *mount, MountClass *klass,
                                     char **reason)
{
    FsTypeKind kind = fs_type_get_kind(mount->fstype);

    if (mount->read_only) {
        *klass = MOUNT_CLASS_READ_ONLY;
        *reason = g_strdup("mounted read-only; nothing can change during the snapshot");
        return TRUE;
    }
    if (kind != FS_TYPE_KIND_FREEZABLE) {
        g_autofree char *seen = mount->signature && mount->signature->type &&
                                        strcmp(mount->signature->type, mount->fstype) != 0
                                    ? g_strdup_printf(" (%s)", mount->signature->type)
                                    : g_strdup("");
        *klass = MOUNT_CLASS_UNSUPPORTED_FILESYSTEM;
        *reason = g_strdup_printf("%s%s %s freezing; exclude %s to snapshot without it",
                                  mount->fstype, seen,
                                  kind == FS_TYPE_KIND_NO_FREEZE ? "does not support"
                                                                 : "is not known to support",
                                  mount->mountpoint);
        return TRUE;
    }
    if (mount->all_covered) {
        *klass = MOUNT_CLASS_UNSUPPORTED_FILESYSTEM;
        *reason = g_strdup_printf("every mountpoint of it (%s) is covered by another mount, so "
                                  "it cannot be reached to freeze", mount->mountpoint);
        return TRUE;
    }
    return FALSE;
}

static char *describe_loops(const InventoryMount *mount)
{
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < mount->loops->len; i++) {
        const InventoryLoop *dep = mount->loops->pdata[i];
        g_string_append_printf(text, "%s%s with image %s", i ? "; " : "", dep->loop->name,
                               dep->loop->backing_file ? dep->loop->backing_file : "(unknown)");
        if (dep->holder) {
            g_string_append_printf(text, " on %s", dep->holder->mountpoint);
        }
    }
    return g_string_free(text, FALSE);
}

static char *describe_disks(const InventoryMount *mount)
{
    g_autoptr(GPtrArray) disks = inventory_mount_get_disks(mount);
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < disks->len; i++) {
        const DiskInfo *disk = disks->pdata[i];
        g_string_append_printf(text, "%s%s", i ? ", " : "", disk->name);
    }
    return g_string_free(text, FALSE);
}

static const char *volume_kind(const DeviceStackSummary *s)
{
    if (s->has_lvm && s->has_crypt) {
        return "LVM and dm-crypt";
    }
    if (s->has_lvm) {
        return "LVM";
    }
    if (s->has_crypt) {
        return "dm-crypt";
    }
    if (s->has_multipath) {
        return "multipath";
    }
    return s->has_dm_other ? "device-mapper" : "a stacked block device";
}

/* Why a mount is basic: which partition or disk, or why we assume so. */
static char *describe_basic(const InventoryMount *mount, const DeviceStackSummary *s)
{
    g_autoptr(GPtrArray) disks = inventory_mount_get_disks(mount);
    const DiskInfo *disk = disks->len ? disks->pdata[0] : NULL; /* owned by the stack */

    if (!mount->stack) {
        return g_strdup_printf("block device not resolved (%s); treated as a host disk",
                               mount->stack_error ? mount->stack_error : "unknown");
    }
    if (!disk) {
        return g_strdup_printf("block device %s; treated as a host disk", mount->device_name);
    }
    if (s->unknown_disk) {
        return g_strdup_printf("%s of disk %s on an unrecognized bus; treated as a host disk",
                               s->has_partition ? "partition" : "whole disk", disk->name);
    }
    if (s->has_partition) {
        return g_strdup_printf("partition %s of %s disk %s", mount->device_name, disk->label,
                               disk->name);
    }
    return g_strdup_printf("whole %s disk %s", disk->label, disk->name);
}

/* Loop, dynamic, volume-managed or basic, from the device stack. */
static MountClass classify_by_stack(const InventoryMount *mount, const DeviceStackSummary *s,
                                    char **reason)
{
    g_autofree char *disks = describe_disks(mount);

    if (s->has_loop) {
        g_autofree char *loops = describe_loops(mount);
        *reason = g_strdup_printf("loop device %s; frozen before the filesystem holding the "
                                  "image", loops);
        return MOUNT_CLASS_LOOP_BACKED;
    }
    if (s->has_md) {
        *reason = g_strdup_printf("MD RAID %s (%s) over %s", s->md->name,
                                  s->md->md_level ? s->md->md_level : "unknown level", disks);
        return MOUNT_CLASS_DYNAMIC;
    }
    if (s->n_disks > 1) {
        *reason = g_strdup_printf("%s spans %u disks (%s)",
                                  s->has_btrfs_volume ? "btrfs" : volume_kind(s), s->n_disks,
                                  disks);
        return MOUNT_CLASS_DYNAMIC;
    }
    if (s->has_lvm || s->has_crypt || s->has_multipath || s->has_dm_other ||
        s->has_stacked_other) {
        *reason = g_strdup_printf("%s volume %s on disk %s", volume_kind(s), mount->device_name,
                                  disks);
        return MOUNT_CLASS_VOLUME_MANAGED;
    }
    *reason = describe_basic(mount, s);
    return MOUNT_CLASS_BASIC;
}

MountClass mount_class_compute(const InventoryMount *mount, char **reason)
{
    DeviceStackSummary summary;
    MountClass klass = MOUNT_CLASS_BASIC;

    g_return_val_if_fail(reason != NULL, MOUNT_CLASS_BASIC);
    if (classify_by_type(mount, &klass, reason)) {
        return klass;
    }
    device_stack_summarize(mount->stack, &summary);
    if (classify_by_visibility(mount, &summary, &klass, reason) ||
        classify_writability(mount, &klass, reason)) {
        return klass;
    }
    return classify_by_stack(mount, &summary, reason);
}
