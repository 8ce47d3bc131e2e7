/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * commands-basic.c — guest-sync, guest-sync-delimited, guest-ping,
 * guest-info, the fsfreeze family and guest-get-fsinfo, with qemu-ga's
 * Windows semantics (qga/commands-win32.c): freezing is VSS's, and
 * guest-fsfreeze-freeze-list takes volume names or mount paths.
 */
#include <stdlib.h>

#include "windows/commands.h"

static bool cmd_sync(void *context, const JsonValue *args, JsonValue **result, ProtoError **error)
{
    int64_t id = 0;

    json_value_get_int(json_object_get(args, "id"), &id);
    *result = json_int_new(id);
    return true;
}

static bool cmd_ping(void *context, const JsonValue *args, JsonValue **result, ProtoError **error)
{
    return true;
}

static bool cmd_info(void *context, const JsonValue *args, JsonValue **result, ProtoError **error)
{
    WinCommandContext *commands = context;
    JsonValue *info = json_object_new();
    JsonValue *list = json_array_new();
    size_t n = dispatcher_command_count(commands->dispatcher);

    /* qemu-ga lists commands in reverse registration order (QAPI_LIST_PREPEND). */
    for (size_t i = n; i-- > 0;) {
        const CommandSpec *spec = dispatcher_command_at(commands->dispatcher, i);
        JsonValue *item = json_object_new();
        json_object_set_bool(item, "enabled", dispatcher_is_enabled(commands->dispatcher, spec));
        json_object_set_string(item, "name", spec->name);
        json_object_set_bool(item, "success-response",
                             !(spec->flags & COMMAND_FLAG_NO_SUCCESS_RESPONSE));
        json_array_append(list, item);
    }
    json_object_set_string(info, "version", QUIESCE_WIN_VERSION);
    json_object_set(info, "supported_commands", list);
    *result = info;
    return true;
}

static bool cmd_freeze_status(void *context, const JsonValue *args, JsonValue **result,
                              ProtoError **error)
{
    WinCommandContext *commands = context;

    win_engine_tick(commands->engine);
    *result = json_string_new(win_engine_is_frozen(commands->engine) ? "frozen" : "thawed");
    return true;
}

static bool freeze(WinCommandContext *commands, const JsonValue *list, JsonValue **result,
                   ProtoError **error)
{
    size_t n = list ? json_array_length(list) : 0;
    const char **names = calloc(n + 1, sizeof(*names));
    unsigned count = 0;
    bool ok;

    for (size_t i = 0; i < n; i++) {
        names[i] = json_string_get(json_array_get(list, i));
    }
    ok = win_engine_freeze(commands->engine, list ? names : NULL, n, &count, error);
    free(names);
    if (!ok) {
        win_log(commands->log, WIN_LOG_WARNING, "freeze: %s", (*error)->desc);
        return false;
    }
    *result = json_int_new(count);
    return true;
}

static bool cmd_freeze(void *context, const JsonValue *args, JsonValue **result, ProtoError **error)
{
    return freeze(context, NULL, result, error);
}

static bool cmd_freeze_list(void *context, const JsonValue *args, JsonValue **result,
                            ProtoError **error)
{
    return freeze(context, json_object_get(args, "mountpoints"), result, error);
}

static bool cmd_thaw(void *context, const JsonValue *args, JsonValue **result, ProtoError **error)
{
    WinCommandContext *commands = context;
    unsigned count = 0;

    if (!win_engine_thaw(commands->engine, &count, error)) {
        return false;
    }
    *result = json_int_new(count);
    return true;
}

/* qemu-ga's GuestDiskAddress (qga/qapi-schema.json): pci-controller,
 * bus-type, bus, target, unit always; serial and dev when known. */
static JsonValue *disk_address(const WinDisk *d)
{
    JsonValue *item = json_object_new();
    JsonValue *pci = json_object_new();

    json_object_set_int(pci, "domain", d->pci_domain);
    json_object_set_int(pci, "bus", d->pci_bus);
    json_object_set_int(pci, "slot", d->pci_slot);
    json_object_set_int(pci, "function", d->pci_function);
    json_object_set(item, "pci-controller", pci);
    json_object_set_string(item, "bus-type", d->bus_type);
    json_object_set_int(item, "bus", d->bus);
    json_object_set_int(item, "target", d->target);
    json_object_set_int(item, "unit", d->unit);
    if (d->serial[0]) {
        json_object_set_string(item, "serial", d->serial);
    }
    if (d->dev[0]) {
        json_object_set_string(item, "dev", d->dev);
    }
    return item;
}

/* qemu-ga's GuestFilesystemInfo for each volume with a path. */
static bool cmd_fsinfo(void *context, const JsonValue *args, JsonValue **result, ProtoError **error)
{
    WinCommandContext *commands = context;
    WinEligibility *report = calloc(1, sizeof(*report));
    JsonValue *list;

    if (!win_engine_check(commands->engine, report, error)) {
        free(report);
        return false;
    }
    list = json_array_new();
    for (size_t i = 0; i < report->system.n_volumes; i++) {
        const WinVolume *v = &report->system.volumes[i];
        JsonValue *item = json_object_new();
        json_object_set_string(item, "name", v->name);
        json_object_set_string(item, "mountpoint", v->n_paths ? v->paths[0] : "");
        json_object_set_string(item, "type", v->fstype);
        if (v->total_bytes) {
            json_object_set(item, "total-bytes", json_uint_new(v->total_bytes));
            json_object_set(item, "used-bytes", json_uint_new(v->used_bytes));
        }
        JsonValue *disks = json_array_new();
        for (size_t d = 0; d < v->n_disks; d++) {
            json_array_append(disks, disk_address(&v->disks[d]));
        }
        json_object_set(item, "disk", disks);
        json_array_append(list, item);
    }
    free(report);
    *result = list;
    return true;
}

static const CommandArg sync_args[] = {
    { "id", COMMAND_ARG_INT, false },
    { NULL, 0, false },
};

static const CommandArg freeze_list_args[] = {
    { "mountpoints", COMMAND_ARG_STRING_LIST, true },
    { NULL, 0, false },
};

const CommandSpec win_commands_basic[] = {
    { "guest-sync-delimited", cmd_sync, sync_args,
      COMMAND_FLAG_ALLOWED_WHILE_FROZEN | COMMAND_FLAG_SENTINEL_REPLY },
    { "guest-sync", cmd_sync, sync_args, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-ping", cmd_ping, NULL, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-info", cmd_info, NULL, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-fsfreeze-status", cmd_freeze_status, NULL, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-fsfreeze-freeze", cmd_freeze, NULL, 0 },
    { "guest-fsfreeze-freeze-list", cmd_freeze_list, freeze_list_args, 0 },
    { "guest-fsfreeze-thaw", cmd_thaw, NULL, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-get-fsinfo", cmd_fsinfo, NULL, 0 },
};
const size_t win_commands_basic_count = sizeof(win_commands_basic) / sizeof(win_commands_basic[0]);
