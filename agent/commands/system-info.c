/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * system-info.c — what libvirt's `virsh guestinfo` asks about the system:
 * guest-get-osinfo, guest-get-host-name, guest-get-timezone and
 * guest-get-users, with qemu-ga 7.2's results (qga/qapi-schema.json,
 * qga/commands-posix.c, qga/commands.c); and guest-get-devices, which
 * qemu-ga registers on Linux but blocks from the start (docs/protocol.md).
 */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <utmpx.h>

#include "agent/commands/commands.h"

/* qemu-ga's QERR_UNSUPPORTED (include/qapi/qmp/qerror.h). */
#define SYSTEM_INFO_UNSUPPORTED "this feature or command is not currently supported"

/*
 * An os-release value as qemu-ga reads it (ga_osrelease_replace_special()),
 * in place. A value that does not start with a double quote is cut at its
 * first space, then at its first ';' — single quotes included, as qemu-ga
 * does. A double-quoted value loses its quotes and the backslashes before
 * $ ' " \ and `; as in qemu-ga, one without a closing quote is shifted left
 * by one and keeps its last byte twice, and what follows the closing quote
 * is dropped.
 */
static void system_info_osrelease_unquote(char *value)
{
    char *out = value;
    const char *in = value + 1;

    if (value[0] != '"') {
        char *cut = strchr(value, ' ');
        if (cut) {
            *cut = '\0';
        }
        cut = strchr(value, ';');
        if (cut) {
            *cut = '\0';
        }
        return;
    }
    while (*in) {
        if (*in == '\\' && in[1] && strchr("$'\"\\`", in[1])) {
            in++;
        } else if (*in == '"') {
            *out = '\0';
            return;
        }
        *out++ = *in++;
    }
}

/* os-release as a key file of one group, qemu-ga's way: the same GKeyFile
 * parser, so a line it rejects discards the whole file. (transfer full) */
static GKeyFile *system_info_osrelease_load(const char *path)
{
    g_autoptr(GKeyFile) keys = g_key_file_new();
    g_autofree char *content = NULL;
    g_autofree char *data = NULL;
    g_autoptr(GError) error = NULL;

    if (!g_file_get_contents(path, &content, NULL, &error)) {
        g_debug("failed to read '%s': %s", path, error->message);
        return NULL;
    }
    if (!g_utf8_validate(content, -1, NULL)) {
        g_debug("%s is not UTF-8", path);
        return NULL;
    }
    data = g_strconcat("[os-release]\n", content, NULL);
    if (!g_key_file_load_from_data(keys, data, -1, G_KEY_FILE_NONE, &error)) {
        g_debug("failed to parse '%s': %s", path, error->message);
        return NULL;
    }
    return g_steal_pointer(&keys);
}

static bool cmd_get_osinfo(void *context, const JsonValue *args, JsonValue **result,
                           ProtoError **error)
{
    static const char *const fields[][2] = {
        { "id", "ID" },
        { "name", "NAME" },
        { "pretty-name", "PRETTY_NAME" },
        { "version", "VERSION" },
        { "version-id", "VERSION_ID" },
        { "variant", "VARIANT" },
        { "variant-id", "VARIANT_ID" },
    };
    /* qemu-ga reads the file QGA_OS_RELEASE names instead, if set. */
    const char *override = g_getenv("QGA_OS_RELEASE");
    g_autoptr(GKeyFile) osrelease = NULL;
    JsonValue *info = json_object_new();
    struct utsname uts;

    if (uname(&uts) == 0) {
        json_object_set_string(info, "kernel-release", uts.release);
        json_object_set_string(info, "kernel-version", uts.version);
        json_object_set_string(info, "machine", uts.machine);
    }
    if (override) {
        osrelease = system_info_osrelease_load(override);
    } else {
        osrelease = system_info_osrelease_load("/etc/os-release");
        if (!osrelease) {
            osrelease = system_info_osrelease_load("/usr/lib/os-release");
        }
    }
    for (gsize i = 0; osrelease && i < G_N_ELEMENTS(fields); i++) {
        g_autofree char *value = g_key_file_get_value(osrelease, "os-release", fields[i][1], NULL);
        if (value) {
            system_info_osrelease_unquote(value);
            json_object_set_string(info, fields[i][0], value);
        }
    }
    *result = info;
    return true;
}

static bool cmd_get_host_name(void *context, const JsonValue *args, JsonValue **result,
                              ProtoError **error)
{
    long max = sysconf(_SC_HOST_NAME_MAX);
    g_autofree char *name = NULL;

    if (max < 0) {
        max = 255;
    }
    /* gethostname() need not terminate a truncated name: one byte more. */
    name = g_malloc0((gsize)max + 1);
    if (gethostname(name, (size_t)max) < 0) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "cannot get hostname: %s",
                        g_strerror(errno));
        return false;
    }
    *result = json_object_new();
    json_object_set_string(*result, "host-name", name);
    return true;
}

static bool cmd_get_timezone(void *context, const JsonValue *args, JsonValue **result,
                             ProtoError **error)
{
    g_autoptr(GTimeZone) zone = g_time_zone_new_local();
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    int interval = g_time_zone_find_interval(zone, G_TIME_TYPE_UNIVERSAL, now);
    const char *abbreviation = g_time_zone_get_abbreviation(zone, interval);
    JsonValue *info = json_object_new();

    if (abbreviation) {
        json_object_set_string(info, "zone", abbreviation);
    }
    json_object_set_int(info, "offset", g_time_zone_get_offset(zone, interval));
    *result = info;
    return true;
}

/* One entry per user name with its earliest login, in the order of first
 * appearance in utmp, as qemu-ga lists them. */
static bool cmd_get_users(void *context, const JsonValue *args, JsonValue **result,
                          ProtoError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    JsonValue *list = json_array_new();
    struct utmpx *entry;

    setutxent();
    while ((entry = getutxent())) {
        /* ut_user need not be terminated; qemu-ga reads past it then. */
        g_autofree char *user = g_strndup(entry->ut_user, sizeof(entry->ut_user));
        double login = (double)entry->ut_tv.tv_sec + (double)entry->ut_tv.tv_usec / 1000000.0;
        JsonValue *item;

        if (entry->ut_type != USER_PROCESS) {
            continue;
        }
        item = g_hash_table_lookup(seen, user);
        if (item) {
            double first = 0;
            json_value_get_double(json_object_get(item, "login-time"), &first);
            if (login < first) {
                json_object_set(item, "login-time", json_double_new(login));
            }
            continue;
        }
        item = json_object_new();
        json_object_set_string(item, "user", user);
        json_object_set(item, "login-time", json_double_new(login));
        json_array_append(list, item);
        g_hash_table_insert(seen, g_steal_pointer(&user), item);
    }
    endutxent();
    *result = list;
    return true;
}

/* Never runs: the row is blocked by default. Kept so that the command is
 * listed, as qemu-ga lists it, and answers like qemu-ga's if reached. */
static bool cmd_get_devices(void *context, const JsonValue *args, JsonValue **result,
                            ProtoError **error)
{
    proto_error_set_literal(error, PROTO_ERROR_CLASS_GENERIC_ERROR, SYSTEM_INFO_UNSUPPORTED);
    return false;
}

const CommandSpec commands_system_info[] = {
    { "guest-get-host-name", cmd_get_host_name, NULL, 0 },
    { "guest-get-users", cmd_get_users, NULL, 0 },
    { "guest-get-timezone", cmd_get_timezone, NULL, 0 },
    { "guest-get-osinfo", cmd_get_osinfo, NULL, 0 },
    { "guest-get-devices", cmd_get_devices, NULL, COMMAND_FLAG_BLOCKED_BY_DEFAULT },
};
const gsize commands_system_info_count = G_N_ELEMENTS(commands_system_info);
