/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * basic.c — guest-sync, guest-sync-delimited, guest-ping and guest-info with
 * qemu-ga's arguments and results (qga/commands.c, qga/qapi-schema.json).
 */
#include "agent/commands/commands.h"

static bool cmd_sync(void *context, const JsonValue *args, JsonValue **result,
                     ProtoError **error)
{
    int64_t id = 0;

    json_value_get_int(json_object_get(args, "id"), &id);
    *result = json_int_new(id);
    return true;
}

static bool cmd_ping(void *context, const JsonValue *args, JsonValue **result,
                     ProtoError **error)
{
    g_debug("guest-ping called");
    return true;
}

static JsonValue *command_info(const Dispatcher *dispatcher, const CommandSpec *spec)
{
    JsonValue *item = json_object_new();

    json_object_set_bool(item, "enabled", dispatcher_is_enabled(dispatcher, spec));
    json_object_set_string(item, "name", spec->name);
    json_object_set_bool(item, "success-response",
                         !(spec->flags & COMMAND_FLAG_NO_SUCCESS_RESPONSE));
    return item;
}

static bool cmd_info(void *context, const JsonValue *args, JsonValue **result,
                     ProtoError **error)
{
    CommandContext *commands = context;
    JsonValue *info = json_object_new();
    JsonValue *list = json_array_new();
    gsize n = dispatcher_command_count(commands->dispatcher);

    /* qemu-ga lists commands in reverse registration order (QAPI_LIST_PREPEND). */
    for (gsize i = n; i-- > 0;) {
        json_array_append(list, command_info(commands->dispatcher,
                                             dispatcher_command_at(commands->dispatcher, i)));
    }
    json_object_set_string(info, "version", QUIESCE_VERSION);
    json_object_set(info, "supported_commands", list);
    *result = info;
    return true;
}

static const CommandArg sync_args[] = {
    { "id", COMMAND_ARG_INT, false },
    { NULL, 0, false },
};

const CommandSpec commands_basic[] = {
    { "guest-sync-delimited", cmd_sync, sync_args,
      COMMAND_FLAG_ALLOWED_WHILE_FROZEN | COMMAND_FLAG_SENTINEL_REPLY |
          COMMAND_FLAG_ANSWERED_WHILE_BUSY },
    { "guest-sync", cmd_sync, sync_args,
      COMMAND_FLAG_ALLOWED_WHILE_FROZEN | COMMAND_FLAG_ANSWERED_WHILE_BUSY },
    { "guest-ping", cmd_ping, NULL,
      COMMAND_FLAG_ALLOWED_WHILE_FROZEN | COMMAND_FLAG_ANSWERED_WHILE_BUSY },
    { "guest-info", cmd_info, NULL,
      COMMAND_FLAG_ALLOWED_WHILE_FROZEN | COMMAND_FLAG_ANSWERED_WHILE_BUSY },
};
const gsize commands_basic_count = G_N_ELEMENTS(commands_basic);
