/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * commands-snapshot.c — the snapshot-session extension on Windows: the same
 * commands and the same JSON as agent/commands/snapshot.c and
 * report-json.c, with volumes where Linux has mounts. A prepare never
 * leaves a partial freeze: saved-state comes with reasons and nothing held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "windows/commands.h"

JsonValue *win_report_reasons(const WinEligibility *report, const VssFailure *failure)
{
    JsonValue *array = json_array_new();

    for (size_t i = 0; i < report->n_reasons; i++) {
        const WinReason *reason = &report->reasons[i];
        JsonValue *item = json_object_new();
        json_object_set_string(item, "code", reason->code);
        if (reason->mountpoint[0]) {
            json_object_set_string(item, "mountpoint", reason->mountpoint);
        }
        json_object_set_string(item, "message", reason->message);
        json_array_append(array, item);
    }
    if (failure && failure->code) {
        JsonValue *item = json_object_new();
        json_object_set_string(item, "code", failure->code);
        json_object_set_string(item, "message", failure->message);
        json_array_append(array, item);
    }
    return array;
}

JsonValue *win_report_excluded(const WinEligibility *report)
{
    JsonValue *array = json_array_new();

    for (size_t i = 0; i < report->system.n_volumes; i++) {
        const WinVolumeReport *r = &report->volumes[i];
        JsonValue *item;
        if (r->verdict != WIN_VERDICT_EXCLUDE_AND_REPORT) {
            continue;
        }
        item = json_object_new();
        json_object_set_string(item, "mountpoint", win_volume_label(r->volume));
        json_object_set_string(item, "type", r->volume->fstype);
        json_object_set_string(item, "class", r->klass);
        json_object_set_string(item, "reason", r->reason);
        json_array_append(array, item);
    }
    return array;
}

static JsonValue *report_volume(const WinVolumeReport *r)
{
    const WinVolume *v = r->volume;
    JsonValue *item = json_object_new();
    JsonValue *aliases = json_array_new();

    for (size_t i = 1; i < v->n_paths; i++) {
        json_array_append(aliases, json_string_new(v->paths[i]));
    }
    json_object_set_string(item, "mountpoint", win_volume_label(v));
    json_object_set(item, "aliases", aliases);
    json_object_set_string(item, "source", v->name);
    json_object_set_string(item, "type", v->fstype);
    if (v->disk[0]) {
        json_object_set_string(item, "device", v->disk);
    }
    json_object_set_string(item, "class", r->klass);
    json_object_set_string(item, "verdict", win_verdict_name(r->verdict));
    json_object_set_string(item, "reason", r->reason);
    if (r->reason_code) {
        json_object_set_string(item, "reason-code", r->reason_code);
    }
    return item;
}

JsonValue *win_report_eligibility(const WinEligibility *report, unsigned window_seconds)
{
    JsonValue *object = json_object_new();
    JsonValue *mounts = json_array_new();
    JsonValue *order = json_array_new();

    for (size_t i = 0; i < report->system.n_volumes; i++) {
        json_array_append(mounts, report_volume(&report->volumes[i]));
    }
    for (size_t i = 0; i < report->n_freeze; i++) {
        const WinVolume *v = &report->system.volumes[report->freeze[i]];
        json_array_append(order, json_string_new(win_volume_label(v)));
    }
    json_object_set_string(object, "method",
                           report->n_reasons ? "saved-state" : "child-snapshot");
    json_object_set(object, "reasons", win_report_reasons(report, NULL));
    json_object_set_string(object, "running-state", report->system.running_state);
    json_object_set_bool(object, "strict", report->policy.strict);
    json_object_set_bool(object, "allow-dynamic", report->policy.allow_dynamic);
    json_object_set(object, "mounts", mounts);
    json_object_set(object, "freeze-order", order);
    json_object_set_int(object, "window-seconds", window_seconds);
    return object;
}

static bool cmd_check(void *context, const JsonValue *args, JsonValue **result, ProtoError **error)
{
    WinCommandContext *commands = context;
    WinEligibility *report = calloc(1, sizeof(*report));
    bool ok = win_engine_verdict(commands->engine, report, error);

    if (ok) {
        *result = win_report_eligibility(report, win_engine_window_seconds(commands->engine));
    }
    free(report);
    return ok;
}

static JsonValue *strings_of_session(const WinSession *session)
{
    JsonValue *array = json_array_new();

    for (size_t i = 0; i < session->n_frozen; i++) {
        json_array_append(array, json_string_new(session->frozen[i]));
    }
    return array;
}

static bool cmd_prepare(void *context, const JsonValue *args, JsonValue **result,
                        ProtoError **error)
{
    WinCommandContext *commands = context;
    WinEligibility *report = calloc(1, sizeof(*report));
    VssFailure failure = { 0 };
    bool child = false;
    JsonValue *reply;

    if (!win_engine_prepare(commands->engine, commands->channel, report, &child, &failure,
                            error)) {
        free(report);
        return false;
    }
    reply = json_object_new();
    if (child) {
        const WinSession *session = win_engine_session(commands->engine);
        json_object_set_string(reply, "method", "child-snapshot");
        json_object_set_string(reply, "session", session->id);
        json_object_set(reply, "frozen", strings_of_session(session));
        json_object_set(reply, "excluded", win_report_excluded(report));
        json_object_set_int(reply, "window-seconds",
                            win_engine_window_seconds(commands->engine));
        json_object_set_string(reply, "deadline", session->deadline);
    } else {
        json_object_set_string(reply, "method", "saved-state");
        json_object_set(reply, "reasons", win_report_reasons(report, &failure));
        json_object_set(reply, "frozen", json_array_new());
        json_object_set(reply, "excluded", win_report_excluded(report));
        win_log(commands->log, WIN_LOG_INFO, "prepare: saved-state%s%s",
                failure.code ? ": " : "", failure.code ? failure.message : "");
    }
    free(report);
    *result = reply;
    return true;
}

/* Session ids are UUIDs; anything else is refused before the engine sees
 * it, quoting at most 40 bytes (a peer controls its length). */
static bool session_id_check(const char *id, ProtoError **error)
{
    size_t len;
    size_t quote;
    bool valid;

    if (!id) {
        return true;
    }
    len = strlen(id);
    valid = len == 36;
    for (size_t i = 0; valid && i < len; i++) {
        valid = (i == 8 || i == 13 || i == 18 || i == 23) ? id[i] == '-'
                                                          : strchr("0123456789abcdefABCDEF",
                                                                   id[i]) != NULL;
    }
    if (valid) {
        return true;
    }
    quote = len < 40 ? len : 40;
    while (quote > 0 && quote < len && ((unsigned char)id[quote] & 0xc0) == 0x80) {
        quote--; /* not inside a UTF-8 sequence */
    }
    proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                    "'%.*s%s' (%zu bytes) is not a session id: a session id is the UUID "
                    "guest-snapshot-prepare returned",
                    (int)quote, id, quote < len ? "..." : "", len);
    return false;
}

static bool snapshot_end(WinCommandContext *commands, const char *id, bool abort,
                         JsonValue **result, ProtoError **error)
{
    const WinSession *session = win_engine_session(commands->engine);
    char session_id[37] = "";
    char warning[400] = "";
    unsigned thawed = 0;
    int64_t frozen_ms = 0;
    bool ok;

    if (!session_id_check(id, error)) {
        return false;
    }
    snprintf(session_id, sizeof(session_id), "%s", id ? id : session ? session->id : "");
    ok = abort ? win_engine_abort(commands->engine, id, &thawed, &frozen_ms, error)
               : win_engine_post(commands->engine, id, &thawed, &frozen_ms, warning,
                                 sizeof(warning), error);
    if (!ok) {
        win_log(commands->log, WIN_LOG_WARNING, "%s: %s", abort ? "abort" : "post",
                (*error)->desc);
        return false;
    }
    *result = json_object_new();
    if (session_id[0]) {
        json_object_set_string(*result, "session", session_id);
    }
    json_object_set_int(*result, "thawed", thawed);
    json_object_set_int(*result, "frozen-ms", frozen_ms);
    if (warning[0]) {
        JsonValue *warnings = json_array_new();
        json_array_append(warnings, json_string_new(warning));
        json_object_set(*result, "warnings", warnings);
    }
    return true;
}

static bool cmd_post(void *context, const JsonValue *args, JsonValue **result, ProtoError **error)
{
    return snapshot_end(context, json_object_get_string(args, "session"), false, result, error);
}

static bool cmd_abort(void *context, const JsonValue *args, JsonValue **result, ProtoError **error)
{
    return snapshot_end(context, json_object_get_string(args, "session"), true, result, error);
}

static bool cmd_status(void *context, const JsonValue *args, JsonValue **result,
                       ProtoError **error)
{
    WinCommandContext *commands = context;
    const WinSession *session;
    const WinEnded *ended;
    JsonValue *reply = json_object_new();

    win_engine_tick(commands->engine);
    session = win_engine_session(commands->engine);
    ended = win_engine_ended(commands->engine);
    json_object_set_string(reply, "state", session ? "active" : "idle");
    json_object_set_string(reply, "fsfreeze", session ? "frozen" : "thawed");
    if (session) {
        ULONGLONG now = GetTickCount64();
        json_object_set_string(reply, "session", session->id);
        json_object_set(reply, "frozen", strings_of_session(session));
        json_object_set_string(reply, "deadline", session->deadline);
        json_object_set_int(reply, "time-left-ms",
                            now < session->deadline_tick ? (int64_t)(session->deadline_tick - now)
                                                         : 0);
    } else {
        json_object_set(reply, "frozen", json_array_new());
    }
    if (ended) {
        JsonValue *item = json_object_new();
        json_object_set_string(item, "session", ended->id);
        json_object_set_string(item, "end", win_end_name(ended->end));
        json_object_set_string(item, "message", ended->message);
        json_object_set(reply, "ended", item);
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

const CommandSpec win_commands_snapshot[] = {
    { "guest-snapshot-check", cmd_check, NULL, 0 },
    { "guest-snapshot-prepare", cmd_prepare, NULL, 0 },
    { "guest-snapshot-post", cmd_post, post_args, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-snapshot-abort", cmd_abort, abort_args, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
    { "guest-snapshot-status", cmd_status, NULL, COMMAND_FLAG_ALLOWED_WHILE_FROZEN },
};
const size_t win_commands_snapshot_count =
    sizeof(win_commands_snapshot) / sizeof(win_commands_snapshot[0]);
