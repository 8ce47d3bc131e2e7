/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * device-stack.c — resolves a block device down to its disks through sysfs;
 * see the header for the attributes read.
 */
#include "fsfreeze/device-stack.h"

#include "common/quiesce-error.h"
#include "fsfreeze/sysfs.h"

#include <string.h>
#include <sys/sysmacros.h>

const char *device_node_kind_to_string(DeviceNodeKind kind)
{
    switch (kind) {
    case DEVICE_NODE_KIND_DISK:
        return "disk";
    case DEVICE_NODE_KIND_PARTITION:
        return "partition";
    case DEVICE_NODE_KIND_LVM:
        return "lvm";
    case DEVICE_NODE_KIND_CRYPT:
        return "crypt";
    case DEVICE_NODE_KIND_MULTIPATH:
        return "multipath";
    case DEVICE_NODE_KIND_DM_OTHER:
        return "dm";
    case DEVICE_NODE_KIND_MD:
        return "md";
    case DEVICE_NODE_KIND_LOOP:
        return "loop";
    case DEVICE_NODE_KIND_STACKED_OTHER:
        return "stacked";
    case DEVICE_NODE_KIND_VIRTUAL:
        return "virtual";
    case DEVICE_NODE_KIND_BTRFS_VOLUME:
        return "btrfs-volume";
    }
    g_assert_not_reached();
}

DeviceNode *device_node_new(const char *name, dev_t devno, DeviceNodeKind kind)
{
    DeviceNode *node = g_new0(DeviceNode, 1);
    node->name = g_strdup(name);
    node->devno = devno;
    node->kind = kind;
    node->children = g_ptr_array_new_with_free_func((GDestroyNotify)device_node_free);
    return node;
}

void device_node_free(DeviceNode *node)
{
    if (!node) {
        return;
    }
    g_free(node->name);
    g_free(node->dm_name);
    g_free(node->dm_uuid);
    g_free(node->md_level);
    g_free(node->backing_file);
    disk_info_free(node->disk);
    g_ptr_array_unref(node->children);
    g_free(node);
}

static DeviceNode *resolve_node(const char *sysfs_root, const char *dev_root, const char *dir,
                                guint depth, GError **error);

/* GPtrArray sort callback: elements are char *, arguments point at them. */
static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Resolves every entry of dir/slaves as a child of node, in name order. */
static gboolean resolve_slaves(const char *sysfs_root, const char *dev_root, const char *dir,
                               guint depth, DeviceNode *node, GError **error)
{
    g_autofree char *slaves_dir = g_build_filename(dir, "slaves", NULL);
    g_autoptr(GDir) slaves = g_dir_open(slaves_dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!slaves) {
        return TRUE;
    }
    while ((name = g_dir_read_name(slaves))) {
        g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *link = g_build_filename(slaves_dir, names->pdata[i], NULL);
        g_autofree char *child_dir = sysfs_path_resolve(link);
        DeviceNode *child;

        if (!child_dir) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "%s: slave %s does not resolve", dir, (char *)names->pdata[i]);
            return FALSE;
        }
        child = resolve_node(sysfs_root, dev_root, child_dir, depth + 1, error);
        if (!child) {
            return FALSE;
        }
        g_ptr_array_add(node->children, child);
    }
    return TRUE;
}

static DeviceNodeKind dm_kind(const char *uuid)
{
    if (!uuid) {
        return DEVICE_NODE_KIND_DM_OTHER;
    }
    if (g_str_has_prefix(uuid, "LVM-")) {
        return DEVICE_NODE_KIND_LVM;
    }
    if (g_str_has_prefix(uuid, "CRYPT-")) {
        return DEVICE_NODE_KIND_CRYPT;
    }
    if (g_str_has_prefix(uuid, "mpath-")) {
        return DEVICE_NODE_KIND_MULTIPATH;
    }
    return DEVICE_NODE_KIND_DM_OTHER;
}

static void loop_read_backing(DeviceNode *node, const char *dir)
{
    g_autofree char *loop_dir = g_build_filename(dir, "loop", NULL);
    g_autofree char *backing = sysfs_attr_read(loop_dir, "backing_file");

    /* d_path() marks an unlinked file this way; the path still tells which
     * mount held it. */
    if (backing && g_str_has_suffix(backing, " (deleted)")) {
        backing[strlen(backing) - strlen(" (deleted)")] = '\0';
        node->backing_deleted = TRUE;
    }
    node->backing_file = g_steal_pointer(&backing);
}

/* Fills in kind and children of node, whose sysfs directory is dir. */
static gboolean resolve_kind(const char *sysfs_root, const char *dev_root, const char *dir,
                             guint depth, DeviceNode *node, GError **error)
{
    g_autofree char *dm_dir = g_build_filename(dir, "dm", NULL);
    g_autofree char *md_dir = g_build_filename(dir, "md", NULL);
    g_autofree char *rel = sysfs_path_relative(sysfs_root, dir);

    if (sysfs_attr_exists(dir, "partition")) {
        g_autofree char *disk_dir = g_path_get_dirname(dir);
        DeviceNode *disk;

        node->kind = DEVICE_NODE_KIND_PARTITION;
        disk = resolve_node(sysfs_root, dev_root, disk_dir, depth + 1, error);
        if (disk) {
            g_ptr_array_add(node->children, disk);
        }
        return disk != NULL;
    }
    if (g_file_test(dm_dir, G_FILE_TEST_IS_DIR)) {
        node->dm_name = sysfs_attr_read(dm_dir, "name");
        node->dm_uuid = sysfs_attr_read(dm_dir, "uuid");
        node->kind = dm_kind(node->dm_uuid);
        return resolve_slaves(sysfs_root, dev_root, dir, depth, node, error);
    }
    if (g_file_test(md_dir, G_FILE_TEST_IS_DIR)) {
        node->kind = DEVICE_NODE_KIND_MD;
        node->md_level = sysfs_attr_read(md_dir, "level");
        return resolve_slaves(sysfs_root, dev_root, dir, depth, node, error);
    }
    if (sysfs_attr_exists(dir, "loop") || g_str_has_prefix(node->name, "loop")) {
        node->kind = DEVICE_NODE_KIND_LOOP;
        loop_read_backing(node, dir);
        return TRUE;
    }
    if (!resolve_slaves(sysfs_root, dev_root, dir, depth, node, error)) {
        return FALSE;
    }
    if (node->children->len > 0) {
        node->kind = DEVICE_NODE_KIND_STACKED_OTHER;
    } else if (rel && g_str_has_prefix(rel, "/devices/virtual/block/")) {
        /* nbd, zram, rbd, ram. (NVMe-oF and multipath NVMe heads live under
         * /devices/virtual/nvme-* and are described as disks.) */
        node->kind = DEVICE_NODE_KIND_VIRTUAL;
    } else {
        node->kind = DEVICE_NODE_KIND_DISK;
        node->disk = disk_info_probe(sysfs_root, dir, dev_root);
    }
    return TRUE;
}

static DeviceNode *resolve_node(const char *sysfs_root, const char *dev_root, const char *dir,
                                guint depth, GError **error)
{
    g_autofree char *name = g_path_get_basename(dir);
    g_autofree char *dev_text = NULL;
    g_autoptr(DeviceNode) node = NULL;
    dev_t devno = 0;

    if (depth >= DEVICE_STACK_MAX_DEPTH) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "device stack deeper than %d at %s", DEVICE_STACK_MAX_DEPTH, dir);
        return NULL;
    }
    dev_text = sysfs_attr_read(dir, "dev");
    if (!dev_text || !sysfs_devno_parse(dev_text, &devno)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "%s is not a block device directory (no dev attribute)", dir);
        return NULL;
    }
    node = device_node_new(name, devno, DEVICE_NODE_KIND_DISK);
    if (!resolve_kind(sysfs_root, dev_root, dir, depth, node, error)) {
        return NULL;
    }
    return g_steal_pointer(&node);
}

DeviceNode *device_stack_resolve_dir(const char *sysfs_root, const char *dev_root,
                                     const char *dir, GError **error)
{
    g_autofree char *resolved = sysfs_path_resolve(dir);

    if (!resolved) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND, "%s does not exist", dir);
        return NULL;
    }
    return resolve_node(sysfs_root, dev_root, resolved, 0, error);
}

DeviceNode *device_stack_resolve(const char *sysfs_root, const char *dev_root, dev_t devno,
                                 GError **error)
{
    g_autofree char *name = sysfs_devno_format(devno);
    g_autofree char *link = g_build_filename(sysfs_root, "dev", "block", name, NULL);

    if (!g_file_test(link, G_FILE_TEST_EXISTS)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND,
                    "no block device %s in sysfs (%s)", name, link);
        return NULL;
    }
    return device_stack_resolve_dir(sysfs_root, dev_root, link, error);
}

static gboolean devno_seen(GArray *seen, dev_t devno)
{
    for (guint i = 0; i < seen->len; i++) {
        if (g_array_index(seen, dev_t, i) == devno) {
            return TRUE;
        }
    }
    g_array_append_val(seen, devno);
    return FALSE;
}

static void summarize_node(const DeviceNode *node, DeviceStackSummary *s, GArray *seen,
                           gboolean under_multipath)
{
    switch (node->kind) {
    case DEVICE_NODE_KIND_DISK:
        if (!disk_bus_is_host_visible(node->disk->bus) && !s->hidden_disk) {
            s->hidden_disk = node->disk;
        }
        if (node->disk->bus == DISK_BUS_UNKNOWN && !s->unknown_disk) {
            s->unknown_disk = node->disk;
        }
        if (!under_multipath && !devno_seen(seen, node->devno)) {
            s->n_disks++;
        }
        break;
    case DEVICE_NODE_KIND_PARTITION:
        s->has_partition = TRUE;
        break;
    case DEVICE_NODE_KIND_LVM:
        s->has_lvm = TRUE;
        break;
    case DEVICE_NODE_KIND_CRYPT:
        s->has_crypt = TRUE;
        break;
    case DEVICE_NODE_KIND_MULTIPATH:
        s->has_multipath = TRUE;
        if (!under_multipath && !devno_seen(seen, node->devno)) {
            s->n_disks++; /* all paths lead to one LUN */
        }
        under_multipath = TRUE;
        break;
    case DEVICE_NODE_KIND_DM_OTHER:
        s->has_dm_other = TRUE;
        break;
    case DEVICE_NODE_KIND_MD:
        s->has_md = TRUE;
        s->md = s->md ? s->md : node;
        break;
    case DEVICE_NODE_KIND_LOOP:
        s->has_loop = TRUE;
        break;
    case DEVICE_NODE_KIND_STACKED_OTHER:
        s->has_stacked_other = TRUE;
        break;
    case DEVICE_NODE_KIND_VIRTUAL:
        s->virtual_leaf = s->virtual_leaf ? s->virtual_leaf : node;
        break;
    case DEVICE_NODE_KIND_BTRFS_VOLUME:
        s->has_btrfs_volume = TRUE;
        break;
    }
    for (guint i = 0; i < node->children->len; i++) {
        summarize_node(node->children->pdata[i], s, seen, under_multipath);
    }
}

void device_stack_summarize(const DeviceNode *top, DeviceStackSummary *summary)
{
    g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(dev_t));

    *summary = (DeviceStackSummary){ 0 };
    if (top) {
        summarize_node(top, summary, seen, FALSE);
    }
}

void device_stack_collect_disks(const DeviceNode *top, GPtrArray *disks)
{
    if (!top) {
        return;
    }
    if (top->kind == DEVICE_NODE_KIND_DISK) {
        for (guint i = 0; i < disks->len; i++) {
            if (((const DiskInfo *)disks->pdata[i])->devno == top->disk->devno) {
                return;
            }
        }
        g_ptr_array_add(disks, top->disk);
    }
    for (guint i = 0; i < top->children->len; i++) {
        device_stack_collect_disks(top->children->pdata[i], disks);
    }
}

void device_stack_collect_loops(const DeviceNode *top, GPtrArray *loops)
{
    if (!top) {
        return;
    }
    if (top->kind == DEVICE_NODE_KIND_LOOP) {
        g_ptr_array_add(loops, (gpointer)top);
    }
    for (guint i = 0; i < top->children->len; i++) {
        device_stack_collect_loops(top->children->pdata[i], loops);
    }
}
