/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vcpus.c — guest-get-vcpus and guest-set-vcpus with qemu-ga's results and
 * messages (qga/commands-posix.c): the "online" files under
 * /sys/devices/system/cpu, read and written through control-system.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "agent/commands/control-system.h"


#define CPU_DIR "/sys/devices/system/cpu"

/*
 * One vCPU's "online" file. qemu-ga's rules: no file means a CPU that is
 * always online and cannot be offlined; asking to offline it is an error,
 * asking to online it succeeds. A state already as asked is not written.
 * Messages name the directory with its trailing slash, as qemu-ga does.
 */
static bool vcpu_transfer(const ControlSystem *system, int64_t id, bool read, bool *online,
                          bool *can_offline, ProtoError **error)
{
    g_autofree char *shown = g_strdup_printf(CPU_DIR "/cpu%" G_GINT64_FORMAT "/", id);
    g_autofree char *dir = control_system_path(system, shown);
    g_autofree char *what = NULL;
    char status;
    ssize_t n;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd;

    if (dirfd < 0) {
        what = g_strdup_printf("open(\"%s\")", shown);
        control_system_set_errno_error(error, errno, what);
        return false;
    }
    fd = openat(dirfd, "online", (read ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    close(dirfd);
    if (fd < 0 && errno == ENOENT) {
        if (read) {
            *online = true;
            *can_offline = false;
        } else if (!*online) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "logical processor #%" G_GINT64_FORMAT " can't be offlined", id);
            return false;
        }
        return true;
    }
    if (fd < 0) {
        what = g_strdup_printf("open(\"%s/online\")", shown);
        control_system_set_errno_error(error, errno, what);
        return false;
    }
    n = pread(fd, &status, 1, 0);
    if (n <= 0) {
        what = g_strdup_printf("pread(\"%s/online\")", shown);
        if (n < 0) {
            control_system_set_errno_error(error, errno, what);
        } else {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "%s: unexpected EOF", what);
        }
        close(fd);
        return false;
    }
    if (read) {
        *online = status != '0';
        *can_offline = true;
    } else if (*online != (status != '0')) {
        status = *online ? '1' : '0';
        if (!control_system_may_act(system, "set vCPUs", error)) {
            close(fd);
            return false;
        }
        if (pwrite(fd, &status, 1, 0) < 0) {
            what = g_strdup_printf("pwrite(\"%s/online\")", shown);
            control_system_set_errno_error(error, errno, what);
            close(fd);
            return false;
        }
    }
    close(fd);
    return true;
}

/* qemu-ga takes every entry sscanf("cpu%ld") accepts: "cpu" then a number. */
static bool vcpu_parse_name(const char *name, int64_t *id)
{
    char *end = NULL;

    if (!g_str_has_prefix(name, "cpu")) {
        return false;
    }
    errno = 0;
    *id = g_ascii_strtoll(name + 3, &end, 10);
    return end != name + 3;
}

static bool cmd_get_vcpus(void *context, const JsonValue *args, JsonValue **result,
                          ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_vcpus);
    g_autofree char *path = control_system_path(system, CPU_DIR);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    json_autoptr *list = NULL;
    const char *name;

    if (!dir) {
        control_system_set_errno_error(error, errno, "failed to list entries: " CPU_DIR);
        return false;
    }
    list = json_array_new();
    while ((name = g_dir_read_name(dir))) {
        int64_t id;
        bool online = false, can_offline = false;
        if (!vcpu_parse_name(name, &id)) {
            continue;
        }
        if (!vcpu_transfer(system, id, true, &online, &can_offline, error)) {
            return false;
        }
        JsonValue *item = json_object_new();
        json_object_set_int(item, "logical-id", id);
        json_object_set_bool(item, "online", online);
        json_object_set_bool(item, "can-offline", can_offline);
        json_array_append(list, item);
    }
    *result = g_steal_pointer(&list);
    return true;
}

/* The count of vCPUs set before the first failure; the failure itself only
 * when it was the first one, as qemu-ga answers. */
static bool cmd_set_vcpus(void *context, const JsonValue *args, JsonValue **result,
                          ProtoError **error)
{
    const ControlSystem *system = control_system_get(context, commands_vcpus);
    const JsonValue *vcpus = json_object_get(args, "vcpus");
    g_autoptr(ProtoError) failure = NULL;
    int64_t processed = 0;

    for (size_t i = 0; i < json_array_length(vcpus); i++) {
        const JsonValue *vcpu = json_array_get(vcpus, i);
        int64_t id = 0;
        bool online = json_bool_get(json_object_get(vcpu, "online"));
        bool can_offline = false;
        json_value_get_int(json_object_get(vcpu, "logical-id"), &id);
        if (!vcpu_transfer(system, id, false, &online, &can_offline, &failure)) {
            break;
        }
        processed++;
    }
    if (failure && processed == 0) {
        *error = g_steal_pointer(&failure);
        return false;
    }
    *result = json_int_new(processed);
    return true;
}


static const CommandArg set_vcpus_args[] = {
    { "vcpus", COMMAND_ARG_OBJECT_LIST, false },
    { "vcpus[].logical-id", COMMAND_ARG_INT, false },
    { "vcpus[].online", COMMAND_ARG_BOOL, false },
    { "vcpus[].can-offline", COMMAND_ARG_BOOL, true },
    { NULL, 0, false },
};

const CommandSpec commands_vcpus[] = {
    { "guest-get-vcpus", cmd_get_vcpus, NULL, 0 },
    { "guest-set-vcpus", cmd_set_vcpus, set_vcpus_args, 0 },
};
const gsize commands_vcpus_count = G_N_ELEMENTS(commands_vcpus);
