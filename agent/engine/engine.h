/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.h — the one freeze engine behind every channel: eligibility, the
 * snapshot session, freeze and thaw, the persisted frozen state and the
 * watchdog. The QGA commands (guest-fsfreeze-*, guest-snapshot-*), the
 * hv_vss channel and the tests all call it; it knows no JSON.
 *
 * A session is the Hyper-V snapshot set: an id (a UUID), the filesystems it
 * froze (its frozen set) and a deadline. At most one is active. It ends by
 * post/thaw/abort, by the watchdog when the window expires, or by the agent
 * stopping; a session that ended without the host's post is remembered so
 * the host's late post/thaw gets an error saying the snapshot is invalid.
 */
#ifndef QUIESCE_AGENT_ENGINE_H
#define QUIESCE_AGENT_ENGINE_H

#include <glib.h>

#include "agent/writers/writers.h"
#include "fsfreeze/eligibility.h"
#include "fsfreeze/freezer.h"

#define ENGINE_DEFAULT_STATE_DIR "/run/quiesce"
#define ENGINE_DEFAULT_WINDOW_SECONDS 60 /* Windows VSS's writer window */
#define ENGINE_DEFAULT_HOST_LOST_GRACE_SECONDS 10
#define ENGINE_DEFAULT_RUNNING_STATE_COMMAND "systemctl is-system-running"
#define ENGINE_RUNNING_STATE_TIMEOUT_MS 5000 /* then the state is "unknown" */
/* The syncfs() pass before the first FIFREEZE (freezer.h presync_timeout_us):
 * a filesystem still flushing after this long fails the freeze with nothing
 * frozen, rather than hang its FIFREEZE with the others frozen. */
#define ENGINE_PRESYNC_TIMEOUT_MS 10000
/* A confined agent's stand-in for the machine's root, for what lies
 * outside the confinement: the guest-control commands' paths
 * (agent/commands/control-system.h) and the RCU knob. Tests only. */
#define ENGINE_TEST_SYSTEM_ROOT_ENV "QUIESCE_TEST_SYSTEM_ROOT"

/* The inventory kept between requests (engine-inventory.c). */
typedef struct EngineInventoryCache EngineInventoryCache;

typedef struct {
    char *state_dir;             /* owned */
    int state_lock_fd;           /* owned; -1 until engine_config_lock() */
    guint window_seconds;        /* 0 = no watchdog (tests only: the
                                  * configuration allows 1 to 600 s) */
    guint host_lost_grace_seconds; /* engine_host_lost(); 0 = the window only */
    EligibilityPolicy *policy;   /* owned */
    char *running_state_command; /* owned; "" = do not ask (no systemd) */
    const FsFreezeOps *ops;      /* NULL = the real ioctls and this machine's
                                  * mounts; set by tests only (freezer.h) */
    WritersConfig writers;       /* owned: script directories, socket, timeouts */
    /* NULL = the engine keeps its own. Tests only (the fuzzers make an
     * engine per input): one kept by the caller and shared by engines made
     * one after another over the same mounts (borrowed; made with
     * engine_inventory_cache_new() from an equal configuration). */
    EngineInventoryCache *inventory;
    /* Expedite RCU grace periods around the FIFREEZE calls
     * (fsfreeze/kernel-knob.h; [freeze] expedite-rcu, default TRUE). */
    gboolean expedite_rcu;
    /* The freeze ahead of the applications: the agent's flushing threads
     * and the kernel's flusher threads at nice -20 for the pre-sync and
     * the FIFREEZE calls (fsfreeze/kernel-knob.h), and the agent's main
     * thread for the freeze, thaw and session operations
     * (fsfreeze/thread-nice.h; [freeze] flush-priority, default TRUE). */
    gboolean flush_priority;
} EngineConfig;

/* The kept inventory of the mounts config reads
 * (engine_config_inventory_options()), reused only while the mount table
 * is byte for byte the same and no block uevent came since: opens the
 * uevent socket. */
EngineInventoryCache *engine_inventory_cache_new(const EngineConfig *config);
void engine_inventory_cache_free(EngineInventoryCache *cache);

/* Saved-state reason codes the engine adds to the eligibility report's. */
#define ENGINE_REASON_WRITER_FAILED "writer-failed"
#define ENGINE_REASON_FREEZE_FAILED "freeze-failed"
/* a freeze failed and so did thawing what it had frozen: some filesystems
 * stay frozen until the watchdog's retries thaw them */
#define ENGINE_REASON_ROLLBACK_FAILED "rollback-failed"
/* nothing in the snapshot set (empty confinement, every mount excluded):
 * a child snapshot would capture nothing consistent on purpose */
#define ENGINE_REASON_NOTHING_TO_FREEZE "nothing-to-freeze"

/* Defaults as above. (transfer full) */
EngineConfig *engine_config_new(void);
/* Where the engine (and guest-get-fsinfo) reads mounts and devices: this
 * machine, or the tests' tree of ops->mount_root. (transfer full) */
InventoryOptions *engine_config_inventory_options(const EngineConfig *config);
void engine_config_free(EngineConfig *config);
/*
 * Where the kernel file at @path (RCU_EXPEDITE_KNOB, WRITEBACK_NICE_KNOB,
 * KERNEL_MEMINFO) is for this configuration, whether or not the option that sets it is on:
 * @path itself; for a confined agent (which touches nothing of the machine
 * outside its directory) the one below $ENGINE_TEST_SYSTEM_ROOT_ENV, or NULL
 * without it; NULL with test ops. (transfer full)
 */
char *engine_config_system_knob(const EngineConfig *config, const char *path);
/*
 * Takes the state directory's lock (flock on STATE_DIR/lock, created with
 * the directory when missing), held until the config is freed: one agent per
 * state directory, or a second one would thaw what the first froze and take
 * over its sockets. Call before anything opens a socket. Waits up to
 * ENGINE_STATE_LOCK_WAIT_MS for a predecessor that is still exiting, then
 * fails with QUIESCE_ERROR_BUSY.
 */
gboolean engine_config_lock(EngineConfig *config, GError **error);
/* The longest one request may keep the main loop busy with this
 * configuration (a prepare with writers that use all their time), in µs:
 * a service watchdog must allow at least this. */
guint64 engine_config_longest_busy_usec(const EngineConfig *config);
#define ENGINE_STATE_LOCK_NAME "lock"
#define ENGINE_STATE_LOCK_WAIT_MS 3000
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EngineConfig, engine_config_free)

/* Told when filesystems become frozen and when the last is thawed, so the
 * owner can hold log lines in memory meanwhile (nothing may be written to
 * disk inside the window, docs/design.md §7). */
typedef void (*EngineFrozenChanged)(gboolean frozen, gpointer user_data);
/* Told the session's id (transfer none) when a session begins — before its
 * writers' prepare — and NULL when it is gone (ended, or its start failed),
 * so the owner can say which session a log line belongs to. */
typedef void (*EngineSessionChanged)(const char *session_id, gpointer user_data);

typedef enum {
    ENGINE_END_NONE,     /* no session has ended on its own */
    ENGINE_END_EXPIRED,  /* the watchdog thawed at the deadline */
    ENGINE_END_BROKEN,   /* the agent restarted (or stopped) while frozen */
    ENGINE_END_HOST_LOST, /* the host that prepared it left and did not come back */
    ENGINE_END_THAWED,    /* guest-fsfreeze-thaw ended a prepared session before post */
} EngineEnd;

typedef struct {
    char *id;             /* owned UUID */
    GPtrArray *frozen;    /* owned char *: mountpoints in freeze order */
    gint64 started_mono;  /* g_get_monotonic_time() at the start (before writers) */
    gint64 frozen_mono;   /* ... as the first FIFREEZE began; 0 until then */
    gint64 deadline_mono; /* 0 = no deadline */
    gint64 deadline_real; /* wall clock µs, 0 = none */
    gboolean prepared;    /* started by engine_prepare(): the host will post it */
} EngineSession;

typedef struct {
    EngineEnd end;
    char *session_id; /* owned; "" when unknown (a damaged state file): any
                       * post that names no active session gets the message */
    char *message;    /* owned, for people */
} EngineEnded;

/* The operation in flight (docs/protocol.md, "While a freeze operation
 * runs"): its long waits (writers, the freezer) let the main loop answer
 * other requests meanwhile (common/wait-pump.h), so the engine can be asked
 * for its state while it runs one. */
typedef struct {
    const char *operation;  /* "check", "freeze", "thaw", "prepare", "post",
                             * "abort"; NULL when none */
    const char *session_id; /* the session it starts or ends, or NULL */
    gint64 since_mono;      /* g_get_monotonic_time() at its start */
} EngineBusy;
/* Told (user_data as engine_new()'s) each time an operation ends, so the
 * owner can serve the requests that waited for it. */
typedef void (*EngineIdle)(gpointer user_data);

typedef struct Engine Engine;

/*
 * Takes config and writers (both transfer full; writers may be NULL: no
 * writers). Recovers first: a state file left by an agent that died while
 * frozen is thawed at once and its session recorded as broken; then every
 * script writer gets freeze-fail (writers_release_orphaned()). A failed
 * recovery is logged by the caller from *recovery_error (may be NULL) and
 * does not stop the engine.
 */
Engine *engine_new(EngineConfig *config, Writers *writers, EngineFrozenChanged frozen_changed,
                   gpointer user_data, GError **recovery_error);
void engine_free(Engine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Engine, engine_free)
/* NULL for none (the default); user_data as engine_new()'s. */
void engine_set_session_changed(Engine *engine, EngineSessionChanged session_changed);

void engine_set_idle(Engine *engine, EngineIdle idle);
/* The operation in flight, or NULL. While one runs, every operation below
 * that starts or ends a freeze (and engine_check()) fails at once with
 * QUIESCE_ERROR_BUSY: the owner makes such requests wait instead; the
 * timers (window, host-lost grace, recovery) wait for it to end, and
 * engine_retry_recovery() and engine_flush_logs() do nothing. */
const EngineBusy *engine_get_busy(const Engine *engine);

const EngineConfig *engine_get_config(const Engine *engine);
/* The inventory of the mounts the engine reads (engine_config_inventory_options()):
 * the one kept between requests while the mount table is byte for byte the same
 * and no block uevent came since, else a fresh probe, kept for next time
 * (engine-inventory.c). What guest-get-fsinfo lists. (transfer full) */
Inventory *engine_get_inventory(Engine *engine, GError **error);
/* TRUE while a session holds at least one frozen filesystem, or while
 * something a previous run froze could not be thawed yet (recovery retries
 * it every second and before every command); also from the moment a freeze
 * or prepare wrote its state file (its writers freeze, then the
 * filesystems) until its thaw has ended. The engine does not probe
 * the kernel: it knows what it froze, and each FITHAW tells it whether a
 * filesystem was frozen (0) or not (EINVAL). */
gboolean engine_is_frozen(const Engine *engine);
/* Retries what recovery could not thaw yet; the agent calls it before each
 * request. */
void engine_retry_recovery(Engine *engine);
/* What went wrong at the last session's end without making the snapshot
 * invalid (the state file could not be removed), or NULL. (transfer none) */
const char *engine_get_end_warning(const Engine *engine);
/* The active session, or NULL. (transfer none) */
const EngineSession *engine_get_session(const Engine *engine);
/* The last session that ended without the host, or NULL. (transfer none) */
const EngineEnded *engine_get_ended(const Engine *engine);
/* Mountpoints frozen right now, in freeze order; empty when none.
 * (transfer full) */
GStrv engine_dup_frozen(const Engine *engine);

/* Probes mounts and devices and evaluates eligibility; no side effects.
 * Refused (QUIESCE_ERROR_STATE) while anything is frozen: the probe and the
 * running-state command must not run inside the window. (transfer full) */
EligibilityReport *engine_check(Engine *engine, GError **error);
/* The same without an engine (quiesced --check must not recover or thaw
 * what a running agent froze); writers (may be NULL) for the trust check of
 * their scripts. (transfer full) */
EligibilityReport *engine_config_check(const EngineConfig *config, Writers *writers,
                                       GError **error);

/*
 * qemu-ga's guest-fsfreeze-freeze(-list): freezes every freezable filesystem
 * (or those whose mountpoint or alias is in mountpoints) in dependency order;
 * no eligibility verdicts. *count is how many were frozen; 0 leaves the
 * engine thawed. A path that is not a freezable mounted filesystem is an
 * error (qemu-ga ignores it silently, which freezes less than asked).
 */
gboolean engine_freeze(Engine *engine, const char *const *mountpoints, guint *count,
                       GError **error);
/* qemu-ga's guest-fsfreeze-thaw: thaws the active session; *count = 0 when
 * none. With no session, until this run froze anything itself, it also
 * issues FITHAW on every filesystem a previous run could have frozen, as
 * qemu-ga's thaw does. Fails (once) when the last session ended without
 * the host, so a host learns its snapshot was not consistent, and while
 * recovery still cannot thaw something. Ending a prepared session records
 * it (ENGINE_END_THAWED) so the host's post learns to discard. */
gboolean engine_thaw(Engine *engine, guint *count, GError **error);

/*
 * PrepareForSnapshot: writers' prepare and freeze, then the filesystems. On
 * child-snapshot returns TRUE with the session active (*out_report says what
 * is excluded). On saved-state returns TRUE with no session, no writer and
 * no filesystem frozen; *out_report holds the reasons, and *out_failure
 * (transfer full) the failure if a writer or a freeze is what stood in the
 * way (engine_get_failure_code() says which). FALSE only when the guest
 * could not even be probed.
 */
gboolean engine_prepare(Engine *engine, EligibilityReport **out_report, GError **out_failure,
                        GError **error);
/* ENGINE_REASON_WRITER_FAILED, ENGINE_REASON_FREEZE_FAILED or
 * ENGINE_REASON_ROLLBACK_FAILED for the last prepare's *out_failure, else
 * NULL. After ROLLBACK_FAILED engine_dup_frozen() says what stays frozen. */
const char *engine_get_failure_code(const Engine *engine);

/* PostSnapshot: thaws the filesystems, then the writers (each gets "thaw";
 * all run; failures reported together), then "post-snapshot" to socket
 * writers. Fails when the session ended on its own (window expired, agent
 * restarted) or a socket writer left inside the window: the snapshot must
 * then be discarded. abort: the same, but writers get "freeze-fail". */
gboolean engine_post(Engine *engine, const char *session_id, guint *thawed, GError **error);
gboolean engine_abort(Engine *engine, const char *session_id, guint *thawed, GError **error);

/*
 * docs/design.md §4: the host that prepared session_id is gone (its channel closed).
 * Unless engine_host_back() comes within host_lost_grace_seconds (a host
 * may reconnect per command), the session ends as at the deadline: thawed,
 * remembered as ENGINE_END_HOST_LOST so a late post fails. No-op when that
 * session is not the active one, or with a grace of 0.
 */
void engine_host_lost(Engine *engine, const char *session_id);
void engine_host_back(Engine *engine, const char *session_id);

/* Writes the writers' held log lines (registrations, refusals) when nothing
 * is frozen; a no-op while frozen. Called after every reply. */
void engine_flush_logs(Engine *engine);

/* The agent is stopping: thaw whatever is frozen (recorded as broken). */
void engine_shutdown(Engine *engine);

#endif
