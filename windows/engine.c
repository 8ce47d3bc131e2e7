/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.c — see the header. Times are GetTickCount64() (monotonic); the
 * deadline the host sees is wall-clock UTC.
 */
#include "windows/engine.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto-alloc.h"

struct WinEngine {
    WinEngineConfig config;
    WinProbe probe;
    VssBackendFactory factory;
    WinLog *log;
    VssBackend *held; /* non-NULL while a session holds the freeze */
    WinSession session;
    bool has_ended;
    WinEnded ended;
    ULONGLONG host_lost_tick; /* 0: the preparing host is there */
};

WinEngine *win_engine_new(const WinEngineConfig *config, WinProbe probe,
                          VssBackendFactory factory, WinLog *log)
{
    WinEngine *engine = proto_xcalloc(1, sizeof(*engine));

    engine->config = *config;
    engine->probe = probe;
    engine->factory = factory;
    engine->log = log;
    return engine;
}

void win_engine_free(WinEngine *engine)
{
    char message[256];

    if (!engine) {
        return;
    }
    if (engine->held) {
        win_log(engine->log, WIN_LOG_WARNING, "stopping: thawing session %s first",
                engine->session.id);
        vss_freeze_end(engine->held, true, message, sizeof(message));
    }
    free(engine);
}

const char *win_end_name(WinEndKind end)
{
    switch (end) {
    case WIN_END_EXPIRED:
    case WIN_END_VSS:
        return "expired";
    case WIN_END_HOST_LOST:
        return "host-lost";
    case WIN_END_THAWED:
        return "thawed";
    }
    return "broken";
}

unsigned win_engine_window_seconds(const WinEngine *engine)
{
    unsigned hold = VSS_AGENT_HOLD_MS / 1000;
    return engine->config.window_seconds < hold ? engine->config.window_seconds : hold;
}

bool win_engine_is_frozen(const WinEngine *engine)
{
    return engine->held != NULL;
}

const WinSession *win_engine_session(const WinEngine *engine)
{
    return engine->held ? &engine->session : NULL;
}

const WinEnded *win_engine_ended(const WinEngine *engine)
{
    return engine->has_ended ? &engine->ended : NULL;
}

bool win_engine_check(WinEngine *engine, WinEligibility *out, ProtoError **error)
{
    return win_eligibility_evaluate(engine->probe, &engine->config.policy, out, error);
}

bool win_engine_verdict(WinEngine *engine, WinEligibility *out, ProtoError **error)
{
    if (!win_engine_check(engine, out, error)) {
        return false;
    }
    /* A child snapshot that froze nothing would look like a consistent one. */
    if (out->n_reasons == 0 && out->n_freeze == 0) {
        win_eligibility_add_reason(out, "nothing-to-freeze", NULL,
                                   "no volume can be frozen: a child snapshot would capture "
                                   "nothing made consistent");
    }
    return true;
}

static void format_utc(ULONGLONG in_ms, char out[40])
{
    FILETIME now;
    ULARGE_INTEGER t;
    SYSTEMTIME st;

    GetSystemTimeAsFileTime(&now);
    t.LowPart = now.dwLowDateTime;
    t.HighPart = now.dwHighDateTime;
    t.QuadPart += in_ms * 10000;
    now.dwLowDateTime = t.LowPart;
    now.dwHighDateTime = t.HighPart;
    FileTimeToSystemTime(&now, &st);
    snprintf(out, 40, "%04u-%02u-%02uT%02u:%02u:%02u.%06luZ", st.wYear, st.wMonth, st.wDay,
             st.wHour, st.wMinute, st.wSecond, (unsigned long)((t.QuadPart / 10) % 1000000));
}

/* Freezes the given volumes of report as a new session. */
static bool engine_begin(WinEngine *engine, const WinEligibility *report, const size_t *which,
                         size_t n, int channel, VssFailure *failure)
{
    const WinVolume *volumes[WIN_VOLUME_MAX] = { 0 };
    GUID set_id;
    WinSession *s = &engine->session;

    for (size_t i = 0; i < n; i++) {
        volumes[i] = &report->system.volumes[which[i]];
    }
    engine->held = vss_freeze_begin(engine->factory, engine->config.full_backup, volumes, n,
                                    &set_id, failure);
    if (!engine->held) {
        return false;
    }
    memset(s, 0, sizeof(*s));
    vss_guid_format(&set_id, s->id);
    for (size_t i = 0; i < n; i++) {
        snprintf(s->frozen[i], sizeof(s->frozen[i]), "%s", win_volume_label(volumes[i]));
    }
    s->n_frozen = n;
    s->channel = channel;
    s->prepared = channel >= 0;
    s->frozen_tick = GetTickCount64();
    s->deadline_tick = s->frozen_tick + win_engine_window_seconds(engine) * 1000ULL;
    format_utc(win_engine_window_seconds(engine) * 1000ULL, s->deadline);
    engine->host_lost_tick = 0;
    engine->has_ended = false; /* a new freeze forgets the last ended session */
    win_log(engine->log, WIN_LOG_INFO, "session %s: %zu volume(s) frozen", s->id, n);
    return true;
}

bool win_engine_prepare(WinEngine *engine, int channel, WinEligibility *report, bool *child,
                        VssFailure *failure, ProtoError **error)
{
    *child = false;
    if (engine->held) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                        "snapshot session %s is already active", engine->session.id);
        return false;
    }
    if (!win_engine_verdict(engine, report, error)) {
        return false;
    }
    engine->has_ended = false;
    if (report->n_reasons > 0) {
        failure->code = NULL;
        return true;
    }
    *child = engine_begin(engine, report, report->freeze, report->n_freeze, channel, failure);
    return true;
}

/* Ends the held session; true when its snapshot is good. */
static bool engine_end(WinEngine *engine, bool abort, unsigned *thawed, int64_t *frozen_ms,
                       char *message, size_t size)
{
    bool ok = vss_freeze_end(engine->held, abort, message, size);

    engine->held = NULL;
    *thawed = (unsigned)engine->session.n_frozen;
    *frozen_ms = (int64_t)(GetTickCount64() - engine->session.frozen_tick);
    return ok;
}

static void engine_set_ended(WinEngine *engine, WinEndKind end, const char *why)
{
    char when[40];

    format_utc(0, when);
    engine->has_ended = true;
    engine->ended.end = end;
    snprintf(engine->ended.id, sizeof(engine->ended.id), "%s", engine->session.id);
    snprintf(engine->ended.message, sizeof(engine->ended.message),
             "snapshot session %s is invalid: %s and the agent thawed %zu volume(s) at %s, so "
             "the snapshot must be discarded",
             engine->session.id, why, engine->session.n_frozen, when);
    win_log(engine->log, WIN_LOG_WARNING, "%s", engine->ended.message);
}

/* The agent ends the session on its own (window, host lost, VSS). */
static void engine_expire(WinEngine *engine, WinEndKind end, const char *why)
{
    unsigned thawed;
    int64_t ms;
    char message[400];

    engine_end(engine, true, &thawed, &ms, message, sizeof(message));
    engine_set_ended(engine, end, why);
}

static bool session_unknown(WinEngine *engine, const char *id, ProtoError **error)
{
    proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "no snapshot session %s is active%s%s",
                    id ? id : "", engine->held ? "; the active one is " : "",
                    engine->held ? engine->session.id : "");
    return false;
}

bool win_engine_post(WinEngine *engine, const char *id, unsigned *thawed, int64_t *frozen_ms,
                     char *warning, size_t warning_size, ProtoError **error)
{
    char message[400];

    warning[0] = '\0';
    win_engine_tick(engine); /* a hold VSS already ended is reported, not posted */
    if (engine->has_ended && strcmp(engine->ended.id, id) == 0) {
        proto_error_set_literal(error, PROTO_ERROR_CLASS_GENERIC_ERROR, engine->ended.message);
        engine->has_ended = false; /* once */
        return false;
    }
    if (!engine->held || strcmp(engine->session.id, id) != 0) {
        return session_unknown(engine, id, error);
    }
    if (!engine_end(engine, false, thawed, frozen_ms, message, sizeof(message))) {
        engine_set_ended(engine, WIN_END_VSS, message);
        proto_error_set_literal(error, PROTO_ERROR_CLASS_GENERIC_ERROR, engine->ended.message);
        engine->has_ended = false;
        return false;
    }
    snprintf(warning, warning_size, "%s", message);
    win_log(engine->log, WIN_LOG_INFO, "post: session %s, %u volume(s) after %lld ms", id,
            *thawed, (long long)*frozen_ms);
    return true;
}

bool win_engine_abort(WinEngine *engine, const char *id, unsigned *thawed, int64_t *frozen_ms,
                      ProtoError **error)
{
    char message[400];

    *thawed = 0;
    *frozen_ms = 0;
    if (id && engine->has_ended && strcmp(engine->ended.id, id) == 0) {
        engine->has_ended = false;
        return true;
    }
    if (!engine->held) {
        return id ? session_unknown(engine, id, error) : true;
    }
    if (id && strcmp(engine->session.id, id) != 0) {
        return session_unknown(engine, id, error);
    }
    engine_end(engine, true, thawed, frozen_ms, message, sizeof(message));
    win_log(engine->log, WIN_LOG_INFO, "abort: session %s", engine->session.id);
    return true;
}

DWORD win_engine_tick(WinEngine *engine)
{
    ULONGLONG now = GetTickCount64();
    ULONGLONG next;
    char why[160];

    if (!engine->held) {
        return INFINITE;
    }
    if (vss_freeze_lost(engine->held)) {
        snprintf(why, sizeof(why), "VSS ended the hold of writes on its own (it allows %d s)",
                 VSS_HOLD_LIMIT_MS / 1000);
        engine_expire(engine, WIN_END_VSS, why);
        return INFINITE;
    }
    if (now >= engine->session.deadline_tick) {
        snprintf(why, sizeof(why), "the freeze window of %u s expired",
                 win_engine_window_seconds(engine));
        engine_expire(engine, WIN_END_EXPIRED, why);
        return INFINITE;
    }
    if (engine->host_lost_tick &&
        now >= engine->host_lost_tick + engine->config.host_lost_grace * 1000ULL) {
        snprintf(why, sizeof(why),
                 "the host that prepared it disconnected and did not come back within %u s",
                 engine->config.host_lost_grace);
        engine_expire(engine, WIN_END_HOST_LOST, why);
        return INFINITE;
    }
    next = engine->session.deadline_tick - now;
    /* VSS may give up at any time: look again soon. */
    return next < 100 ? (DWORD)next : 100;
}

void win_engine_host_lost(WinEngine *engine, int channel)
{
    if (engine->held && engine->session.channel == channel && engine->config.host_lost_grace &&
        !engine->host_lost_tick) {
        engine->host_lost_tick = GetTickCount64();
    }
}

void win_engine_host_back(WinEngine *engine, int channel)
{
    if (engine->held && engine->session.channel == channel) {
        engine->host_lost_tick = 0;
    }
}

static bool volume_matches(const WinVolume *v, const char *want)
{
    size_t len = strlen(want);

    /* "C:" names "C:\\" as qemu-ga accepts both; case does not matter. */
    while (len > 0 && want[len - 1] == '\\') {
        len--;
    }
    if (strlen(v->name) == len + 1 && _strnicmp(v->name, want, len) == 0) {
        return true;
    }
    for (size_t i = 0; i < v->n_paths; i++) {
        if (strlen(v->paths[i]) == len + 1 && _strnicmp(v->paths[i], want, len) == 0) {
            return true;
        }
    }
    return false;
}

static void eligibility_freep(WinEligibility **report)
{
    free(*report);
}

bool win_engine_freeze(WinEngine *engine, const char *const *volumes, size_t n, unsigned *count,
                       ProtoError **error)
{
    __attribute__((cleanup(eligibility_freep))) WinEligibility *report =
        proto_xcalloc(1, sizeof(*report));
    size_t which[WIN_VOLUME_MAX];
    size_t n_which = 0;
    VssFailure failure;

    *count = 0;
    if (!win_engine_check(engine, report, error)) {
        return false;
    }
    if (!volumes) {
        memcpy(which, report->freeze, report->n_freeze * sizeof(which[0]));
        n_which = report->n_freeze;
    }
    for (size_t i = 0; volumes && i < n; i++) {
        size_t j = 0;
        while (j < report->system.n_volumes &&
               !volume_matches(&report->system.volumes[j], volumes[i])) {
            j++;
        }
        /* qemu-ga skips a name it cannot freeze; a backup that silently
         * lacks a volume looks whole, so this is an error (docs/protocol.md). */
        if (j == report->system.n_volumes || report->volumes[j].verdict != WIN_VERDICT_FREEZE) {
            proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR,
                            "%s is not a volume that can be frozen%s%s", volumes[i],
                            j < report->system.n_volumes ? ": " : "",
                            j < report->system.n_volumes ? report->volumes[j].reason : "");
            return false;
        }
        which[n_which++] = j;
    }
    engine->has_ended = false;
    if (n_which == 0) {
        return true;
    }
    if (!engine_begin(engine, report, which, n_which, -1, &failure)) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "%s", failure.message);
        return false;
    }
    *count = (unsigned)n_which;
    return true;
}

bool win_engine_thaw(WinEngine *engine, unsigned *count, ProtoError **error)
{
    char message[400];
    int64_t ms;
    bool prepared;

    *count = 0;
    win_engine_tick(engine);
    if (!engine->held) {
        if (engine->has_ended) {
            proto_error_set_literal(error, PROTO_ERROR_CLASS_GENERIC_ERROR, engine->ended.message);
            engine->has_ended = false;
            return false;
        }
        return true;
    }
    prepared = engine->session.prepared;
    if (!engine_end(engine, false, count, &ms, message, sizeof(message))) {
        proto_error_set(error, PROTO_ERROR_CLASS_GENERIC_ERROR, "couldn't hold writes: %s",
                        message);
        return false;
    }
    if (prepared) {
        engine_set_ended(engine, WIN_END_THAWED, "guest-fsfreeze-thaw thawed it before its post");
    }
    return true;
}
