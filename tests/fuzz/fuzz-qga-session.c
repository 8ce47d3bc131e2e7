/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-qga-session.c — libFuzzer target for the whole QGA path: bytes ->
 * the streaming parser -> the dispatcher -> the real command tables
 * (agent/commands/) -> the engine, built in-process as agent.c builds them
 * but without channels, and with an engine that freezes a synthetic
 * machine through fake ioctls, never this one (fuzz-support.h).
 *
 * Checks, per input: every reply is one line — an optional 0xFF only
 * before a guest-sync-delimited success, one compact JSON object, "\n" —
 * that parses back with the core's own parser into {"return": ...} or
 * {"error": {"class", "desc"}} (and "id" when echoed); exactly one reply per
 * value or error the stream emits (no command of ours is
 * success-response: false); and, after the host leaves and the agent
 * stops, nothing is frozen and every fake FIFREEZE had its FITHAW
 * (fuzz_engine_finish()).
 *
 * The first byte picks the transport's chunk size (bits 0-2), small stream
 * limits (bit 3), a 1 s freeze window (bit 4) and host-lost grace (bit 5),
 * the synthetic machine (bit 6: the loops one, else the stacks one) and a
 * FIFREEZE that fails on one of its devices (bit 7); the rest is what the
 * host sends.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/commands/commands.h"
#include "protocol/json-stream.h"
#include "protocol/proto-session.h"
#include "tests/fuzz/fuzz-support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    size_t replies;
    size_t emitted;     /* values and errors of a plain stream over the same bytes */
    GArray *inf_id;     /* gboolean per emitted value: its "id" is a non-finite number,
                         * which qemu-ga echoes as the non-JSON inf/nan (so do we) */
    char *session_id;
} FuzzQga;

static void fuzz_fail(const char *why, const char *bytes, size_t len)
{
    fprintf(stderr, "fuzz-qga-session: %s: %.*s\n", why, (int)(len > 400 ? 400 : len), bytes);
    abort();
}

static void fuzz_check_error(const JsonValue *body, const char *bytes, size_t len)
{
    const char *klass;

    if (json_value_type(body) != JSON_TYPE_OBJECT || json_object_size(body) != 2 ||
        !(klass = json_object_get_string(body, "class")) ||
        !json_object_get_string(body, "desc")) {
        fuzz_fail("malformed error member", bytes, len);
    }
    if (strcmp(klass, "GenericError") != 0 && strcmp(klass, "CommandNotFound") != 0) {
        fuzz_fail("unexpected error class", bytes, len);
    }
}

/* One reply as the transport would send it: the framing and the shape. */
static void fuzz_reply(void *opaque, const char *bytes, size_t len)
{
    FuzzQga *qga = opaque;
    const char *text = bytes;
    size_t text_len = len;
    bool sentinel = len > 0 && bytes[0] == '\xff';
    const JsonValue *ret;
    const JsonValue *err;
    size_t members;
    json_autoptr *reply = NULL;

    if (qga->replies >= qga->inf_id->len) {
        fuzz_fail("a reply to no request", bytes, len);
    }
    gboolean inf_id = g_array_index(qga->inf_id, gboolean, qga->replies);
    qga->replies++;
    if (sentinel) {
        text++;
        text_len--;
    }
    if (text_len < 3 || text[text_len - 1] != '\n' || memchr(text, '\n', text_len - 1) ||
        memchr(text, '\xff', text_len)) {
        fuzz_fail("a reply is not one line", bytes, len);
    }
    if (inf_id) {
        return;
    }
    reply = json_parse_string(text, text_len - 1, NULL);
    if (!reply || json_value_type(reply) != JSON_TYPE_OBJECT) {
        fuzz_fail("a reply does not parse back to an object", bytes, len);
    }
    ret = json_object_get(reply, "return");
    err = json_object_get(reply, "error");
    members = json_object_size(reply) - (json_object_has(reply, "id") ? 1 : 0);
    if (members != 1 || !ret == !err) {
        fuzz_fail("a reply is not exactly one of return/error (+ id)", bytes, len);
    }
    if (err) {
        fuzz_check_error(err, bytes, len);
        if (sentinel) {
            fuzz_fail("an error reply with the 0xFF sentinel", bytes, len);
        }
    }
}

static void fuzz_count(void *opaque, JsonValue *value, ProtoError *error)
{
    FuzzQga *qga = opaque;
    const JsonValue *id = value && json_value_type(value) == JSON_TYPE_OBJECT
                              ? json_object_get(value, "id")
                              : NULL;
    double d;
    gboolean inf_id = id && json_value_type(id) == JSON_TYPE_DOUBLE &&
                      json_value_get_double(id, &d) && !isfinite(d);

    qga->emitted++;
    g_array_append_val(qga->inf_id, inf_id);
    json_value_free(value);
    proto_error_free(error);
}

static void fuzz_bind_session(gpointer owner, const char *session_id)
{
    FuzzQga *qga = owner;

    g_free(qga->session_id);
    qga->session_id = g_strdup(session_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzQga qga = { 0 };
    FuzzFreezeCounts counts;
    FuzzEngineOptions options;
    JsonStreamLimits limits = { 4096, 4096, 64 };
    Engine *engine;
    CommandContext commands;
    Dispatcher *dispatcher;
    ProtoSession *session;
    JsonStream *plain;
    size_t step;

    if (size == 0) {
        return 0;
    }
    step = 1 + (data[0] & 7) * 97;
    if (data[0] & 8) {
        limits = (JsonStreamLimits){ 64, 32, 4 };
    }
    options = (FuzzEngineOptions){
        .window_seconds = (data[0] & 16) ? 1 : 0,
        .host_lost_grace_seconds = (data[0] & 32) ? 1 : 0,
        .machine = (data[0] & 64) ? FUZZ_MACHINE_LOOPS : FUZZ_MACHINE_STACKS,
        .freeze_fails = (data[0] & 128) != 0,
    };
    engine = fuzz_engine_new(&counts, &options);
    commands = (CommandContext){
        .engine = engine,
        .bind_session = fuzz_bind_session,
        .owner = &qga,
    };
    dispatcher = dispatcher_new(&commands, commands_is_frozen);
    commands.dispatcher = dispatcher;
    commands_register(dispatcher);
    commands_context_init(&commands);
    session = proto_session_new(dispatcher, &limits, fuzz_reply, &qga);
    plain = json_stream_new(&limits, fuzz_count, &qga);

    qga.inf_id = g_array_new(FALSE, FALSE, sizeof(gboolean));
    data++;
    size--;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        json_stream_feed(plain, (const char *)data + off, n); /* first: it says what to expect */
        proto_session_feed(session, (const char *)data + off, n);
        fuzz_main_context_drain(); /* what a channel's main loop would run between reads */
    }
    if (qga.replies != qga.emitted) {
        fprintf(stderr, "fuzz-qga-session: %zu replies to %zu requests\n", qga.replies,
                qga.emitted);
        abort();
    }
    /* The host leaves (the grace timer, if any, is pending) and the agent stops. */
    if (qga.session_id) {
        engine_host_lost(engine, qga.session_id);
    }
    json_stream_free(plain);
    proto_session_free(session);
    commands_context_clear(&commands);
    dispatcher_free(dispatcher);
    fuzz_engine_finish(engine, &counts);
    g_free(qga.session_id);
    g_array_unref(qga.inf_id);
    return 0;
}
