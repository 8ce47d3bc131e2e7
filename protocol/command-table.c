/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * command-table.c — argument checking from a command's spec.
 *
 * QEMU's generated unmarshalers visit members in schema order (missing and
 * mistyped members are reported first, at the first offender) and only then
 * look for members nobody visited ("is unexpected"). We check in the same
 * order. For several unexpected members QEMU reports the first one its hash
 * table yields; we report the first in wire order, which is deterministic.
 * Lists of structs are checked element by element, each element like a
 * command's arguments.
 */
#include "protocol/command-table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto-buffer.h"

static const char *arg_type_name(CommandArgType type)
{
    switch (type) {
    case COMMAND_ARG_INT:
        return "integer";
    case COMMAND_ARG_BOOL:
        return "boolean";
    case COMMAND_ARG_NUMBER:
        return "number";
    case COMMAND_ARG_STRING:
        return "string";
    case COMMAND_ARG_STRING_LIST:
    case COMMAND_ARG_OBJECT_LIST:
        return "array";
    case COMMAND_ARG_OBJECT:
        return "object";
    case COMMAND_ARG_UINT64:
        return "uint64";
    case COMMAND_ARG_ANY:
        return "any";
    }
    return "?";
}

static bool value_has_type(const JsonValue *value, CommandArgType type)
{
    int64_t i;
    uint64_t u;

    switch (type) {
    case COMMAND_ARG_INT:
        return json_value_get_int(value, &i);
    case COMMAND_ARG_UINT64:
        /* qapi/qobject-input-visitor.c accepts a negative int64 too. */
        return json_value_get_uint(value, &u) || json_value_get_int(value, &i);
    case COMMAND_ARG_BOOL:
        return json_value_type(value) == JSON_TYPE_BOOL;
    case COMMAND_ARG_NUMBER: {
        double d;
        return json_value_get_double(value, &d);
    }
    case COMMAND_ARG_STRING:
        return json_value_type(value) == JSON_TYPE_STRING;
    case COMMAND_ARG_STRING_LIST:
    case COMMAND_ARG_OBJECT_LIST:
        return json_value_type(value) == JSON_TYPE_ARRAY;
    case COMMAND_ARG_OBJECT:
        return json_value_type(value) == JSON_TYPE_OBJECT;
    case COMMAND_ARG_ANY:
        return true;
    }
    return false;
}

/*
 * One level of a struct: the rows whose names are `prefix` followed by a
 * member name ("" at the top, "vcpus[]." for the elements of vcpus); `path`
 * is what QAPI prints before a member's name ("" or "vcpus[0].").
 */
typedef struct {
    const CommandArg *args;
    const char *prefix;
    const char *path;
} ArgLevel;

/* The member name of row `arg` at `level`, or NULL when it is not one. */
static const char *level_member(const ArgLevel *level, const CommandArg *arg)
{
    size_t len = strlen(level->prefix);

    if (strncmp(arg->name, level->prefix, len) != 0 || strstr(arg->name + len, "[].")) {
        return NULL;
    }
    return arg->name + len;
}

static bool check_level(const ArgLevel *level, const JsonValue *object, ProtoError **error);

static char *level_printf(const char *fmt, ...) PROTO_FORMAT_PRINTF(1, 2);

static char *level_printf(const char *fmt, ...)
{
    va_list ap;
    char *out;

    va_start(ap, fmt);
    out = proto_strdup_vprintf(fmt, ap);
    va_end(ap);
    return out;
}

static bool check_one(const ArgLevel *level, const CommandArg *arg, const char *member,
                      const JsonValue *value, ProtoError **error)
{
    const char *kind = arg->type == COMMAND_ARG_OBJECT_LIST ? "object" : "string";

    if (!value_has_type(value, arg->type)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        arg->type == COMMAND_ARG_UINT64
                            ? "Parameter '%s%s' expects %s"
                            : "Invalid parameter type for '%s%s', expected: %s",
                        level->path, member, arg_type_name(arg->type));
        return false;
    }
    if (arg->type != COMMAND_ARG_STRING_LIST && arg->type != COMMAND_ARG_OBJECT_LIST) {
        return true;
    }
    for (size_t i = 0; i < json_array_length(value); i++) {
        const JsonValue *item = json_array_get(value, i);
        JsonType want = arg->type == COMMAND_ARG_OBJECT_LIST ? JSON_TYPE_OBJECT : JSON_TYPE_STRING;
        if (json_value_type(item) != want) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "Invalid parameter type for '%s%s[%zu]', expected: %s", level->path,
                            member, i, kind);
            return false;
        }
        if (arg->type == COMMAND_ARG_OBJECT_LIST) {
            char *prefix = level_printf("%s[].", arg->name);
            char *path = level_printf("%s%s[%zu].", level->path, member, i);
            ArgLevel inner = { level->args, prefix, path };
            bool ok = check_level(&inner, item, error);
            free(prefix);
            free(path);
            if (!ok) {
                return false;
            }
        }
    }
    return true;
}

static bool level_names(const ArgLevel *level, const char *key)
{
    for (const CommandArg *arg = level->args; arg && arg->name; arg++) {
        const char *member = level_member(level, arg);
        if (member && strcmp(member, key) == 0) {
            return true;
        }
    }
    return false;
}

static bool check_level(const ArgLevel *level, const JsonValue *object, ProtoError **error)
{
    for (const CommandArg *arg = level->args; arg && arg->name; arg++) {
        const char *member = level_member(level, arg);
        const JsonValue *value = member ? json_object_get(object, member) : NULL;
        if (!member || (!value && arg->optional)) {
            continue;
        }
        if (!value) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "Parameter '%s%s' is missing", level->path, member);
            return false;
        }
        if (!check_one(level, arg, member, value, error)) {
            return false;
        }
    }
    for (size_t i = 0; i < json_object_size(object); i++) {
        const char *key = json_object_key_at(object, i);
        if (!level_names(level, key)) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "Parameter '%s%s' is unexpected", level->path, key);
            return false;
        }
    }
    return true;
}

bool command_args_check(const CommandSpec *spec, const JsonValue *args, ProtoError **error)
{
    ArgLevel top = { spec->args, "", "" };

    return check_level(&top, args, error);
}
