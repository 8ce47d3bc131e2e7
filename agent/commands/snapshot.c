/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapshot.c — the snapshot-session extension (docs/design.md §3): Hyper-V's
 * capability query, PrepareForSnapshot, PostSnapshot and abort on top of QGA.
 * Reply shapes are documented with examples in docs/protocol.md.
 *
 * prepare never leaves a partial freeze: when the guest is not eligible, or
 * when freezing fails, the reply is "saved-state" with machine-readable
 * reasons and nothing is frozen, so the host falls back instead of failing.
 */
#include <string.h>

#include "agent/commands/commands.h"
#include "agent/commands/report-json.h"
#include "common/quiesce-error.h"

static bool cmd_snapshot_check(void *context, const JsonValue *args, JsonValue **result,
                               ProtoError **error)
{
    CommandContext *commands = context;
    g_autoptr(GError) gerror = NULL;
    g_autoptr(EligibilityReport) report = engine_check(commands->engine, &gerror);
    JsonValue *reply;

    if (!report) {
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    reply = report_json_eligibility(report);
    json_object_set_int(reply, "window-seconds", engine_get_config(commands->engine)->window_seconds);
    *result = reply;
    return true;
}

static JsonValue *prepare_child_reply(const Engine *engine, const EligibilityReport *report)
{
    const EngineSession *session = engine_get_session(engine);
    JsonValue *reply = json_object_new();

    json_object_set_string(reply, "method", "child-snapshot");
    json_object_set_string(reply, "session", session->id);
    json_object_set(reply, "frozen", report_json_strings(session->frozen));
    json_object_set(reply, "excluded", report_json_excluded(report));
    json_object_set_int(reply, "window-seconds", engine_get_config(engine)->window_seconds);
    if (session->deadline_real) {
        json_object_set(reply, "deadline", report_json_time(session->deadline_real));
    }
    return reply;
}

static JsonValue *prepare_saved_state_reply(const Engine *engine,
                                            const EligibilityReport *report,
                                            const GError *failure)
{
    JsonValue *reply = json_object_new();
    JsonValue *reasons = report_json_reasons(report);
    JsonValue *frozen = json_array_new();
    g_auto(GStrv) still_frozen = engine_dup_frozen(engine);

    /* Only a failed rollback leaves anything: the host must know. */
    for (char **mountpoint = still_frozen; *mountpoint; mountpoint++) {
        json_array_append(frozen, json_string_new(*mountpoint));
    }
    if (failure) {
        JsonValue *reason = json_object_new();
        const char *code = engine_get_failure_code(engine);
        json_object_set_string(reason, "code", code ? code : ENGINE_REASON_FREEZE_FAILED);
        json_object_set_string(reason, "message", failure->message);
        json_array_append(reasons, reason);
    }
    json_object_set_string(reply, "method", "saved-state");
    json_object_set(reply, "reasons", reasons);
    json_object_set(reply, "frozen", frozen);
    json_object_set(reply, "excluded", report_json_excluded(report));
    return reply;
}

static bool cmd_snapshot_prepare(void *context, const JsonValue *args, JsonValue **result,
                                 ProtoError **error)
{
    CommandContext *commands = context;
    g_autoptr(GError) gerror = NULL;
    g_autoptr(GError) failure = NULL;
    g_autoptr(EligibilityReport) report = NULL;

    if (!engine_prepare(commands->engine, &report, &failure, &gerror)) {
        g_warning("prepare: %s", gerror->message);
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    /* A failure first: if even the rollback failed, the engine keeps a
     * session to retry the thaw, but the host must still fall back. */
    if (!failure && engine_get_session(commands->engine)) {
        commands->bind_session(commands->owner, engine_get_session(commands->engine)->id);
        *result = prepare_child_reply(commands->engine, report);
        g_info("prepare: session %s, %u filesystem(s) frozen",
               engine_get_session(commands->engine)->id,
               engine_get_session(commands->engine)->frozen->len);
        return true;
    }
    *result = prepare_saved_state_reply(commands->engine, report, failure);
    g_info("prepare: saved-state (%u reason(s))%s%s", report->reasons->len + (failure ? 1 : 0),
           failure ? ": " : "", failure ? failure->message : "");
    return true;
}

/* Session ids are UUIDs (the engine makes them). Anything else is refused
 * before it reaches the engine, the log or the reply, quoting at most
 * SNAPSHOT_ID_QUOTE_MAX bytes of it: a peer controls its length. */
#define SNAPSHOT_ID_QUOTE_MAX 40

static bool snapshot_id_check(const char *id, ProtoError **error)
{
    gsize len;
    gsize quote;
    g_autofree char *shown = NULL;

    if (!id || g_uuid_string_is_valid(id)) {
        return true;
    }
    len = strlen(id);
    quote = MIN(len, SNAPSHOT_ID_QUOTE_MAX);
    while (quote > 0 && quote < len && ((guchar)id[quote] & 0xc0) == 0x80) {
        quote--; /* not inside a UTF-8 sequence */
    }
    shown = g_utf8_make_valid(id, (gssize)quote);
    proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                    "'%s%s' (%zu bytes) is not a session id: a session id is the UUID "
                    "guest-snapshot-prepare returned",
                    shown, quote < len ? "..." : "", len);
    g_warning("refused a malformed session id (%zu bytes)", len);
    return false;
}

static bool snapshot_end(CommandContext *commands, const char *id, gboolean abort, JsonValue **result,
                         ProtoError **error)
{
    g_autoptr(GError) gerror = NULL;
    const EngineSession *session = engine_get_session(commands->engine);
    gint64 held_us =
        session && session->frozen_mono ? g_get_monotonic_time() - session->frozen_mono : 0;
    g_autofree char *session_id = g_strdup(id ? id : session ? session->id : NULL);
    gboolean ok;
    guint thawed = 0;

    if (!snapshot_id_check(id, error)) {
        return false;
    }
    ok = abort ? engine_abort(commands->engine, id, &thawed, &gerror)
               : engine_post(commands->engine, id, &thawed, &gerror);
    if (!ok) {
        g_warning("%s: %s", abort ? "abort" : "post", gerror->message);
        proto_error_take_gerror(error, g_steal_pointer(&gerror));
        return false;
    }
    *result = json_object_new();
    if (session_id) {
        json_object_set_string(*result, "session", session_id);
    }
    json_object_set_int(*result, "thawed", thawed);
    json_object_set_int(*result, "frozen-ms", held_us / 1000);
    if (engine_get_end_warning(commands->engine)) {
        JsonValue *warnings = json_array_new();
        json_array_append(warnings, json_string_new(engine_get_end_warning(commands->engine)));
        json_object_set(*result, "warnings", warnings);
    }
    g_info("%s: session %s, thawed %u filesystem(s) after %" G_GINT64_FORMAT " ms",
           abort ? "abort" : "post", session_id ? session_id : "-", thawed, held_us / 1000);
    return true;
}

static bool cmd_snapshot_post(void *context, const JsonValue *args, JsonValue **result,
                              ProtoError **error)
{
    return snapshot_end(context, json_object_get_string(args, "session"), FALSE, result, error);
}

static bool cmd_snapshot_abort(void *context, const JsonValue *args, JsonValue **result,
                               ProtoError **error)
{
    return snapshot_end(context, json_object_get_string(args, "session"), TRUE, result, error);
}

static JsonValue *status_ended(const EngineEnded *ended)
{
    JsonValue *item = json_object_new();

    if (*ended->session_id) {
        json_object_set_string(item, "session", ended->session_id);
    }
    json_object_set_string(item, "end",
                           ended->end == ENGINE_END_EXPIRED     ? "expired"
                           : ended->end == ENGINE_END_HOST_LOST ? "host-lost"
                           : ended->end == ENGINE_END_THAWED    ? "thawed"
                                                                : "broken");
    json_object_set_string(item, "message", ended->message);
    return item;
}

static bool cmd_snapshot_status(void *context, const JsonValue *args, JsonValue **result,
                                ProtoError **error)
{
    CommandContext *commands = context;
    const EngineSession *session = engine_get_session(commands->engine);
    const EngineEnded *ended = engine_get_ended(commands->engine);
    const EngineBusy *busy = engine_get_busy(commands->engine);
    JsonValue *reply = json_object_new();

    json_object_set_string(reply, "state", session ? "active" : "idle");
    json_object_set_string(reply, "fsfreeze", engine_is_frozen(commands->engine) ? "frozen" : "thawed");
    if (session) {
        json_object_set_string(reply, "session", session->id);
        json_object_set(reply, "frozen", report_json_strings(session->frozen));
        if (session->deadline_mono) {
            gint64 left = MAX(0, session->deadline_mono - g_get_monotonic_time());
            json_object_set(reply, "deadline", report_json_time(session->deadline_real));
            json_object_set_int(reply, "time-left-ms", left / 1000);
        }
    } else {
        json_object_set(reply, "frozen", json_array_new());
    }
    if (ended) {
        json_object_set(reply, "ended", status_ended(ended));
    }
    if (busy) {
        JsonValue *item = json_object_new();
        json_object_set_string(item, "operation", busy->operation);
        if (busy->session_id) {
            json_object_set_string(item, "session", busy->session_id);
        }
        json_object_set_int(item, "running-ms",
                            (g_get_monotonic_time() - busy->since_mono) / 1000);
        json_object_set(reply, "busy", item);
    }
    *result = reply;
    return true;
}

static const CommandArg post_args[] = {
    { "session", COMMAND_ARG_STRING, false },
    { NULL, 0, false },
};

static const CommandArg abort_args[] = {
    { "session", COMMAND_ARG_STRING, true },
    { NULL, 0, false },
};

const CommandSpec commands_snapshot[] = {
    { "guest-snapshot-check", cmd_snapshot_check, NULL, 0 },
    { "guest-snapshot-prepare", cmd_snapshot_prepare, NULL, 0 },
    { "guest-snapshot-post", cmd_snapshot_post, post_args, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-snapshot-abort", cmd_snapshot_abort, abort_args, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-snapshot-status", cmd_snapshot_status, NULL,
      COMMAND_FLAG_ALLOWED_WHILE_FROZEN | COMMAND_FLAG_ANSWERED_WHILE_BUSY },
};
const gsize commands_snapshot_count = G_N_ELEMENTS(commands_snapshot);
