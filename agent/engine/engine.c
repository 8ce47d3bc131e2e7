/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.c — the engine's public operations: recovery on start, the QGA
 * freeze/thaw requests and the session requests (prepare, post, abort). They
 * decide what to freeze — everything is probed (engine-probe.c) before a
 * session starts (docs/design.md §7) — and hand it to engine-session.c, which runs
 * one session's life. Calls go one way: this file calls engine-probe.c and
 * engine-session.c; neither calls back into it.
 */
#include "agent/engine/engine-private.h"

#include "common/quiesce-error.h"
#include "fsfreeze/frozen-state.h"
#include "fsfreeze/kernel-knob.h"

/* The script writers of a session the previous run left behind get
 * freeze-fail once its filesystems are thawed (writers.h says why all of
 * them). @live: its state file, NULL when that could not be read. */
static void engine_release_orphaned_writers(Engine *engine, const FrozenState *live)
{
    g_autoptr(GPtrArray) mounts = g_ptr_array_new();
    WriterContext context = { 0 };

    if (!engine->writers) {
        return;
    }
    for (guint i = 0; live && i < live->targets->len; i++) {
        g_ptr_array_add(mounts, ((FreezeTarget *)g_ptr_array_index(live->targets, i))->mountpoint);
    }
    g_ptr_array_add(mounts, NULL);
    context.mountpoints = (const char *const *)mounts->pdata;
    context.session_id = live && *live->session_id ? live->session_id : NULL;
    writers_release_orphaned(engine->writers, &context);
    engine_flush_logs(engine);
}

/* A kernel knob a previous run set around its flush or its FIFREEZE calls
 * and did not live to put back (fsfreeze/kernel-knob.h): put back now,
 * even with the option that sets it turned off since. */
static void engine_recover_knob(Engine *engine, const char *path, const char *value,
                                const char *only_from, const char *record_name, const char *why)
{
    g_autofree char *knob = engine_config_system_knob(engine->config, path);
    g_autofree char *record = g_build_filename(engine->config->state_dir, record_name, NULL);
    g_autofree char *restored = NULL;
    g_autoptr(GError) error = NULL;

    if (!knob) {
        return;
    }
    if (!kernel_knob_recover(knob, value, only_from, record, &restored, &error)) {
        g_warning("recovery: %s", error->message);
    } else if (restored) {
        g_message("recovery: %s put back to %s; the agent's previous run had set it %s and "
                  "stopped before putting it back",
                  knob, restored, why);
    }
}

/* A previous run's state: thawed now, remembered as broken for the host's
 * late post; its writers released. The probe runs only when the state dir
 * says there is something to recover (and is needed only when the file
 * cannot be trusted). */
static void engine_recover(Engine *engine, GError **error)
{
    g_autoptr(FrozenStateBroken) broken = NULL;
    g_autoptr(GPtrArray) sweep = NULL;
    g_autoptr(GError) probe_error = NULL;
    g_autoptr(FrozenState) live = NULL;
    g_autofree char *pending = NULL;
    g_autofree char *who = NULL;
    gboolean orphans;

    engine_recover_knob(engine, RCU_EXPEDITE_KNOB, "1", "0", RCU_EXPEDITE_RECORD,
                        "for its FIFREEZE calls");
    engine_recover_knob(engine, WRITEBACK_NICE_KNOB, WRITEBACK_NICE_VALUE, NULL,
                        WRITEBACK_NICE_RECORD, "for its flush");
    if (!frozen_state_exists(engine->config->state_dir)) {
        return;
    }
    /* A live file (or one that cannot be read) is a session the previous
     * run did not end; a broken record was handled by an earlier start. */
    orphans = !frozen_state_read(engine->config->state_dir, &live, NULL) || live;
    sweep = engine_probe_recovery_targets(engine->config, engine->inventory_cache, &probe_error);
    if (!sweep) {
        g_warning("recovery: cannot list the filesystems to thaw: %s", probe_error->message);
    }
    broken = engine_recovery_start(engine, sweep, error);
    if (orphans) {
        engine_release_orphaned_writers(engine, live);
    }
    if (!broken) {
        return;
    }
    who = *broken->session_id ? g_strdup_printf("snapshot session %s", broken->session_id)
                              : g_strdup("the snapshot session that was active");
    pending = engine_recovery_describe(engine);
    engine_set_ended(engine, ENGINE_END_BROKEN, broken->session_id,
                     g_strdup_printf("%s is invalid: %s; the agent thawed %u filesystem(s) on "
                                     "restart%s%s, so the snapshot must be discarded",
                                     who, broken->reason, broken->thawed,
                                     *pending ? " and keeps retrying " : "", pending));
}

Engine *engine_new(EngineConfig *config, Writers *writers, EngineFrozenChanged frozen_changed,
                   gpointer user_data, GError **recovery_error)
{
    Engine *engine = g_new0(Engine, 1);

    engine->config = config;
    engine->writers = writers;
    engine->frozen_changed = frozen_changed;
    engine->user_data = user_data;
    engine->inventory_cache = config->inventory ? config->inventory
                                                : engine_inventory_cache_new(config);
    engine_recover(engine, recovery_error);
    return engine;
}

void engine_set_session_changed(Engine *engine, EngineSessionChanged session_changed)
{
    engine->session_changed = session_changed;
}

const EngineConfig *engine_get_config(const Engine *engine)
{
    return engine->config;
}

Inventory *engine_get_inventory(Engine *engine, GError **error)
{
    gboolean cached;

    return engine_inventory_get(engine->inventory_cache, &cached, error);
}

gboolean engine_is_frozen(const Engine *engine)
{
    return engine->holding || (engine->frozen && fs_frozen_set_get_length(engine->frozen) > 0) ||
           engine_recovery_pending(engine);
}

void engine_retry_recovery(Engine *engine)
{
    if (!engine->busy.operation) {
        engine_recovery_retry(engine);
    }
}

void engine_set_idle(Engine *engine, EngineIdle idle)
{
    engine->idle = idle;
}

const EngineBusy *engine_get_busy(const Engine *engine)
{
    return engine->busy.operation ? &engine->busy : NULL;
}

/* Marks operation in flight; FALSE with QUIESCE_ERROR_BUSY while another
 * one is (engine.h). @urgent: an operation the host or the applications
 * wait on (freeze, thaw and the session's), run with the main thread
 * raised to ENGINE_URGENT_NICE under flush-priority (thread-nice.h; what
 * it starts meanwhile, writers and commands, still starts at nice 0). */
static gboolean engine_enter(Engine *engine, const char *operation, gboolean urgent, GError **error)
{
    if (engine->busy.operation) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_BUSY,
                    "cannot %s now: a %s%s%s is in progress", operation,
                    engine->busy.operation, engine->busy.session_id ? " of snapshot session " : "",
                    engine->busy.session_id ? engine->busy.session_id : "");
        return FALSE;
    }
    engine->busy.operation = operation;
    engine->busy.session_id = engine->session ? engine->session->id : NULL;
    engine->busy.since_mono = g_get_monotonic_time();
    if (urgent && engine_flush_priority(engine->config)) {
        thread_nice_raise_span(&engine->urgent, ENGINE_URGENT_NICE);
    }
    return TRUE;
}

static gboolean engine_leave(Engine *engine, gboolean ok)
{
    thread_nice_restore(&engine->urgent);
    engine->busy = (EngineBusy){ 0 };
    if (engine->idle) {
        engine->idle(engine->user_data);
    }
    return ok;
}

const char *engine_get_end_warning(const Engine *engine)
{
    return engine->end_warning;
}

/* Refuses to freeze while a previous run's freeze is not undone. */
static gboolean engine_check_recovered(Engine *engine, GError **error)
{
    g_autofree char *pending = NULL;

    engine_recovery_retry(engine);
    if (!engine_recovery_pending(engine)) {
        return TRUE;
    }
    pending = engine_recovery_describe(engine);
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                "the agent cannot thaw yet what its previous run left frozen (%s); it retries "
                "every second",
                pending);
    return FALSE;
}

const EngineSession *engine_get_session(const Engine *engine)
{
    return engine->session;
}

const EngineEnded *engine_get_ended(const Engine *engine)
{
    return engine->ended;
}

const char *engine_get_failure_code(const Engine *engine)
{
    return engine->failure_code;
}

GStrv engine_dup_frozen(const Engine *engine)
{
    g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
    guint length = engine->frozen ? fs_frozen_set_get_length(engine->frozen) : 0;

    for (guint i = 0; i < length; i++) {
        g_strv_builder_add(builder, fs_frozen_set_get_target(engine->frozen, i)->mountpoint);
    }
    return g_strv_builder_end(builder);
}

static gboolean engine_check_thawed(Engine *engine, GError **error)
{
    if (!engine_check_recovered(engine, error)) {
        return FALSE;
    }
    if (engine->session && (engine->frozen || engine->writers_frozen)) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                    "snapshot session %s is active and holds the guest frozen; "
                    "post, thaw or abort it first",
                    engine->session->id);
        return FALSE;
    }
    return TRUE;
}

/* engine_probe() with the kept inventory, timed for the freeze's log line. */
static EligibilityReport *engine_probe_timed(Engine *engine, gboolean with_state, GError **error)
{
    gint64 start = g_get_monotonic_time();
    EligibilityReport *report = engine_probe(engine->config, engine->writers,
                                             engine->inventory_cache, with_state,
                                             &engine->probe_cached, error);

    engine->probe_us = g_get_monotonic_time() - start;
    return report;
}

static EligibilityReport *engine_check_run(Engine *engine, GError **error)
{
    if (!engine_check_thawed(engine, error)) {
        return NULL;
    }
    return engine_probe_timed(engine, TRUE, error);
}

EligibilityReport *engine_check(Engine *engine, GError **error)
{
    EligibilityReport *report;

    if (!engine_enter(engine, "check", FALSE, error)) {
        return NULL;
    }
    report = engine_check_run(engine, error);
    engine_leave(engine, report != NULL);
    return report;
}

/* freezable targets matching the requested paths, in freeze order. */
static GPtrArray *engine_select_targets(const EligibilityReport *report,
                                        const char *const *mountpoints, GError **error)
{
    GPtrArray *all = report->freezable_targets;
    g_autoptr(GPtrArray) chosen = freeze_target_array_new();

    for (gsize i = 0; mountpoints && mountpoints[i]; i++) {
        const MountReport *mount = eligibility_report_find_mount(report, mountpoints[i]);
        gboolean found = FALSE;
        for (guint t = 0; mount && t < all->len && !found; t++) {
            const FreezeTarget *target = g_ptr_array_index(all, t);
            found = g_str_equal(target->mountpoint, mount->mount->mountpoint);
        }
        if (!found) {
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND,
                        "%s is not a mounted filesystem that can be frozen%s%s", mountpoints[i],
                        mount ? ": " : "", mount ? mount->reason : "");
            return NULL;
        }
    }
    for (guint t = 0; t < all->len; t++) {
        const FreezeTarget *target = g_ptr_array_index(all, t);
        for (gsize i = 0; mountpoints && mountpoints[i]; i++) {
            const MountReport *mount = eligibility_report_find_mount(report, mountpoints[i]);
            if (g_str_equal(target->mountpoint, mount->mount->mountpoint)) {
                g_ptr_array_add(chosen, freeze_target_copy(target));
                break;
            }
        }
    }
    return g_steal_pointer(&chosen);
}

static gboolean engine_freeze_run(Engine *engine, const char *const *mountpoints, guint *count,
                                  GError **error)
{
    g_autoptr(EligibilityReport) report = NULL;
    g_autoptr(GPtrArray) targets = NULL;

    if (engine->session) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                    "snapshot session %s is active; thaw it first", engine->session->id);
        return FALSE;
    }
    if (!engine_check_recovered(engine, error)) {
        return FALSE;
    }
    report = engine_probe_timed(engine, FALSE, error);
    if (!report) {
        return FALSE;
    }
    if (report->freezable_order_error) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "cannot order the freeze: %s", report->freezable_order_error);
        return FALSE;
    }
    targets = mountpoints ? engine_select_targets(report, mountpoints, error)
                          : g_ptr_array_ref(report->freezable_targets);
    if (!targets) {
        return FALSE;
    }
    if (targets->len == 0) {
        return TRUE; /* qemu-ga: 0 frozen, the state stays thawed */
    }
    if (!engine_session_start(engine, targets, TRUE, error)) {
        return FALSE;
    }
    *count = targets->len;
    return TRUE;
}

gboolean engine_freeze(Engine *engine, const char *const *mountpoints, guint *count,
                       GError **error)
{
    *count = 0;
    if (!engine_enter(engine, "freeze", TRUE, error)) {
        return FALSE;
    }
    return engine_leave(engine, engine_freeze_run(engine, mountpoints, count, error));
}

/* Fails with the ended session's message and forgets it (told once). */
static gboolean engine_report_ended(Engine *engine, GError **error)
{
    int code = QUIESCE_ERROR_EXPIRED;

    g_set_error_literal(error, QUIESCE_ERROR, code, engine->ended->message);
    if (engine->ended->end == ENGINE_END_BROKEN) {
        frozen_state_clear_broken(engine->config->state_dir, NULL);
    }
    g_clear_pointer(&engine->ended, engine_ended_free);
    return FALSE;
}

/* qemu-ga's thaw issues FITHAW on every mount: until this run froze
 * something itself, a thaw with no session does the same within the
 * confinement, for what a previous run (or a lost state file) left. */
static gboolean engine_thaw_sweep(Engine *engine, guint *count, GError **error)
{
    g_autoptr(GPtrArray) sweep = NULL;

    if (engine->froze) {
        return TRUE;
    }
    sweep = engine_probe_recovery_targets(engine->config, engine->inventory_cache, error);
    return sweep && engine_recovery_sweep(engine, sweep, count, error);
}

static gboolean engine_thaw_run(Engine *engine, guint *count, GError **error)
{
    g_autofree char *id = NULL;
    g_autofree char *pending = NULL;
    gboolean prepared;
    gboolean ok;

    engine_recovery_retry(engine);
    if (engine->session) {
        id = g_strdup(engine->session->id);
        prepared = engine->session->prepared;
        ok = engine_session_end(engine, ENGINE_END_MODE_THAW, count, error);
        if (prepared && !engine->session) {
            /* The host that prepared it will post it: that post must learn
             * the snapshot is not to be trusted, not "no such session". */
            engine_set_ended(engine, ENGINE_END_THAWED, id,
                             g_strdup_printf("snapshot session %s is invalid: "
                                             "guest-fsfreeze-thaw thawed it before its post, so "
                                             "the snapshot must be discarded",
                                             id));
        }
        return ok;
    }
    if (!engine_thaw_sweep(engine, count, error)) {
        return FALSE;
    }
    if (engine_recovery_pending(engine)) {
        pending = engine_recovery_describe(engine);
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "cannot thaw yet what the agent's previous run left frozen: %s "
                    "(retried every second)", pending);
        return FALSE;
    }
    if (engine->ended && engine->ended->end != ENGINE_END_THAWED) {
        return engine_report_ended(engine, error);
    }
    return TRUE;
}

gboolean engine_thaw(Engine *engine, guint *count, GError **error)
{
    *count = 0;
    if (!engine_enter(engine, "thaw", TRUE, error)) {
        return FALSE;
    }
    return engine_leave(engine, engine_thaw_run(engine, count, error));
}

static gboolean engine_prepare_run(Engine *engine, EligibilityReport **out_report,
                                   GError **out_failure, GError **error)
{
    g_autoptr(EligibilityReport) report = NULL;

    if (engine->session) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_STATE,
                    "snapshot session %s is already active", engine->session->id);
        return FALSE;
    }
    report = engine_check_run(engine, error);
    if (!report) {
        return FALSE;
    }
    if (report->method == SNAPSHOT_METHOD_CHILD_SNAPSHOT) {
        g_autoptr(GError) failure = NULL;
        if (!engine_session_start(engine, report->targets, TRUE, &failure)) {
            g_propagate_error(out_failure, g_steal_pointer(&failure));
        } else {
            engine->session->prepared = TRUE;
        }
    }
    *out_report = g_steal_pointer(&report);
    return TRUE;
}

gboolean engine_prepare(Engine *engine, EligibilityReport **out_report, GError **out_failure,
                        GError **error)
{
    *out_report = NULL;
    if (!engine_enter(engine, "prepare", TRUE, error)) {
        return FALSE;
    }
    return engine_leave(engine, engine_prepare_run(engine, out_report, out_failure, error));
}

static gboolean engine_end_by_id(Engine *engine, const char *session_id, gboolean abort,
                                 guint *thawed, GError **error)
{
    *thawed = 0;
    if (engine->session && (!session_id || g_str_equal(engine->session->id, session_id))) {
        return engine_session_end(engine, abort ? ENGINE_END_MODE_ABORT : ENGINE_END_MODE_POST,
                                  thawed, error);
    }
    engine_recovery_retry(engine);
    if (engine->ended && (!session_id || !*engine->ended->session_id ||
                          g_str_equal(engine->ended->session_id, session_id))) {
        if (abort) {
            /* Already thawed: what abort asks for is done. */
            if (engine->ended->end == ENGINE_END_BROKEN) {
                frozen_state_clear_broken(engine->config->state_dir, NULL);
            }
            g_clear_pointer(&engine->ended, engine_ended_free);
            return TRUE;
        }
        return engine_report_ended(engine, error);
    }
    if (abort && !session_id) {
        return TRUE; /* nothing to abort: done, like a thaw of nothing */
    }
    g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_NOT_FOUND,
                "no snapshot session %s is active%s%s", session_id ? session_id : "",
                engine->session ? "; the active one is " : "",
                engine->session ? engine->session->id : "");
    return FALSE;
}

gboolean engine_post(Engine *engine, const char *session_id, guint *thawed, GError **error)
{
    *thawed = 0;
    if (!engine_enter(engine, "post", TRUE, error)) {
        return FALSE;
    }
    return engine_leave(engine, engine_end_by_id(engine, session_id, FALSE, thawed, error));
}

gboolean engine_abort(Engine *engine, const char *session_id, guint *thawed, GError **error)
{
    *thawed = 0;
    if (!engine_enter(engine, "abort", TRUE, error)) {
        return FALSE;
    }
    return engine_leave(engine, engine_end_by_id(engine, session_id, TRUE, thawed, error));
}

void engine_shutdown(Engine *engine)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *id = NULL;
    guint thawed = 0;

    engine_recovery_retry(engine);
    if (!engine->session) {
        return;
    }
    id = g_strdup(engine->session->id);
    if (!engine_session_end(engine, ENGINE_END_MODE_ABORT, &thawed, &error) &&
        engine->session) {
        g_critical("stopping: thaw of session %s failed: %s", id, error->message);
        return;
    }
    if (thawed > 0) {
        g_warning("stopping: thawed %u filesystem(s) of session %s before the host's post", thawed,
                  id);
    }
}

void engine_free(Engine *engine)
{
    if (!engine) {
        return;
    }
    engine_shutdown(engine);
    g_clear_handle_id(&engine->watchdog, g_source_remove);
    g_clear_handle_id(&engine->host_lost, g_source_remove);
    fs_frozen_set_free(engine->frozen);
    engine_session_free(engine->session);
    engine_ended_free(engine->ended);
    engine_recovery_free(engine);
    if (engine->inventory_cache != engine->config->inventory) {
        engine_inventory_cache_free(engine->inventory_cache);
    }
    g_free(engine->expiring_why);
    g_free(engine->end_warning);
    writers_free(engine->writers);
    engine_config_free(engine->config);
    g_free(engine);
}
