/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * command-table.h — one row per command: name, handler, argument spec, flags.
 *
 * The dispatcher checks a request's arguments against the spec once, before
 * the handler runs, with the exact messages of QEMU's QAPI input visitor
 * (qapi/qobject-input-visitor.c), so handlers receive arguments of the right
 * types and never re-check them. Handlers have one signature.
 */
#ifndef QUIESCE_COMMAND_TABLE_H
#define QUIESCE_COMMAND_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "json-value.h"
#include "proto-error.h"

typedef enum {
    COMMAND_ARG_INT,         /* JSON integer that fits int64 ("integer") */
    COMMAND_ARG_BOOL,        /* "boolean" */
    COMMAND_ARG_NUMBER,      /* any JSON number ("number") */
    COMMAND_ARG_STRING,      /* "string" */
    COMMAND_ARG_STRING_LIST, /* array of strings ("array", then "x[i]": "string") */
    COMMAND_ARG_OBJECT,      /* "object", contents unchecked */
    COMMAND_ARG_UINT64,      /* JSON integer in uint64, or a negative int64 taken
                              * modulo 2^64 as QAPI does ("expects uint64") */
    COMMAND_ARG_OBJECT_LIST, /* array of objects whose members are the rows
                              * named "NAME[].member" that follow this one */
    /* Any value; the handler checks it. For QAPI alternates (guest-file-seek's
     * whence: an integer or an enum name), whose checks need the handler's
     * knowledge of the branches. */
    COMMAND_ARG_ANY,
} CommandArgType;

/*
 * A list of structs (QAPI's ['GuestLogicalProcessor']) is one
 * COMMAND_ARG_OBJECT_LIST row named NAME, followed by one row per member
 * named "NAME[].member", in schema order. Each element is checked like a
 * command's arguments, with QAPI's paths in the messages
 * ("Parameter 'vcpus[0].online' is missing"). Member rows are not
 * top-level arguments.
 */
typedef struct {
    const char *name; /* NULL ends the list */
    CommandArgType type;
    bool optional;
} CommandArg;

typedef enum {
    /* Served while filesystems are frozen (qemu-ga's ga_freeze_allowlist). */
    COMMAND_FLAG_ALLOWED_WHILE_FROZEN = 1u << 0,
    /* Sends no reply on success (qemu-ga's success-response: false). */
    COMMAND_FLAG_NO_SUCCESS_RESPONSE = 1u << 1,
    /* The success reply is preceded by the 0xFF sentinel byte
     * (guest-sync-delimited; an argument error is sent without it). */
    COMMAND_FLAG_SENTINEL_REPLY = 1u << 2,
    /* Registered but disabled from the start, as if on the block-list, and
     * no allow-list enables it: qemu-ga's own default block-list
     * (ga_command_init_blockedrpcs() in qga/commands-posix.c), e.g.
     * guest-get-devices on Linux. guest-info lists it "enabled": false. */
    COMMAND_FLAG_BLOCKED_BY_DEFAULT = 1u << 3,
    /* Read-only and instant: answered at once while a freeze operation of
     * another request is in flight, where every other request waits for it
     * (docs/protocol.md, "While a freeze operation runs"). */
    COMMAND_FLAG_ANSWERED_WHILE_BUSY = 1u << 4,
} CommandFlags;

/*
 * A handler gets the context given to the dispatcher and the checked
 * arguments (an object, borrowed; {} when the request had none). On success
 * it returns true and sets *result (transfer full; NULL means the empty
 * object {}, as qemu-ga answers commands without a return value). On
 * failure it returns false with *error set.
 */
typedef bool (*CommandHandler)(void *context, const JsonValue *args,
                               JsonValue **result, ProtoError **error);

typedef struct {
    const char *name;
    CommandHandler handler;
    const CommandArg *args; /* NULL-name terminated; NULL for none */
    unsigned flags;         /* CommandFlags */
} CommandSpec;

/*
 * Checks args (an object) against spec->args in spec order, then rejects
 * members the spec does not name. Messages as QEMU's:
 *   "Parameter 'id' is missing"
 *   "Invalid parameter type for 'id', expected: integer"
 *   "Invalid parameter type for 'mountpoints[0]', expected: string"
 *   "Parameter 'foo' is unexpected"
 *   "Parameter 'mem-blks[0].phys-index' expects uint64"
 */
bool command_args_check(const CommandSpec *spec, const JsonValue *args,
                        ProtoError **error);

#endif
