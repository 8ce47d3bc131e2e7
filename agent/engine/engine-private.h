/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine-private.h — the Engine's state, shared by the files of
 * agent/engine/. Nothing outside this folder includes it.
 *
 * The layers inside the folder call one way:
 *   engine.c          the public operations (recovery, freeze/thaw,
 *                     prepare/post/abort, shutdown); calls the two below
 *   engine-probe.c    what is learned before a session: inventory, running
 *                     state, writers' trust, the eligibility verdict
 *   engine-session.c  one session's life: writers, freeze, state file,
 *                     watchdog, host-lost grace, thaw, the ended record
 *   engine-recovery.c what a previous run may have left frozen: the thaw at
 *                     start, its retries, the sweep of guest-fsfreeze-thaw
 *   engine-inventory.c the inventory kept between requests (engine-probe.c
 *                     asks it), reused only while nothing it read changed
 * engine-probe.c, engine-session.c and engine-recovery.c never call engine.c
 * or each other (engine.c hands recovery what the probe found).
 * engine-config.c holds the configuration and its lock (public API only).
 */
#ifndef QUIESCE_AGENT_ENGINE_PRIVATE_H
#define QUIESCE_AGENT_ENGINE_PRIVATE_H

#include "agent/engine/engine.h"
#include "fsfreeze/frozen-state.h"
#include "fsfreeze/thread-nice.h"

/* The main thread's nice during an urgent operation (engine.c). */
#define ENGINE_URGENT_NICE (-20)

/* Whether a freeze raises threads and kernel knobs ([freeze]
 * flush-priority): not for a synthetic machine (the fuzzers, the tests'
 * ops), whose threads are not the ones a real freeze waits on. */
static inline gboolean engine_flush_priority(const EngineConfig *config)
{
    return config->flush_priority && !config->ops;
}

struct Engine {
    EngineConfig *config;
    EngineInventoryCache *inventory_cache; /* config->inventory, or its own */
    gint64 probe_us;      /* the last probe's duration, for the timing line */
    gboolean probe_cached; /* ... and whether it reused the inventory */
    Writers *writers;         /* NULL: no writers */
    gboolean writers_frozen;  /* the session's writers got "freeze" */
    const char *failure_code; /* static; why the last prepare fell back */
    EngineFrozenChanged frozen_changed;
    EngineSessionChanged session_changed;
    gpointer user_data; /* for both */
    EngineIdle idle;      /* told when an operation ends, or NULL */
    EngineBusy busy;      /* busy.operation NULL when no operation is in flight */
    ThreadNice urgent;    /* the main thread raised for busy.operation */
    gboolean holding;     /* between frozen_changed(TRUE) and (FALSE): the state
                           * file says frozen while writers and FIFREEZE run */
    EngineSession *starting; /* the session being started (borrowed), or NULL */
    EngineSession *session; /* active session, or NULL */
    FsFrozenSet *frozen;    /* what the session froze; NULL when nothing */
    EngineEnded *ended;     /* last session that ended without the host */
    guint watchdog;
    guint host_lost; /* grace timer after engine_host_lost(), or 0 */
    EngineEnd expiring;   /* while a failed thaw of engine_expire() is retried: */
    char *expiring_why;   /* owned; the cause, for the message once it thaws */
    FrozenStateBroken *recovery; /* what a previous run left that is not thawed
                                  * yet (pending non-empty), or NULL */
    guint recovery_timer;        /* retries recovery every second, or 0 */
    gboolean froze;              /* this run has frozen something itself */
    char *end_warning;           /* owned; what went wrong at the last session's
                                  * end without invalidating it, or NULL */
};

typedef enum {
    ENGINE_END_MODE_POST,  /* the host's post: writers get "thaw"; a filesystem
                            * someone else thawed fails it (not consistent) */
    ENGINE_END_MODE_THAW,  /* qemu-ga's guest-fsfreeze-thaw: like post, but such a
                            * filesystem only counts as not thawed, as in qemu-ga */
    ENGINE_END_MODE_ABORT, /* abort, window expired, agent stopping: "freeze-fail" */
} EngineEndMode;

/* The active session only holds what a failed start could not thaw (the
 * host was told to fall back): failure_code is reset at every start. */
static inline gboolean engine_rollback_failed(const Engine *engine)
{
    return engine->session && g_strcmp0(engine->failure_code, ENGINE_REASON_ROLLBACK_FAILED) == 0;
}

/* with_state: the snapshot verdict — ask the running-state command and
 * block with nothing-to-freeze when the snapshot set is empty
 * (guest-fsfreeze-freeze does neither: it makes no verdict). cache: NULL = probe everything
 * now; out_cached (optional): whether the cached inventory was reused.
 * (transfer full) */
EligibilityReport *engine_probe(const EngineConfig *config, Writers *writers,
                                EngineInventoryCache *cache, gboolean with_state,
                                gboolean *out_cached, GError **error);

/* The inventory: the kept one when the mount table is byte for byte the
 * same and no block uevent came since, else a fresh probe (kept for next
 * time). (transfer full) */
Inventory *engine_inventory_get(EngineInventoryCache *cache, gboolean *out_cached,
                                GError **error);
void engine_inventory_invalidate(EngineInventoryCache *cache);

/* Every filesystem, in the confinement, that a previous run could have
 * frozen: local, writable, of a freezable type, in freeze order; covered
 * ones included. cache: the inventory kept between requests (reused on the
 * same terms as a freeze's), or NULL = probe everything now.
 * (transfer full) */
GPtrArray *engine_probe_recovery_targets(const EngineConfig *config,
                                         EngineInventoryCache *cache, GError **error);

/* Restart recovery (frozen_state_recover()); keeps what could not be
 * thawed for the retries. Returns: (transfer full) the broken record, or
 * NULL when nothing was left frozen. */
FrozenStateBroken *engine_recovery_start(Engine *engine, GPtrArray *sweep, GError **error);
/* Retries what recovery could not thaw; no-op when nothing is pending. */
void engine_recovery_retry(Engine *engine);
gboolean engine_recovery_pending(const Engine *engine);
/* What is still pending, for messages. (transfer full) */
char *engine_recovery_describe(const Engine *engine);
/* FITHAW over sweep (guest-fsfreeze-thaw after a restart, as qemu-ga's).
 * Returns how many were thawed; FALSE when one failed (*error says which). */
gboolean engine_recovery_sweep(Engine *engine, GPtrArray *sweep, guint *thawed, GError **error);
void engine_recovery_free(Engine *engine);

void engine_session_free(EngineSession *session);
void engine_ended_free(EngineEnded *ended);
/* Records a session that ended without the host (message: transfer full). */
void engine_set_ended(Engine *engine, EngineEnd end, const char *session_id, char *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EngineSession, engine_session_free)

/*
 * Starts a session over targets (freeze order): writers' prepare and freeze
 * (when with_writers), then the filesystems. All or nothing: on failure no
 * writer and no filesystem stays frozen (unless even the rollback failed:
 * then the session stays active with what is left so thaw, the watchdog or
 * a restart can retry) and engine->failure_code says whether a writer or a
 * freeze failed.
 */
gboolean engine_session_start(Engine *engine, GPtrArray *targets, gboolean with_writers,
                              GError **error);
/*
 * Ends the active session: thaws the filesystems (reverse order), then the
 * writers, then (post only) "post-snapshot". On a failed filesystem thaw the
 * session stays active with what could not be thawed (the watchdog retries).
 * A writer failure, a socket writer lost in the window or (post) a
 * filesystem someone else thawed ends the session but fails the call: the
 * snapshot must be discarded.
 */
gboolean engine_session_end(Engine *engine, EngineEndMode mode, guint *thawed, GError **error);

#endif
