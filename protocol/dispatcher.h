/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dispatcher.h — from a parsed request to a reply, as qemu-ga does it
 * (QEMU qapi/qmp-dispatch.c and qga/main.c process_event()).
 *
 * The dispatcher owns no commands' logic: it validates the request object
 * ("execute", optional "arguments" and "id"), finds the row in the command
 * table, applies the allow/block lists and the frozen gate, checks the
 * arguments from the spec, calls the handler and builds
 * {"return": ...} or {"error": {"class": ..., "desc": ...}}, echoing "id".
 */
#ifndef QUIESCE_DISPATCHER_H
#define QUIESCE_DISPATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include "command-table.h"
#include "json-value.h"
#include "proto-error.h"

typedef struct Dispatcher Dispatcher;

/* Asks whether filesystems are frozen now (only frozen-allowed commands run). */
typedef bool (*DispatcherFrozenQuery)(void *context);

/* context is passed to every handler and to is_frozen (may be NULL). */
Dispatcher *dispatcher_new(void *context, DispatcherFrozenQuery is_frozen);
void dispatcher_free(Dispatcher *dispatcher);

/* Adds rows (borrowed: the table must outlive the dispatcher). A later row
 * with the same name as an earlier one is a programming error (asserted). */
void dispatcher_add_commands(Dispatcher *dispatcher, const CommandSpec *specs, size_t n);

/*
 * qemu-ga's --allow-rpcs / --block-rpcs: with an allow-list every command not
 * on it is disabled; the block-list disables commands and wins over the
 * allow-list. Names that match no command are returned through *unknown (a
 * malloc'ed comma-separated list, or NULL) for the caller to warn about.
 */
void dispatcher_set_allowed(Dispatcher *dispatcher, const char *const *names, char **unknown);
void dispatcher_set_blocked(Dispatcher *dispatcher, const char *const *names, char **unknown);

const CommandSpec *dispatcher_lookup(const Dispatcher *dispatcher, const char *name);
/* Whether a command would run now (not blocked, not gated by the freeze). */
bool dispatcher_is_enabled(const Dispatcher *dispatcher, const CommandSpec *spec);
size_t dispatcher_command_count(const Dispatcher *dispatcher);
/* Rows in registration order. */
const CommandSpec *dispatcher_command_at(const Dispatcher *dispatcher, size_t index);

/* Whether request (borrowed; NULL for a stream error, which is answered
 * with an error at once) may be handled while a freeze operation is in
 * flight: only a request whose "execute" names a command flagged
 * COMMAND_FLAG_ANSWERED_WHILE_BUSY; anything else waits. */
bool dispatcher_answers_while_busy(const Dispatcher *dispatcher, const JsonValue *request);

/*
 * Handles one input event of the stream: a parsed value (request != NULL) or a
 * stream error (parse_error != NULL). Both transfer full. Returns the reply
 * (transfer full), or NULL when none must be sent (success of a
 * no-success-response command). *sentinel is set when the reply must be
 * preceded by the 0xFF byte.
 */
JsonValue *dispatcher_handle(Dispatcher *dispatcher, JsonValue *request,
                             ProtoError *parse_error, bool *sentinel);

#endif
