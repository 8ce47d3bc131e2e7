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
 * The commands that act on this machine outside the engine's confinement
 * are blocked, as --block-rpcs would (fuzz_blocked[]): a fuzzer running as
 * root must not run programs, write files or set the clock. The rest of
 * the guest-control commands refuse to act in a confined agent
 * (agent/commands/control-system.h).
 *
 * The dispatcher and its rows are made once per process (they keep no
 * state between requests); the engine, the command families' states and
 * the session are made for every input.
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
#include <sys/mman.h>

#include "agent/commands/commands.h"
#include "protocol/json-stream.h"
#include "protocol/proto-session.h"
#include "tests/fuzz/fuzz-nonfinite.h"
#include "tests/fuzz/fuzz-support.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What changes this machine whatever the confinement: a program run by
 * guest-exec, a file opened for writing, the clock. */
static const char *const fuzz_blocked[] = { "guest-exec", "guest-file-open", "guest-set-time",
                                            NULL };

static CommandContext fuzz_commands; /* engine and owner: the current input's */
static Dispatcher *fuzz_dispatcher;

typedef struct {
    size_t replies;
    size_t emitted;     /* values and errors of a plain stream over the same bytes */
    GArray *inf_id;     /* gboolean per emitted value: its "id" holds a non-finite number,
                         * at any depth, which qemu-ga echoes as the non-JSON inf/nan
                         * (so do we) */
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

/*
 * Replies already checked whole, by their exact bytes. The check of a
 * reply is a function of its bytes alone (the parse and the shape; an
 * inf/nan id, which skips the parse, is never recorded), and in a long run
 * 99 % of the replies are repeats (mostly the same parse errors): parsing
 * each back was 40 % of an input's CPU. A reply seen before passes its
 * cheap checks (request count, one line) again and skips the parse. The
 * set is bounded (FUZZ_SEEN_*; once full, every new reply is parsed) and
 * lives outside malloc, in a static table and an mmap'd arena, so that an
 * input that adds to it does not look like a leak to libFuzzer.
 */
#define FUZZ_SEEN_SLOTS (1u << 17) /* a power of two; filled to 3/4 at most */
#define FUZZ_SEEN_ARENA ((size_t)32 << 20)

static gboolean fuzz_memo; /* off with $QUIESCE_FUZZ_NO_MEMO: every reply is parsed */

static struct {
    guint32 hash;
    guint32 len;
    size_t at; /* offset in the arena + 1; 0 = an empty slot */
} fuzz_seen[FUZZ_SEEN_SLOTS];
static char *fuzz_seen_arena;
static size_t fuzz_seen_used;
static guint fuzz_seen_count;

/* The set's bookkeeping is not instrumented for coverage: its branches say
 * nothing about the agent, and their per-byte comparison hooks were 6 % of
 * an input's CPU. */
#define FUZZ_NOT_COVERED __attribute__((no_sanitize("coverage")))

FUZZ_NOT_COVERED static guint32 fuzz_seen_hash(const char *bytes, size_t len)
{
    guint32 hash = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < len; i++) {
        hash = (hash ^ (guint8)bytes[i]) * 16777619u;
    }
    return hash;
}

/* The slot holding bytes, or the empty slot where they would go. */
FUZZ_NOT_COVERED static guint fuzz_seen_slot(const char *bytes, size_t len, guint32 hash)
{
    guint slot = hash & (FUZZ_SEEN_SLOTS - 1);

    for (; fuzz_seen[slot].at != 0; slot = (slot + 1) & (FUZZ_SEEN_SLOTS - 1)) {
        if (fuzz_seen[slot].hash == hash && fuzz_seen[slot].len == len &&
            memcmp(fuzz_seen_arena + fuzz_seen[slot].at - 1, bytes, len) == 0) {
            break;
        }
    }
    return slot;
}

static gboolean fuzz_seen_has(const char *bytes, size_t len)
{
    return fuzz_seen_count > 0 &&
           fuzz_seen[fuzz_seen_slot(bytes, len, fuzz_seen_hash(bytes, len))].at != 0;
}

/* Remembers bytes, which passed every check, if there is room. */
static void fuzz_seen_add(const char *bytes, size_t len)
{
    guint32 hash = fuzz_seen_hash(bytes, len);
    guint slot;

    if (fuzz_seen_count >= FUZZ_SEEN_SLOTS / 4 * 3 || len > FUZZ_SEEN_ARENA - fuzz_seen_used) {
        return;
    }
    if (!fuzz_seen_arena) {
        void *arena = mmap(NULL, FUZZ_SEEN_ARENA, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (arena == MAP_FAILED) {
            return;
        }
        fuzz_seen_arena = arena;
    }
    slot = fuzz_seen_slot(bytes, len, hash);
    if (fuzz_seen[slot].at != 0) {
        return;
    }
    memcpy(fuzz_seen_arena + fuzz_seen_used, bytes, len);
    fuzz_seen[slot].hash = hash;
    fuzz_seen[slot].len = (guint32)len;
    fuzz_seen[slot].at = fuzz_seen_used + 1;
    fuzz_seen_used += len;
    fuzz_seen_count++;
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
    if (inf_id || (fuzz_memo && fuzz_seen_has(bytes, len))) {
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
    if (fuzz_memo) {
        fuzz_seen_add(bytes, len);
    }
}

static void fuzz_count(void *opaque, JsonValue *value, ProtoError *error)
{
    FuzzQga *qga = opaque;
    const JsonValue *id = value && json_value_type(value) == JSON_TYPE_OBJECT
                              ? json_object_get(value, "id")
                              : NULL;
    gboolean inf_id = id && fuzz_has_nonfinite(id);

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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *unknown = NULL;

    (void)argc;
    (void)argv;
    fuzz_support_init();
    fuzz_memo = !g_getenv("QUIESCE_FUZZ_NO_MEMO");
    fuzz_dispatcher = dispatcher_new(&fuzz_commands, commands_is_frozen);
    fuzz_commands.dispatcher = fuzz_dispatcher;
    fuzz_commands.bind_session = fuzz_bind_session;
    commands_register(fuzz_dispatcher);
    dispatcher_set_blocked(fuzz_dispatcher, fuzz_blocked, &unknown);
    if (unknown) {
        fprintf(stderr, "fuzz-qga-session: no such command to block: %s\n", unknown);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzQga qga = { 0 };
    FuzzFreezeCounts counts;
    FuzzEngineOptions options;
    JsonStreamLimits limits = { 4096, 4096, 64 };
    Engine *engine;
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
    fuzz_commands.engine = engine;
    fuzz_commands.owner = &qga;
    commands_context_init(&fuzz_commands);
    session = proto_session_new(fuzz_dispatcher, &limits, fuzz_reply, &qga);
    plain = json_stream_new(&limits, fuzz_count, &qga);

    qga.inf_id = g_array_new(FALSE, FALSE, sizeof(gboolean));
    data++;
    size--;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        size_t replies = qga.replies;

        json_stream_feed(plain, (const char *)data + off, n); /* first: it says what to expect */
        proto_session_feed(session, (const char *)data + off, n);
        /* What a channel's main loop would run between reads; only after
         * a read that was answered: the sources here (the engine's
         * timers) are not touched by a read that completes no request,
         * and a poll per byte was most of a bytewise input's cost. */
        if (qga.replies != replies) {
            fuzz_main_context_drain();
        }
    }
    fuzz_main_context_drain(); /* and once after the last read */
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
    commands_context_clear(&fuzz_commands);
    fuzz_commands.engine = NULL;
    fuzz_commands.owner = NULL;
    fuzz_engine_finish(engine, &counts);
    g_free(qga.session_id);
    g_array_unref(qga.inf_id);
    return 0;
}
