/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dispatcher.c — request validation, gating and reply building; see the header.
 *
 * Messages and their precedence follow Debian 12's qemu-ga 7.2, the reference
 * the protocol suite runs against: request members are checked in QDict
 * order (so the first offending member is the one qemu-ga names), then the
 * command is looked up, then the enabled state, then the arguments.
 * A blocked command reads "Command X has been disabled"; a command disabled
 * because filesystems are frozen reads "... has been disabled: the agent is
 * in frozen state" (qga/main.c ga_disable_non_allowlisted() in 7.2).
 */
#include "protocol/dispatcher.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto-alloc.h"
#include "protocol/qdict-order.h"

typedef struct {
    const CommandSpec *spec;
    bool allowed; /* by the allow-list (true when there is none) */
    bool blocked; /* by the block-list, or blocked by default */
} DispatchRow;

struct Dispatcher {
    void *context;
    DispatcherFrozenQuery is_frozen;
    DispatchRow *rows;
    size_t n_rows;
};

Dispatcher *dispatcher_new(void *context, DispatcherFrozenQuery is_frozen)
{
    Dispatcher *dispatcher = proto_xcalloc(1, sizeof(*dispatcher));
    dispatcher->context = context;
    dispatcher->is_frozen = is_frozen;
    return dispatcher;
}

void dispatcher_free(Dispatcher *dispatcher)
{
    if (!dispatcher) {
        return;
    }
    free(dispatcher->rows);
    free(dispatcher);
}

static DispatchRow *find_row(const Dispatcher *dispatcher, const char *name)
{
    for (size_t i = 0; i < dispatcher->n_rows; i++) {
        if (strcmp(dispatcher->rows[i].spec->name, name) == 0) {
            return &dispatcher->rows[i];
        }
    }
    return NULL;
}

void dispatcher_add_commands(Dispatcher *dispatcher, const CommandSpec *specs, size_t n)
{
    DispatchRow *rows =
        proto_xreallocarray(dispatcher->rows, dispatcher->n_rows + n, sizeof(*rows));
    dispatcher->rows = rows;
    for (size_t i = 0; i < n; i++) {
        assert(specs[i].name && specs[i].handler);
        assert(!find_row(dispatcher, specs[i].name));
        rows[dispatcher->n_rows++] = (DispatchRow){
            .spec = &specs[i],
            .allowed = true,
            .blocked = (specs[i].flags & COMMAND_FLAG_BLOCKED_BY_DEFAULT) != 0,
        };
    }
}

/* Appends name to a malloc'ed comma-separated list. */
static void list_append(char **list, const char *name)
{
    size_t old = *list ? strlen(*list) : 0;
    char *grown = proto_xrealloc(*list, old + strlen(name) + 2);
    if (old) {
        grown[old++] = ',';
    }
    strcpy(grown + old, name);
    *list = grown;
}

static void mark_rows(Dispatcher *dispatcher, const char *const *names, bool allow,
                      char **unknown)
{
    *unknown = NULL;
    if (allow) {
        for (size_t i = 0; i < dispatcher->n_rows; i++) {
            dispatcher->rows[i].allowed = false;
        }
    }
    for (size_t i = 0; names && names[i]; i++) {
        DispatchRow *row = find_row(dispatcher, names[i]);
        if (!row) {
            list_append(unknown, names[i]);
        } else if (allow) {
            row->allowed = true;
        } else {
            row->blocked = true;
        }
    }
}

void dispatcher_set_allowed(Dispatcher *dispatcher, const char *const *names, char **unknown)
{
    mark_rows(dispatcher, names, true, unknown);
}

void dispatcher_set_blocked(Dispatcher *dispatcher, const char *const *names, char **unknown)
{
    mark_rows(dispatcher, names, false, unknown);
}

const CommandSpec *dispatcher_lookup(const Dispatcher *dispatcher, const char *name)
{
    DispatchRow *row = find_row(dispatcher, name);
    return row ? row->spec : NULL;
}

size_t dispatcher_command_count(const Dispatcher *dispatcher)
{
    return dispatcher->n_rows;
}

const CommandSpec *dispatcher_command_at(const Dispatcher *dispatcher, size_t index)
{
    assert(index < dispatcher->n_rows);
    return dispatcher->rows[index].spec;
}

static bool frozen_gates(const Dispatcher *dispatcher, const CommandSpec *spec)
{
    return !(spec->flags & COMMAND_FLAG_ALLOWED_WHILE_FROZEN) && dispatcher->is_frozen &&
           dispatcher->is_frozen(dispatcher->context);
}

bool dispatcher_is_enabled(const Dispatcher *dispatcher, const CommandSpec *spec)
{
    const DispatchRow *row = find_row(dispatcher, spec->name);
    assert(row);
    return row->allowed && !row->blocked && !frozen_gates(dispatcher, spec);
}

bool dispatcher_answers_while_busy(const Dispatcher *dispatcher, const JsonValue *request)
{
    const char *name;
    const DispatchRow *row;

    if (!request) {
        return true;
    }
    name = json_value_type(request) == JSON_TYPE_OBJECT ? json_object_get_string(request, "execute")
                                                    : NULL;
    row = name ? find_row(dispatcher, name) : NULL;
    return row && (row->spec->flags & COMMAND_FLAG_ANSWERED_WHILE_BUSY);
}

/* qmp_dispatch_check_obj(): members in QDict order, as qemu-ga reports them. */
static bool check_request(const JsonValue *request, ProtoError **error)
{
    bool has_execute = false;
    size_t n = json_object_size(request);
    size_t *order = qdict_order_new(request);
    bool ok = true;

    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        const char *key = json_object_key_at(request, i);
        JsonType type = json_value_type(json_object_value_at(request, i));

        if (strcmp(key, "execute") == 0) {
            if (type != JSON_TYPE_STRING) {
                proto_error_set_literal(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                                        "QMP input member 'execute' must be a string");
                ok = false;
                break;
            }
            has_execute = true;
        } else if (strcmp(key, "arguments") == 0) {
            if (type != JSON_TYPE_OBJECT) {
                proto_error_set_literal(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                                        "QMP input member 'arguments' must be an object");
                ok = false;
                break;
            }
        } else if (strcmp(key, "id") != 0) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "QMP input member '%s' is unexpected", key);
            ok = false;
            break;
        }
    }
    free(order);
    if (!ok) {
        return false;
    }
    if (!has_execute) {
        proto_error_set_literal(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                                "QMP input lacks member 'execute'");
        return false;
    }
    return true;
}

static bool check_enabled(const Dispatcher *dispatcher, const DispatchRow *row,
                          ProtoError **error)
{
    const char *name = row->spec->name;

    if (frozen_gates(dispatcher, row->spec)) {
        proto_error_set(error, PROTO_ERROR_CLASS_COMMAND_NOT_FOUND,
                        "Command %s has been disabled: the agent is in frozen state", name);
        return false;
    }
    if (!row->allowed || row->blocked) {
        proto_error_set(error, PROTO_ERROR_CLASS_COMMAND_NOT_FOUND,
                        "Command %s has been disabled", name);
        return false;
    }
    return true;
}

/* Runs a validated request; returns the "return" value or NULL with *error. */
static JsonValue *run_request(Dispatcher *dispatcher, const JsonValue *request,
                              const CommandSpec **out_spec, ProtoError **error)
{
    const char *name = json_object_get_string(request, "execute");
    const DispatchRow *row = find_row(dispatcher, name);
    const JsonValue *args = json_object_get(request, "arguments");
    json_autoptr *empty = json_object_new();
    JsonValue *result = NULL;

    if (!row) {
        proto_error_set(error, PROTO_ERROR_CLASS_COMMAND_NOT_FOUND,
                        "The command %s has not been found", name);
        return NULL;
    }
    if (!check_enabled(dispatcher, row, error)) {
        return NULL;
    }
    if (!args) {
        args = empty;
    }
    if (!command_args_check(row->spec, args, error)) {
        return NULL;
    }
    if (!row->spec->handler(dispatcher->context, args, &result, error)) {
        assert(*error && !result);
        return NULL;
    }
    *out_spec = row->spec;
    return result ? result : json_object_new();
}

static JsonValue *error_reply(ProtoError *error)
{
    JsonValue *reply = json_object_new();
    JsonValue *body = json_object_new();

    json_object_set_string(body, "class", proto_error_class_name(error->error_class));
    json_object_set_string(body, "desc", error->desc);
    json_object_set(reply, "error", body);
    return reply;
}

JsonValue *dispatcher_handle(Dispatcher *dispatcher, JsonValue *request,
                             ProtoError *parse_error, bool *sentinel)
{
    json_autoptr *owned_request = request;
    proto_autoptr_error *error = parse_error;
    const CommandSpec *spec = NULL;
    JsonValue *result = NULL;
    JsonValue *reply;

    *sentinel = false;
    if (!error && json_value_type(request) != JSON_TYPE_OBJECT) {
        proto_error_set_literal(&error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                                "QMP input must be a JSON object");
    }
    if (!error && check_request(request, &error)) {
        result = run_request(dispatcher, request, &spec, &error);
    }
    if (error) {
        reply = error_reply(error);
    } else if (spec->flags & COMMAND_FLAG_NO_SUCCESS_RESPONSE) {
        json_value_free(result);
        return NULL;
    } else {
        reply = json_object_new();
        json_object_set(reply, "return", result);
        *sentinel = (spec->flags & COMMAND_FLAG_SENTINEL_REPLY) != 0;
    }
    if (owned_request && json_value_type(owned_request) == JSON_TYPE_OBJECT &&
        json_object_has(owned_request, "id")) {
        json_object_set(reply, "id", json_value_copy(json_object_get(owned_request, "id")));
    }
    return reply;
}
