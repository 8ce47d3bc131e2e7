/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inventory.c — builds the inventory: mount table grouped by superblock,
 * block devices resolved, loop backing files matched to mounts. See the
 * header for the rules.
 */
#include "fsfreeze/inventory.h"

#include "fsfreeze/fs-type.h"
#include "fsfreeze/mountinfo.h"
#include "fsfreeze/sysfs.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

InventoryOptions *inventory_options_new(void)
{
    InventoryOptions *options = g_new0(InventoryOptions, 1);
    options->mountinfo_path = g_strdup("/proc/self/mountinfo");
    options->sysfs_root = g_strdup("/sys");
    options->dev_root = g_strdup("/dev");
    options->probe_signatures = TRUE;
    options->stat_mountpoints = TRUE;
    return options;
}

InventoryOptions *inventory_options_new_for_root(const char *root)
{
    InventoryOptions *options = g_new0(InventoryOptions, 1);
    options->mountinfo_path = g_build_filename(root, "mountinfo", NULL);
    options->sysfs_root = g_build_filename(root, "sys", NULL);
    options->dev_root = g_build_filename(root, "dev", NULL);
    options->probe_signatures = FALSE;
    return options;
}

void inventory_options_free(InventoryOptions *options)
{
    if (!options) {
        return;
    }
    g_free(options->mountinfo_path);
    g_free(options->sysfs_root);
    g_free(options->dev_root);
    g_free(options);
}

static void inventory_mount_free(InventoryMount *mount)
{
    if (!mount) {
        return;
    }
    g_free(mount->mountpoint);
    g_ptr_array_unref(mount->aliases);
    g_free(mount->root);
    g_free(mount->fstype);
    g_free(mount->source);
    g_free(mount->super_options);
    g_free(mount->device_name);
    device_node_free(mount->stack);
    g_free(mount->stack_error);
    g_ptr_array_unref(mount->loops);
    signature_free(mount->signature);
    g_free(mount);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(InventoryMount, inventory_mount_free)

Inventory *inventory_ref(Inventory *inventory)
{
    g_atomic_int_inc(&inventory->ref_count);
    return inventory;
}

void inventory_unref(Inventory *inventory)
{
    if (!inventory || !g_atomic_int_dec_and_test(&inventory->ref_count)) {
        return;
    }
    g_ptr_array_unref(inventory->mounts);
    g_ptr_array_unref(inventory->entries);
    g_hash_table_unref(inventory->covered_ids);
    g_free(inventory);
}

/* A mount is covered when a later mount sits on the same path on top of it
 * (its parent is the covered mount): path lookups then reach the later one,
 * so FIFREEZE through that path would freeze the wrong filesystem. Returns
 * the set of covered mount ids (GINT_TO_POINTER keys). */
static GHashTable *find_covered(GPtrArray *entries)
{
    g_autoptr(GHashTable) by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
    GHashTable *covered = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (guint i = 0; i < entries->len; i++) {
        const MountEntry *entry = entries->pdata[i];
        g_hash_table_insert(by_id, GINT_TO_POINTER(entry->id), (gpointer)entry);
    }
    for (guint i = 0; i < entries->len; i++) {
        const MountEntry *entry = entries->pdata[i];
        const MountEntry *parent = g_hash_table_lookup(by_id, GINT_TO_POINTER(entry->parent_id));
        if (parent && parent != entry && strcmp(parent->mountpoint, entry->mountpoint) == 0) {
            g_hash_table_add(covered, GINT_TO_POINTER(parent->id));
        }
    }
    return covered;
}

static gboolean entry_is_covered(GHashTable *covered, const MountEntry *entry)
{
    return g_hash_table_contains(covered, GINT_TO_POINTER(entry->id));
}

/* Groups entry indexes by superblock, in order of first appearance.
 * Returns an array of GArray (guint). */
static GPtrArray *group_by_superblock(GPtrArray *entries)
{
    GPtrArray *groups = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
    g_autoptr(GHashTable) by_dev = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                         NULL);

    for (guint i = 0; i < entries->len; i++) {
        const MountEntry *entry = entries->pdata[i];
        gint64 key = (gint64)entry->dev;
        GArray *group = g_hash_table_lookup(by_dev, &key);

        if (!group) {
            group = g_array_new(FALSE, FALSE, sizeof(guint));
            g_ptr_array_add(groups, group);
            g_hash_table_insert(by_dev, g_memdup2(&key, sizeof(key)), group);
        }
        g_array_append_val(group, i);
    }
    return groups;
}

static const MountEntry *group_entry(GPtrArray *entries, GArray *group, guint k)
{
    return entries->pdata[g_array_index(group, guint, k)];
}

/* The entry to freeze through: visible rather than covered, then shortest
 * root, then first mounted. */
static guint choose_primary(GPtrArray *entries, GHashTable *covered_ids, GArray *group,
                            gboolean *all_covered)
{
    guint best = 0;
    gboolean best_covered = entry_is_covered(covered_ids, group_entry(entries, group, 0));

    for (guint k = 1; k < group->len; k++) {
        const MountEntry *entry = group_entry(entries, group, k);
        gboolean covered = entry_is_covered(covered_ids, entry);
        gboolean shorter = strlen(entry->root) < strlen(group_entry(entries, group, best)->root);

        if ((best_covered && !covered) || (covered == best_covered && shorter)) {
            best = k;
            best_covered = covered;
        }
    }
    *all_covered = best_covered;
    return best;
}

static InventoryMount *mount_new_from_group(GPtrArray *entries, GHashTable *covered_ids,
                                            GArray *group, guint index)
{
    g_autoptr(InventoryMount) mount = g_new0(InventoryMount, 1);
    guint primary = choose_primary(entries, covered_ids, group, &mount->all_covered);
    const MountEntry *kept = group_entry(entries, group, primary);

    mount->index = index;
    mount->mountpoint = g_strdup(kept->mountpoint);
    mount->aliases = g_ptr_array_new_with_free_func(g_free);
    mount->root = g_strdup(kept->root);
    mount->fstype = g_strdup(kept->fstype);
    mount->source = g_strdup(kept->source);
    mount->super_options = g_strdup(kept->super_options);
    mount->sb_dev = kept->dev;
    mount->loops = g_ptr_array_new_with_free_func(g_free);
    for (guint k = 0; k < group->len; k++) {
        const MountEntry *entry = group_entry(entries, group, k);
        if (k != primary && !g_ptr_array_find_with_equal_func(mount->aliases, entry->mountpoint,
                                                              g_str_equal, NULL) &&
            strcmp(entry->mountpoint, mount->mountpoint) != 0) {
            g_ptr_array_add(mount->aliases, g_strdup(entry->mountpoint));
        }
    }
    /* The superblock decides, not the mounts this namespace sees: a
     * sandboxed agent (ProtectSystem=strict) sees / remounted read-only in
     * its own namespace while the rest of the guest writes to it. */
    mount->read_only = kept->super_read_only;
    return g_steal_pointer(&mount);
}

/* The block device named by a mount source such as "/dev/vdb" or
 * "/dev/mapper/vg-data": stat() of the node (dev_root stands for /dev), else
 * the node's name looked up in <sys>/class/block. */
static gboolean source_get_devno(const InventoryOptions *options, const char *source,
                                 dev_t *devno)
{
    g_autofree char *path = NULL;
    g_autofree char *resolved = NULL;
    g_autofree char *name = NULL;
    g_autofree char *class_dir = NULL;
    g_autofree char *dev_text = NULL;
    struct stat st;

    if (g_str_has_prefix(source, "/dev/")) {
        path = g_build_filename(options->dev_root, source + strlen("/dev/"), NULL);
    } else if (source[0] == '/') {
        path = g_strdup(source);
    } else {
        return FALSE;
    }
    if (stat(path, &st) == 0 && S_ISBLK(st.st_mode)) {
        *devno = st.st_rdev;
        return TRUE;
    }
    resolved = sysfs_path_resolve(path);
    name = g_path_get_basename(resolved ? resolved : path);
    class_dir = g_build_filename(options->sysfs_root, "class", "block", name, NULL);
    dev_text = sysfs_attr_read(class_dir, "dev");
    return dev_text && sysfs_devno_parse(dev_text, devno);
}

/* The members of the btrfs filesystem that device_name belongs to, as a
 * BTRFS_VOLUME node over each member's stack; NULL (no error) for a btrfs on
 * a single device or one sysfs does not describe. */
static DeviceNode *btrfs_volume_resolve(const InventoryOptions *options, const char *device_name,
                                        GError **error)
{
    g_autofree char *btrfs_dir = g_build_filename(options->sysfs_root, "fs", "btrfs", NULL);
    g_autoptr(GDir) filesystems = g_dir_open(btrfs_dir, 0, NULL);
    const char *fsid;

    while (filesystems && (fsid = g_dir_read_name(filesystems))) {
        g_autofree char *devices_dir = g_build_filename(btrfs_dir, fsid, "devices", NULL);
        g_autofree char *mine = g_build_filename(devices_dir, device_name, NULL);
        g_autoptr(GDir) devices = NULL;
        g_autoptr(DeviceNode) volume = NULL;
        const char *member;

        if (!g_file_test(mine, G_FILE_TEST_EXISTS)) {
            continue;
        }
        devices = g_dir_open(devices_dir, 0, NULL);
        volume = device_node_new(fsid, 0, DEVICE_NODE_KIND_BTRFS_VOLUME);
        while (devices && (member = g_dir_read_name(devices))) {
            g_autofree char *link = g_build_filename(devices_dir, member, NULL);
            DeviceNode *child = device_stack_resolve_dir(options->sysfs_root, options->dev_root,
                                                         link, error);
            if (!child) {
                return NULL;
            }
            g_ptr_array_add(volume->children, child);
        }
        return volume->children->len > 1 ? g_steal_pointer(&volume) : NULL;
    }
    return NULL;
}

/* Finds the block device under mount and resolves its stack; failures are
 * recorded in stack_error, not returned: one odd device must not hide the
 * rest of the inventory. */
static void mount_resolve_devices(const InventoryOptions *options, InventoryMount *mount)
{
    g_autoptr(GError) error = NULL;
    DeviceNode *volume;
    dev_t devno = mount->sb_dev;

    if (major(devno) == 0) {
        if (strcmp(mount->fstype, "btrfs") != 0) {
            return; /* no block device: pseudo, network, FUSE, ... */
        }
        if (!source_get_devno(options, mount->source, &devno)) {
            mount->stack_error = g_strdup_printf("cannot find the block device of %s",
                                                 mount->source);
            return;
        }
    }
    mount->block_dev = devno;
    mount->stack = device_stack_resolve(options->sysfs_root, options->dev_root, devno, &error);
    if (!mount->stack) {
        mount->stack_error = g_strdup(error->message);
        return;
    }
    mount->device_name = g_strdup(mount->stack->name);
    if (strcmp(mount->fstype, "btrfs") == 0) {
        volume = btrfs_volume_resolve(options, mount->device_name, &error);
        if (volume) {
            device_node_free(mount->stack);
            mount->stack = volume;
        } else if (error) {
            mount->stack_error = g_strdup(error->message);
        }
    }
}

/* Reads the superblock signature when the device is a local one: a dead
 * iSCSI session or NBD server would make the read hang. Only a writable
 * mount whose type cannot be frozen needs it (mount-class.c names what the
 * device really holds in the reason): probing every disk on every request
 * would put a full libblkid scan in front of each freeze. */
static void mount_probe_signature(const InventoryOptions *options, InventoryMount *mount)
{
    g_autofree char *dev_path = NULL;
    DeviceStackSummary summary;

    if (!options->probe_signatures || !mount->stack || !mount->device_name ||
        mount->read_only || fs_type_get_kind(mount->fstype) == FS_TYPE_KIND_FREEZABLE) {
        return;
    }
    device_stack_summarize(mount->stack, &summary);
    if (summary.hidden_disk || summary.virtual_leaf) {
        return;
    }
    dev_path = g_build_filename(options->dev_root, mount->device_name, NULL);
    mount->signature = signature_probe(dev_path, NULL);
}

/* Records st_dev of the mountpoint, for filesystems that may be frozen. */
static void mount_stat_mountpoint(const InventoryOptions *options, InventoryMount *mount)
{
    struct stat st;

    if (!options->stat_mountpoints || !mount->stack || mount->all_covered ||
        !fs_type_is_freezable(mount->fstype)) {
        return; /* a covered path would stat the filesystem on top */
    }
    if (stat(mount->mountpoint, &st) == 0) {
        mount->mountpoint_dev = st.st_dev;
    }
}

dev_t inventory_mount_get_dev(const InventoryMount *mount)
{
    return mount->mountpoint_dev ? mount->mountpoint_dev : mount->sb_dev;
}

static void mount_resolve_loops(const Inventory *inventory, InventoryMount *mount)
{
    g_autoptr(GPtrArray) loops = g_ptr_array_new();

    device_stack_collect_loops(mount->stack, loops);
    for (guint i = 0; i < loops->len; i++) {
        InventoryLoop *dep = g_new0(InventoryLoop, 1);
        const DeviceNode *loop = loops->pdata[i];

        dep->loop = loop;
        dep->unresolved = !loop->backing_file || loop->backing_file[0] != '/';
        dep->holder = dep->unresolved ? NULL : inventory_find_holder(inventory, loop->backing_file);
        g_ptr_array_add(mount->loops, dep);
    }
}

Inventory *inventory_new_from_entries(const InventoryOptions *options, GPtrArray *entries)
{
    Inventory *inventory = g_new0(Inventory, 1);
    g_autoptr(GPtrArray) groups = group_by_superblock(entries);

    inventory->ref_count = 1;
    inventory->entries = entries;
    inventory->covered_ids = find_covered(entries);
    inventory->mounts = g_ptr_array_new_with_free_func((GDestroyNotify)inventory_mount_free);
    for (guint g = 0; g < groups->len; g++) {
        InventoryMount *mount = mount_new_from_group(entries, inventory->covered_ids,
                                                     groups->pdata[g], g);
        mount_resolve_devices(options, mount);
        mount_probe_signature(options, mount);
        mount_stat_mountpoint(options, mount);
        g_ptr_array_add(inventory->mounts, mount);
    }
    for (guint i = 0; i < inventory->mounts->len; i++) {
        mount_resolve_loops(inventory, inventory->mounts->pdata[i]);
    }
    return inventory;
}

Inventory *inventory_probe(const InventoryOptions *options, GError **error)
{
    GPtrArray *entries = mountinfo_read(options->mountinfo_path, error);

    if (!entries) {
        return NULL;
    }
    return inventory_new_from_entries(options, entries);
}

gboolean inventory_mount_has_path(const InventoryMount *mount, const char *path)
{
    return strcmp(mount->mountpoint, path) == 0 ||
           g_ptr_array_find_with_equal_func(mount->aliases, path, g_str_equal, NULL);
}

const InventoryMount *inventory_find_mount(const Inventory *inventory, const char *path)
{
    for (guint i = 0; i < inventory->mounts->len; i++) {
        const InventoryMount *mount = inventory->mounts->pdata[i];
        if (inventory_mount_has_path(mount, path)) {
            return mount;
        }
    }
    return NULL;
}

const InventoryMount *inventory_find_holder(const Inventory *inventory, const char *path)
{
    const MountEntry *best = NULL;

    for (guint i = 0; i < inventory->entries->len; i++) {
        const MountEntry *entry = inventory->entries->pdata[i];
        if (mountinfo_path_contains(entry->mountpoint, path) &&
            !entry_is_covered(inventory->covered_ids, entry) &&
            (!best || strlen(entry->mountpoint) > strlen(best->mountpoint))) {
            best = entry;
        }
    }
    for (guint i = 0; best && i < inventory->mounts->len; i++) {
        const InventoryMount *mount = inventory->mounts->pdata[i];
        if (mount->sb_dev == best->dev) {
            return mount;
        }
    }
    return NULL;
}

GPtrArray *inventory_mount_get_disks(const InventoryMount *mount)
{
    GPtrArray *disks = g_ptr_array_new();
    device_stack_collect_disks(mount->stack, disks);
    return disks;
}
