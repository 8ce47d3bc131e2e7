/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fstrim.c — guest-fstrim with qemu-ga's argument, result and messages
 * (qga/commands-posix.c, the mount list of qga/commands-linux.c): FITRIM on
 * every mount of /proc/self/mountinfo whose device has a major number (or
 * a btrfs whose source is a block device), bind mounts included, answered
 * newest mount first, each with what was trimmed or why not.
 *
 * Like every command but the freeze family's status and thaw, it is
 * refused while the engine holds filesystems frozen (the dispatcher's gate,
 * qemu-ga's frozen state); a mount the engine still lists as frozen is
 * skipped all the same, since FITRIM could block on it. A confined agent
 * lists and trims only mounts inside its confinement, with the freezer's
 * confinement guard on the opened directory (fsfreeze/freezer.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent/commands/control-system.h"
#include "fsfreeze/mountinfo.h"


/* qemu-ga's choice of mounts: a real device number, or btrfs (whose
 * superblock has an anonymous one) on a block device; a source that is a
 * directory is a bind mount and skipped. */
static gboolean fstrim_wanted(const MountEntry *entry)
{
    struct stat st;

    if (major(entry->dev) != 0) {
        return TRUE;
    }
    return g_str_equal(entry->fstype, "btrfs") && stat(entry->source, &st) == 0 &&
           S_ISBLK(st.st_mode);
}

static JsonValue *fstrim_one(const ControlSystem *system, const char *mountpoint,
                             int64_t minimum)
{
    JsonValue *item = json_object_new();
    struct fstrim_range range = { .start = 0, .len = G_MAXUINT64, .minlen = (guint64)minimum };
    int fd;

    json_object_set_string(item, "path", mountpoint);
    fd = open(mountpoint, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        json_object_set(item, "error", json_string_new_printf("failed to open: %s",
                                                              g_strerror(errno)));
        return item;
    }
    if (system->confine) {
        g_autoptr(GError) refused = NULL;
        if (!fs_freezer_check_confined(system->confine, mountpoint, fd, &refused)) {
            json_object_set_string(item, "error", refused->message);
            close(fd);
            return item;
        }
    }
    if (ioctl(fd, FITRIM, &range) < 0) {
        int err = errno;
        if (err == ENOTTY || err == EOPNOTSUPP) {
            json_object_set_string(item, "error", "trim not supported");
        } else {
            json_object_set(item, "error",
                            json_string_new_printf("failed to trim: %s", g_strerror(err)));
        }
        close(fd);
        return item;
    }
    close(fd);
    json_object_set_int(item, "minimum", (int64_t)range.minlen);
    json_object_set_int(item, "trimmed", (int64_t)range.len);
    return item;
}

static bool cmd_fstrim(void *context, const JsonValue *args, JsonValue **result,
                       ProtoError **error)
{
    const CommandContext *commands = context;
    const ControlSystem *system = control_system_get(context, commands_fstrim);
    g_autoptr(GError) gerror = NULL;
    g_autoptr(GPtrArray) mounts = mountinfo_read("/proc/self/mountinfo", &gerror);
    g_auto(GStrv) frozen = engine_dup_frozen(commands->engine);
    int64_t minimum = 0;
    JsonValue *paths;

    g_info("guest-fstrim called");
    if (!mounts) {
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    json_value_get_int(json_object_get(args, "minimum"), &minimum);
    paths = json_array_new();
    for (guint i = mounts->len; i-- > 0;) {
        const MountEntry *entry = g_ptr_array_index(mounts, i);
        if (!fstrim_wanted(entry) ||
            (system->confine && !mountinfo_path_contains(system->confine, entry->mountpoint))) {
            continue;
        }
        if (g_strv_contains((const char *const *)frozen, entry->mountpoint)) {
            JsonValue *item = json_object_new();
            json_object_set_string(item, "path", entry->mountpoint);
            json_object_set_string(item, "error", "frozen: not trimmed");
            json_array_append(paths, item);
            continue;
        }
        json_array_append(paths, fstrim_one(system, entry->mountpoint, minimum));
    }
    *result = json_object_new();
    json_object_set(*result, "paths", paths);
    return true;
}

static const CommandArg fstrim_args[] = {
    { "minimum", COMMAND_ARG_INT, true },
    { NULL, 0, false },
};

const CommandSpec commands_fstrim[] = {
    { "guest-fstrim", cmd_fstrim, fstrim_args, 0 },
};
const gsize commands_fstrim_count = G_N_ELEMENTS(commands_fstrim);
