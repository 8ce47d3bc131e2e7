/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disks.c — guest-get-disks with qemu-ga 7.2's result (qga/qapi-schema.json
 * GuestDiskInfo, qga/commands-posix.c): every block device in /sys/block
 * with a size, then its partitions, each named by its /dev node; the list
 * comes out in the reverse of that walk, as qemu-ga builds it by prepending.
 *
 * qemu-ga asks libudev; we read what libudev reads: the node from the
 * device's uevent (DEVNAME) and the properties udev stored for it in its
 * database under /run/udev/data (DM_NAME for the alias, ID_SERIAL for the
 * serial), so with no udev database both agents report neither. The
 * address of a disk that is not under /devices/virtual/block is the one
 * guest-get-fsinfo reports (fsfreeze/disk-info.h). An NVMe disk on PCI
 * also gets qemu-ga's `smart` member (disk-smart.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "agent/commands/commands.h"
#include "agent/commands/disk-address.h"
#include "agent/commands/disk-smart.h"
#include "common/quiesce-error.h"
#include "fsfreeze/sysfs.h"

#define DISKS_SYS_BLOCK "/sys/block"
/* "/dev/" + DEVNAME of the device directory dir, as libudev's devnode, or
 * NULL. (transfer full) */
static char *disks_devnode(const char *dir)
{
    g_autofree char *name = sysfs_uevent_get(dir, "DEVNAME");

    return name ? g_build_filename("/dev", name, NULL) : NULL;
}

/* disk_udev_property() of the block device directory dir. (transfer full) */
static char *disks_udev_property(const char *dir, const char *key)
{
    g_autofree char *devno = sysfs_attr_read(dir, "dev");
    guint maj;
    guint min;

    if (!devno || sscanf(devno, "%u:%u", &maj, &min) != 2) {
        return NULL;
    }
    return disk_udev_property(makedev(maj, min), key);
}

/* The /dev nodes of dir/slaves, in qemu-ga's (reversed) order; NULL when
 * there is no slaves directory. (transfer full) */
static JsonValue *disks_dependencies(const char *dir)
{
    g_autofree char *slaves = g_build_filename(dir, "slaves", NULL);
    g_autoptr(GDir) d = g_dir_open(slaves, 0, NULL);
    g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
    JsonValue *list;
    const char *name;

    if (!d) {
        return NULL;
    }
    while ((name = g_dir_read_name(d))) {
        g_autofree char *slave = g_build_filename(slaves, name, NULL);
        char *node = disks_devnode(slave);
        if (node) {
            g_ptr_array_add(nodes, node);
        }
    }
    list = json_array_new();
    for (guint i = nodes->len; i-- > 0;) {
        json_array_append(list, json_string_new(g_ptr_array_index(nodes, i)));
    }
    return list;
}

/* The disk behind dir unless it is virtual, or NULL. (transfer full) */
static DiskInfo *disks_probe(const char *dir)
{
    g_autofree char *real = sysfs_path_resolve(dir);

    /* A path that cannot be resolved counts as virtual, as in qemu-ga. */
    if (!real || strstr(real, "/devices/virtual/block/")) {
        return NULL;
    }
    return disk_info_probe("/sys", real, "/dev");
}

static JsonValue *disks_entry_new(const char *node, gboolean partition, JsonValue *dependencies)
{
    JsonValue *item = json_object_new();

    json_object_set_string(item, "name", node);
    json_object_set_bool(item, "partition", partition);
    if (dependencies) {
        json_object_set(item, "dependencies", dependencies);
    }
    return item;
}

/* qemu-ga's test: "<disk><digit>..." or "<disk>p<digit>...". */
static gboolean disks_is_partition_of(const char *disk, const char *entry)
{
    size_t len = strlen(disk);

    if (strncmp(entry, disk, len) != 0) {
        return FALSE;
    }
    entry += len;
    return g_ascii_isdigit(entry[0]) || (entry[0] == 'p' && g_ascii_isdigit(entry[1]));
}

/* Appends the partitions of disk (its directory dir, its node) to out. */
static void disks_add_partitions(const char *disk, const char *dir, const char *node,
                                 GPtrArray *out)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *part_dir = g_build_filename(dir, name, NULL);
        g_autofree char *part_node = NULL;
        JsonValue *dependencies;

        if (!disks_is_partition_of(disk, name) || !g_file_test(part_dir, G_FILE_TEST_IS_DIR) ||
            g_file_test(part_dir, G_FILE_TEST_IS_SYMLINK)) {
            continue;
        }
        part_node = disks_devnode(part_dir);
        if (!part_node) {
            continue;
        }
        /* The disk is the partition's dependency, for following the tree. */
        dependencies = json_array_new();
        json_array_append(dependencies, json_string_new(node));
        g_ptr_array_add(out, disks_entry_new(part_node, TRUE, dependencies));
    }
}

/* Appends the disk named name in /sys/block and its partitions to out;
 * a device without size or node is left out. */
static void disks_add(const char *name, GPtrArray *out)
{
    g_autofree char *dir = g_build_filename(DISKS_SYS_BLOCK, name, NULL);
    g_autofree char *size_path = g_build_filename(dir, "size", NULL);
    g_autofree char *size = NULL;
    g_autofree char *node = NULL;
    g_autofree char *alias = NULL;
    g_autoptr(DiskInfo) disk = NULL;
    JsonValue *smart = NULL;
    JsonValue *item;

    if (!g_file_get_contents(size_path, &size, NULL, NULL) || g_str_equal(size, "0\n")) {
        return;
    }
    node = disks_devnode(dir);
    if (!node) {
        return;
    }
    alias = disks_udev_property(dir, "DM_NAME");
    disk = disks_probe(dir);
    item = disks_entry_new(node, FALSE, disks_dependencies(dir));
    if (disk) {
        json_object_set(item, "address", disk_address_json_new(disk));
    }
    if (alias) {
        json_object_set_string(item, "alias", alias);
    }
    /* qemu-ga asks only a disk its address code calls nvme, which is one
     * on PCI (docs/qga-reference.md §9). */
    if (disk && disk->bus == DISK_BUS_NVME) {
        smart = disk_smart_nvme_read(node);
    }
    if (smart) {
        json_object_set(item, "smart", smart);
    }
    g_ptr_array_add(out, item);
    disks_add_partitions(name, dir, node, out);
}

static bool cmd_get_disks(void *context, const JsonValue *args, JsonValue **result,
                          ProtoError **error)
{
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify)json_value_free);
    DIR *dir = opendir(DISKS_SYS_BLOCK);
    struct dirent *entry;

    if (!dir) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "Can't open directory \"" DISKS_SYS_BLOCK "\": %s", g_strerror(errno));
        return false;
    }
    while ((entry = readdir(dir))) {
        /* Every disk in /sys/block is a symlink to its device. */
        if (entry->d_type == DT_LNK) {
            disks_add(entry->d_name, entries);
        }
    }
    closedir(dir);
    *result = json_array_new();
    for (guint i = entries->len; i-- > 0;) {
        json_array_append(*result, g_steal_pointer(&entries->pdata[i]));
    }
    return true;
}

const CommandSpec commands_disks[] = {
    { "guest-get-disks", cmd_get_disks, NULL, 0 },
};
const gsize commands_disks_count = G_N_ELEMENTS(commands_disks);
