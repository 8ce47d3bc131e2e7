/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.h — the Windows freeze engine: at most one session (a snapshot
 * set held by VSS and our provider), its window, the host-lost grace, and
 * the record of a session the agent had to end on its own (docs/design.md
 * §4, the same rules as Linux). Commands call it; it calls vss-freeze.c
 * and volumes.c; it never sees JSON.
 */
#ifndef QUIESCE_ENGINE_H
#define QUIESCE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <windows.h>

#include "windows/volumes.h"
#include "windows/vss-backend.h"
#include "windows/vss-freeze.h"
#include "windows/win-log.h"

typedef struct {
    unsigned window_seconds;  /* 1-600; the hold is further bounded by VSS */
    unsigned host_lost_grace; /* seconds, 0 leaves it to the window */
    bool full_backup;         /* VSS_BT_FULL instead of copy-only */
    WinPolicy policy;         /* --strict, --allow-dynamic */
} WinEngineConfig;

typedef enum {
    WIN_END_EXPIRED,
    WIN_END_HOST_LOST,
    WIN_END_THAWED,
    WIN_END_VSS, /* VSS or the provider let go first ("expired" on the wire) */
} WinEndKind;

typedef struct {
    char id[37];
    char frozen[WIN_VOLUME_MAX][260]; /* labels in set order */
    size_t n_frozen;
    ULONGLONG frozen_tick, deadline_tick;
    char deadline[40]; /* ISO 8601 UTC */
    int channel;       /* the preparing host's channel, -1 when not bound */
    bool prepared;     /* by guest-snapshot-prepare, not guest-fsfreeze-freeze */
} WinSession;

typedef struct {
    char id[37];
    WinEndKind end;
    char message[512];
} WinEnded;

typedef struct WinEngine WinEngine;

/* probe and factory are borrowed; log is borrowed. */
WinEngine *win_engine_new(const WinEngineConfig *config, WinProbe probe,
                          VssBackendFactory factory, WinLog *log);
/* Ends an active session first (the service's stop: thaw before exit). */
void win_engine_free(WinEngine *engine);

/* The window a session gets: the configured one, bounded by VSS's hold. */
unsigned win_engine_window_seconds(const WinEngine *engine);
/* Every volume classified, without a verdict on the whole (fsinfo, freeze). */
bool win_engine_check(WinEngine *engine, WinEligibility *out, ProtoError **error);
/* The snapshot verdict (check, prepare): as win_engine_check, plus the
 * reason nothing-to-freeze when nothing else blocks and no volume would be
 * frozen. */
bool win_engine_verdict(WinEngine *engine, WinEligibility *out, ProtoError **error);

/* A prepare: true with *child set (the session is active), or with
 * *child false and *failure set when only a fallback is possible (the
 * eligibility reasons are in *report then). false: the agent's own error. */
bool win_engine_prepare(WinEngine *engine, int channel, WinEligibility *report, bool *child,
                        VssFailure *failure, ProtoError **error);
/* id NULL for abort means the active one. *frozen_ms is how long it held. */
bool win_engine_post(WinEngine *engine, const char *id, unsigned *thawed, int64_t *frozen_ms,
                     char *warning, size_t warning_size, ProtoError **error);
bool win_engine_abort(WinEngine *engine, const char *id, unsigned *thawed, int64_t *frozen_ms,
                      ProtoError **error);

/* qemu-ga's freeze family: volumes NULL freezes every eligible volume;
 * else each is a volume name or a mount path. */
bool win_engine_freeze(WinEngine *engine, const char *const *volumes, size_t n, unsigned *count,
                       ProtoError **error);
bool win_engine_thaw(WinEngine *engine, unsigned *count, ProtoError **error);

bool win_engine_is_frozen(const WinEngine *engine);
const WinSession *win_engine_session(const WinEngine *engine);
const WinEnded *win_engine_ended(const WinEngine *engine);
const char *win_end_name(WinEndKind end);

/* The loop's part: ends a session whose window, grace or hold is over;
 * returns the milliseconds until it wants to run again (INFINITE: never). */
DWORD win_engine_tick(WinEngine *engine);
void win_engine_host_lost(WinEngine *engine, int channel);
void win_engine_host_back(WinEngine *engine, int channel);

#endif
