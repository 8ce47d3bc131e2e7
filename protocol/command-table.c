/*
 * command-table.c — argument checking from a command's spec.
 *
 * QEMU's generated unmarshalers visit members in schema order (missing and
 * mistyped members are reported first, at the first offender) and only then
 * look for members nobody visited ("is unexpected"). We check in the same
 * order. For several unexpected members QEMU reports the first one its hash
 * table yields; we report the first in wire order, which is deterministic.
 */
#include "protocol/command-table.h"

#include <string.h>

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
        return "array";
    case COMMAND_ARG_OBJECT:
        return "object";
    case COMMAND_ARG_ANY:
        return "any";
    }
    return "?";
}

static bool value_has_type(const JsonValue *value, CommandArgType type)
{
    int64_t i;

    switch (type) {
    case COMMAND_ARG_INT:
        return json_value_get_int(value, &i);
    case COMMAND_ARG_BOOL:
        return json_value_type(value) == JSON_TYPE_BOOL;
    case COMMAND_ARG_NUMBER: {
        double d;
        return json_value_get_double(value, &d);
    }
    case COMMAND_ARG_STRING:
        return json_value_type(value) == JSON_TYPE_STRING;
    case COMMAND_ARG_STRING_LIST:
        return json_value_type(value) == JSON_TYPE_ARRAY;
    case COMMAND_ARG_OBJECT:
        return json_value_type(value) == JSON_TYPE_OBJECT;
    case COMMAND_ARG_ANY:
        return true;
    }
    return false;
}

static bool check_one(const CommandArg *arg, const JsonValue *value, ProtoError **error)
{
    if (!value_has_type(value, arg->type)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "Invalid parameter type for '%s', expected: %s", arg->name,
                        arg_type_name(arg->type));
        return false;
    }
    if (arg->type != COMMAND_ARG_STRING_LIST) {
        return true;
    }
    for (size_t i = 0; i < json_array_length(value); i++) {
        if (json_value_type(json_array_get(value, i)) != JSON_TYPE_STRING) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "Invalid parameter type for '%s[%zu]', expected: string",
                            arg->name, i);
            return false;
        }
    }
    return true;
}

static bool spec_names(const CommandSpec *spec, const char *key)
{
    for (const CommandArg *arg = spec->args; arg && arg->name; arg++) {
        if (strcmp(arg->name, key) == 0) {
            return true;
        }
    }
    return false;
}

bool command_args_check(const CommandSpec *spec, const JsonValue *args, ProtoError **error)
{
    for (const CommandArg *arg = spec->args; arg && arg->name; arg++) {
        const JsonValue *value = json_object_get(args, arg->name);
        if (!value) {
            if (arg->optional) {
                continue;
            }
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "Parameter '%s' is missing", arg->name);
            return false;
        }
        if (!check_one(arg, value, error)) {
            return false;
        }
    }
    for (size_t i = 0; i < json_object_size(args); i++) {
        const char *key = json_object_key_at(args, i);
        if (!spec_names(spec, key)) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "Parameter '%s' is unexpected", key);
            return false;
        }
    }
    return true;
}
