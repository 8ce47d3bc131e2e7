/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fsfreeze.c — qemu-ga's freeze family with qemu-ga's names, arguments and
 * results: guest-fsfreeze-status, -freeze, -freeze-list, -thaw, and
 * guest-get-fsinfo (qga/qapi-schema.json, qga/commands-posix.c).
 *
 * Differences that make a backup safer, all on error paths: a
 * guest-fsfreeze-freeze-list path that is not a freezable filesystem is an
 * error instead of being silently ignored; a filesystem frozen by another
 * tool makes the freeze fail (with everything rolled back) instead of being
 * skipped, and thaw only thaws what this agent froze; a thaw after the
 * window expired is an error so the host discards its snapshot.
 */
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "agent/commands/commands.h"
#include "agent/commands/disk-address.h"
#include "fsfreeze/mountinfo.h"

static bool cmd_fsfreeze_status(void *context, const JsonValue *args, JsonValue **result,
                                ProtoError **error)
{
    CommandContext *commands = context;

    *result = json_string_new(engine_is_frozen(commands->engine) ? "frozen" : "thawed");
    return true;
}

/* "/srv/db/" and "/srv//db" name the mount "/srv/db", as they do for the
 * kernel; only the spelling is changed, no symlink is followed (nothing may
 * be stat()ed on the freeze path). (transfer full) */
static char *fsfreeze_path_normalize(const char *path)
{
    GString *out = g_string_new(NULL);

    for (const char *p = path; *p; p++) {
        if (*p == '/' && out->len && out->str[out->len - 1] == '/') {
            continue;
        }
        g_string_append_c(out, *p);
    }
    if (out->len > 1 && out->str[out->len - 1] == '/') {
        g_string_truncate(out, out->len - 1);
    }
    return g_string_free(out, FALSE);
}

static bool fsfreeze_run(CommandContext *commands, const JsonValue *list, JsonValue **result,
                         ProtoError **error)
{
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) gerror = NULL;
    guint count = 0;

    for (size_t i = 0; list && i < json_array_length(list); i++) {
        g_ptr_array_add(paths, fsfreeze_path_normalize(json_string_get(json_array_get(list, i))));
    }
    g_ptr_array_add(paths, NULL);
    g_info("guest-fsfreeze called");
    if (!engine_freeze(commands->engine, list ? (const char *const *)paths->pdata : NULL, &count,
                       &gerror)) {
        g_warning("freeze failed: %s", gerror->message);
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    g_info("froze %u filesystem(s)", count);
    *result = json_int_new(count);
    return true;
}

static bool cmd_fsfreeze_freeze(void *context, const JsonValue *args, JsonValue **result,
                                ProtoError **error)
{
    return fsfreeze_run(context, NULL, result, error);
}

static bool cmd_fsfreeze_freeze_list(void *context, const JsonValue *args, JsonValue **result,
                                     ProtoError **error)
{
    return fsfreeze_run(context, json_object_get(args, "mountpoints"), result, error);
}

static bool cmd_fsfreeze_thaw(void *context, const JsonValue *args, JsonValue **result,
                              ProtoError **error)
{
    CommandContext *commands = context;
    g_autoptr(GError) gerror = NULL;
    guint count = 0;

    if (!engine_thaw(commands->engine, &count, &gerror)) {
        g_warning("thaw: %s", gerror->message);
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    g_info("guest-fsthaw called: thawed %u filesystem(s)", count);
    *result = json_int_new(count);
    return true;
}

/* mountpoint: this mount of the superblock (qemu-ga lists every one). */
static JsonValue *fsinfo_mount(const InventoryMount *mount, const char *mountpoint)
{
    JsonValue *item = json_object_new();
    JsonValue *disks = json_array_new();
    g_autoptr(GPtrArray) infos = inventory_mount_get_disks(mount);
    struct statvfs st;

    json_object_set_string(item, "name", mount->device_name);
    json_object_set_string(item, "mountpoint", mountpoint);
    json_object_set_string(item, "type", mount->fstype);
    /* qemu-ga's arithmetic (commands-posix.c): used = blocks - free,
     * total = used + available to unprivileged users. */
    if (statvfs(mountpoint, &st) == 0) {
        guint64 used = (guint64)(st.f_blocks - st.f_bfree) * st.f_frsize;
        json_object_set_int(item, "used-bytes", (gint64)used);
        json_object_set_int(item, "total-bytes",
                            (gint64)(used + (guint64)st.f_bavail * st.f_frsize));
        json_object_set_int(item, "total-bytes-privileged",
                            (gint64)((guint64)st.f_blocks * st.f_frsize));
    }
    for (guint i = 0; infos && i < infos->len; i++) {
        json_array_append(disks, disk_address_json_new(g_ptr_array_index(infos, i)));
    }
    json_object_set(item, "disk", disks);
    return item;
}

/* The inventory's entry for the superblock an entry of mountinfo mounts. */
static const InventoryMount *fsinfo_superblock(const Inventory *inventory, dev_t dev)
{
    for (guint i = 0; i < inventory->mounts->len; i++) {
        const InventoryMount *mount = g_ptr_array_index(inventory->mounts, i);
        if (mount->sb_dev == dev) {
            return mount;
        }
    }
    return NULL;
}

/*
 * Every line of mountinfo on a block device (btrfs too, whose major is 0),
 * newest first, as qemu-ga lists them (commands-linux.c build_fs_mount_list,
 * prepended): a bind mount or a second mount of one filesystem is listed
 * again under its own mountpoint, with the same device and disks.
 */
static bool cmd_get_fsinfo(void *context, const JsonValue *args, JsonValue **result,
                           ProtoError **error)
{
    const CommandContext *commands = context;
    g_autoptr(InventoryOptions) options =
        engine_config_inventory_options(engine_get_config(commands->engine));
    g_autoptr(GError) gerror = NULL;
    g_autoptr(Inventory) inventory = engine_get_inventory(commands->engine, &gerror);
    g_autoptr(GPtrArray) entries = NULL;
    JsonValue *list;

    if (inventory) {
        entries = mountinfo_read(options->mountinfo_path, &gerror);
    }
    if (!entries) {
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    list = json_array_new();
    for (guint i = entries->len; i-- > 0;) {
        const MountEntry *entry = g_ptr_array_index(entries, i);
        const InventoryMount *mount;

        if (major(entry->dev) == 0 && !g_str_equal(entry->fstype, "btrfs")) {
            continue;
        }
        mount = fsinfo_superblock(inventory, entry->dev);
        if (mount && mount->device_name && mount->stack) {
            json_array_append(list, fsinfo_mount(mount, entry->mountpoint));
        }
    }
    *result = list;
    return true;
}

static const CommandArg freeze_list_args[] = {
    { "mountpoints", COMMAND_ARG_STRING_LIST, true },
    { NULL, 0, false },
};

const CommandSpec commands_fsfreeze[] = {
    { "guest-fsfreeze-status", cmd_fsfreeze_status, NULL,
      COMMAND_FLAG_ALLOWED_WHILE_FROZEN | COMMAND_FLAG_ANSWERED_WHILE_BUSY },
    { "guest-fsfreeze-freeze", cmd_fsfreeze_freeze, NULL, 0 },
    { "guest-fsfreeze-freeze-list", cmd_fsfreeze_freeze_list, freeze_list_args, 0 },
    { "guest-fsfreeze-thaw", cmd_fsfreeze_thaw, NULL, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-get-fsinfo", cmd_get_fsinfo, NULL, 0 },
};
const gsize commands_fsfreeze_count = G_N_ELEMENTS(commands_fsfreeze);
