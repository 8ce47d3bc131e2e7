/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memory-blocks.c — guest-get-memory-blocks, guest-set-memory-blocks and
 * guest-get-memory-block-info with qemu-ga's results and messages
 * (qga/commands-posix.c): the "state" and "removable" files of each block
 * under /sys/devices/system/memory, through control-system.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "agent/commands/control-system.h"


#define MEMORY_DIR "/sys/devices/system/memory/"

/* One sysfs attribute of a memory block, as qemu-ga reads it (up to size
 * bytes, NUL-terminated here). Returns 0 or the errno (-1 for EOF). */
static int memory_read_attr(int dirfd, const char *name, char *buf, size_t size,
                            ProtoError **error)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    g_autofree char *what = NULL;
    ssize_t n;
    int err;

    memset(buf, 0, size + 1);
    if (fd < 0) {
        err = errno;
        what = g_strdup_printf("open sysfs file \"%s\"", name);
        control_system_set_errno_error(error, err, what);
        return err;
    }
    n = pread(fd, buf, size, 0);
    err = n < 0 ? errno : 0;
    close(fd);
    if (n < 0) {
        what = g_strdup_printf("pread sysfs file \"%s\"", name);
        control_system_set_errno_error(error, err, what);
        return err;
    }
    if (n == 0) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "pread sysfs file \"%s\": unexpected EOF", name);
        return -1;
    }
    return 0;
}

static int memory_open_block(const ControlSystem *system, uint64_t index, char **shown)
{
    g_autofree char *path = NULL;

    /* qemu-ga prints the index as signed. */
    *shown = g_strdup_printf(MEMORY_DIR "memory%" G_GINT64_FORMAT "/", (gint64)index);
    path = control_system_path(system, *shown);
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static bool memory_block_get(const ControlSystem *system, uint64_t index, JsonValue **item,
                             ProtoError **error)
{
    g_autofree char *shown = NULL;
    g_autoptr(ProtoError) missing = NULL;
    char state[11], removable[2];
    bool online = true, can_offline = false;
    int dirfd = memory_open_block(system, index, &shown);
    int err;

    if (dirfd < 0) {
        g_autofree char *what = g_strdup_printf("open(\"%s\")", shown);
        control_system_set_errno_error(error, errno, what);
        return false;
    }
    err = memory_read_attr(dirfd, "state", state, 10, &missing);
    if (err == 0) {
        online = strncmp(state, "online", 6) == 0;
        g_clear_pointer(&missing, proto_error_free);
        err = memory_read_attr(dirfd, "removable", removable, 1, &missing);
        can_offline = err == 0 && removable[0] != '0';
    }
    close(dirfd);
    /* An old kernel without the file: online, cannot be offlined. */
    if (err != 0 && err != ENOENT) {
        *error = g_steal_pointer(&missing);
        return false;
    }
    *item = json_object_new();
    json_object_set(*item, "phys-index", json_uint_new(index));
    json_object_set_bool(*item, "online", online);
    json_object_set_bool(*item, "can-offline", can_offline);
    return true;
}

static bool cmd_get_memory_blocks(void *context, const JsonValue *args, JsonValue **result,
                                  ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_memory_blocks);
    g_autofree char *path = control_system_path(system, MEMORY_DIR);
    json_autoptr *list = json_array_new();
    struct dirent *entry;
    DIR *dir = opendir(path);

    if (!dir) {
        /* No memory directory: no hotplug, an empty list (qemu-ga). */
        if (errno == ENOENT) {
            *result = g_steal_pointer(&list);
            return true;
        }
        control_system_set_errno_error(error, errno, "Can't open directory\"" MEMORY_DIR "\"");
        return false;
    }
    while ((entry = readdir(dir))) {
        JsonValue *item = NULL;
        if (strncmp(entry->d_name, "memory", 6) != 0 || !(entry->d_type & DT_DIR)) {
            continue;
        }
        if (!memory_block_get(system, strtoul(entry->d_name + 6, NULL, 10), &item, error)) {
            closedir(dir);
            return false;
        }
        json_array_append(list, item);
    }
    closedir(dir);
    if (json_array_length(list) == 0) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "guest reported zero memory blocks!");
        return false;
    }
    *result = g_steal_pointer(&list);
    return true;
}

/* qemu-ga's GuestMemoryBlockResponseType. */
static const char *const memory_responses[] = { "success", "not-found",
                                                "operation-not-supported",
                                                "operation-failed" };

/*
 * One block to the state asked; returns the index of its response and sets
 * *err to the errno qemu-ga reports beside it. As in qemu-ga, an unreadable
 * memory directory or a missing state file for a block to be onlined still
 * answer "success" (with the errno).
 */
static unsigned memory_block_apply(const ControlSystem *system, uint64_t index, bool online,
                                   int *err)
{
    g_autofree char *memory_dir = control_system_path(system, MEMORY_DIR);
    g_autofree char *shown = NULL;
    g_autoptr(ProtoError) ignored = NULL;
    unsigned response = 0;
    char state[11];
    int dirfd;
    DIR *dir = opendir(memory_dir);

    if (!dir) {
        *err = errno;
        return *err == ENOENT ? 2 : 0;
    }
    closedir(dir);
    dirfd = memory_open_block(system, index, &shown);
    if (dirfd < 0) {
        *err = errno;
        return *err == ENOENT ? 1 : 3;
    }
    *err = memory_read_attr(dirfd, "state", state, 10, &ignored);
    if (*err == ENOENT) {
        response = online ? 0 : 2;
    } else if (*err != 0) {
        *err = *err < 0 ? 0 : *err; /* EOF: qemu-ga's errno is still 0 */
        response = 3;
    } else if (online != (strncmp(state, "online", 6) == 0)) {
        const char *new_state = online ? "online" : "offline";
        g_autoptr(ProtoError) refused = NULL;
        /* A confined test agent changes nothing: EPERM, as sysfs would say. */
        int fd = control_system_may_act(system, "set memory blocks", &refused)
                     ? openat(dirfd, "state", O_WRONLY | O_CLOEXEC)
                     : (errno = EPERM, -1);
        if (fd < 0 || pwrite(fd, new_state, strlen(new_state), 0) < 0) {
            *err = errno;
            response = 3;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    close(dirfd);
    return response;
}

static JsonValue *memory_block_set(const ControlSystem *system, uint64_t index, bool online)
{
    JsonValue *item = json_object_new();
    int err = 0;
    unsigned response = memory_block_apply(system, index, online, &err);

    json_object_set(item, "phys-index", json_uint_new(index));
    json_object_set_string(item, "response", memory_responses[response]);
    if (err != 0 || response != 0) {
        json_object_set_int(item, "error-code", err);
    }
    return item;
}

static bool cmd_set_memory_blocks(void *context, const JsonValue *args, JsonValue **result,
                                  ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_memory_blocks);
    const JsonValue *blocks = json_object_get(args, "mem-blks");
    JsonValue *list;

    list = json_array_new();
    for (size_t i = 0; i < json_array_length(blocks); i++) {
        const JsonValue *block = json_array_get(blocks, i);
        const JsonValue *index = json_object_get(block, "phys-index");
        uint64_t value = 0;
        int64_t signed_value = 0;
        if (!json_value_get_uint(index, &value) && json_value_get_int(index, &signed_value)) {
            value = (uint64_t)signed_value;
        }
        json_array_append(list, memory_block_set(system, value,
                                                 json_bool_get(json_object_get(block, "online"))));
    }
    *result = list;
    return true;
}

static bool cmd_get_memory_block_info(void *context, const JsonValue *args,
                                      JsonValue **result, ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_memory_blocks);
    g_autofree char *path = control_system_path(system, MEMORY_DIR);
    char size[21];
    int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err;

    if (dirfd < 0) {
        control_system_set_errno_error(error, errno, "open(\"" MEMORY_DIR "\")");
        return false;
    }
    err = memory_read_attr(dirfd, "block_size_bytes", size, 20, error);
    close(dirfd);
    if (err != 0) {
        return false;
    }
    *result = json_object_new();
    /* qemu-ga parses it with strtol() into a uint64. */
    json_object_set(*result, "size", json_uint_new((uint64_t)strtol(size, NULL, 16)));
    return true;
}

static const CommandArg set_memory_blocks_args[] = {
    { "mem-blks", COMMAND_ARG_OBJECT_LIST, false },
    { "mem-blks[].phys-index", COMMAND_ARG_UINT64, false },
    { "mem-blks[].online", COMMAND_ARG_BOOL, false },
    { "mem-blks[].can-offline", COMMAND_ARG_BOOL, true },
    { NULL, 0, false },
};

const CommandSpec commands_memory_blocks[] = {
    { "guest-get-memory-blocks", cmd_get_memory_blocks, NULL, 0 },
    { "guest-set-memory-blocks", cmd_set_memory_blocks, set_memory_blocks_args, 0 },
    { "guest-get-memory-block-info", cmd_get_memory_block_info, NULL, 0 },
};
const gsize commands_memory_blocks_count = G_N_ELEMENTS(commands_memory_blocks);
