/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine-session.c — one snapshot session's life; see engine-private.h.
 *
 * Order of a start (docs/design.md §6, §7): everything is probed before this is
 * called; socket writers get "prepare" (slow work, nothing held); the frozen
 * state is written under /run so a restarted agent knows what to thaw; the
 * owner starts holding its logs; the writers freeze (scripts, then socket
 * writers); then the freezer opens every mountpoint and freezes dependants
 * first. The end is the exact reverse: filesystems thaw, the state file goes,
 * logs flow again, writers thaw (every one, even when one fails), and after a
 * good post socket writers hear "post-snapshot". Writers' output is logged
 * only after the thaw.
 *
 * This file is the bottom of the engine: it calls nothing in engine.c or
 * engine-probe.c (engine-private.h says how the folder is layered).
 */
#include "agent/engine/engine-private.h"

#include "common/quiesce-error.h"
#include "fsfreeze/frozen-state.h"
#include "fsfreeze/kernel-knob.h"

void engine_ended_free(EngineEnded *ended)
{
    if (!ended) {
        return;
    }
    g_free(ended->session_id);
    g_free(ended->message);
    g_free(ended);
}

void engine_set_ended(Engine *engine, EngineEnd end, const char *session_id,
                             char *message /* transfer full */)
{
    engine_ended_free(engine->ended);
    engine->ended = g_new0(EngineEnded, 1);
    engine->ended->end = end;
    engine->ended->session_id = g_strdup(session_id);
    engine->ended->message = message;
}

void engine_session_free(EngineSession *session)
{
    if (!session) {
        return;
    }
    g_free(session->id);
    g_ptr_array_unref(session->frozen);
    g_free(session);
}

static void engine_notify(Engine *engine, gboolean frozen)
{
    engine->holding = frozen;
    if (engine->frozen_changed) {
        engine->frozen_changed(frozen, engine->user_data);
    }
}

static void engine_tell_session(Engine *engine, const char *session_id)
{
    if (engine->session_changed) {
        engine->session_changed(session_id, engine->user_data);
    }
}

static void engine_log_writer_line(GLogLevelFlags level, const char *message,
                                   gint64 real_time_us, gpointer user_data)
{
    g_log(G_LOG_DOMAIN, level, "%s", message);
}

/* Writers' notes and output, written once nothing is frozen any more. */
static void engine_flush_writers_log(Engine *engine)
{
    if (engine->writers) {
        writers_flush_log(engine->writers, engine_log_writer_line, NULL);
    }
}

void engine_flush_logs(Engine *engine)
{
    if (!engine->frozen && !engine->writers_frozen && !engine->busy.operation) {
        engine_flush_writers_log(engine);
    }
}

/* The session as writers see it; mountpoints borrowed from the session. */
static WriterContext engine_writer_context(const EngineSession *session, GPtrArray *mounts)
{
    g_ptr_array_set_size(mounts, 0);
    for (guint i = 0; i < session->frozen->len; i++) {
        g_ptr_array_add(mounts, g_ptr_array_index(session->frozen, i));
    }
    g_ptr_array_add(mounts, NULL);
    return (WriterContext){ .session_id = session->id,
                            .mountpoints = (const char *const *)mounts->pdata };
}

static EngineSession *engine_session_new(const Engine *engine, GPtrArray *targets)
{
    EngineSession *session = g_new0(EngineSession, 1);
    guint window = engine->config->window_seconds;

    session->id = g_uuid_string_random();
    session->frozen = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < targets->len; i++) {
        const FreezeTarget *target = g_ptr_array_index(targets, i);
        g_ptr_array_add(session->frozen, g_strdup(target->mountpoint));
    }
    session->started_mono = g_get_monotonic_time();
    if (window) {
        session->deadline_mono = session->started_mono + (gint64)window * G_USEC_PER_SEC;
        session->deadline_real = g_get_real_time() + (gint64)window * G_USEC_PER_SEC;
    }
    return session;
}

static gboolean engine_watchdog_fire(gpointer user_data);

/* Writers first: prepare, then freeze. FALSE with failure_code set. */
static gboolean engine_writers_freeze(Engine *engine, const EngineSession *session,
                                      GError **error)
{
    g_autoptr(GPtrArray) mounts = g_ptr_array_new();
    WriterContext context = engine_writer_context(session, mounts);

    engine->failure_code = ENGINE_REASON_WRITER_FAILED;
    if (!writers_prepare(engine->writers, &context, NULL, error) ||
        !writers_freeze(engine->writers, &context, NULL, error)) {
        return FALSE;
    }
    engine->writers_frozen = TRUE;
    engine->failure_code = NULL;
    return TRUE;
}

static void engine_writers_release(Engine *engine, const EngineSession *session)
{
    g_autoptr(GPtrArray) mounts = g_ptr_array_new();
    WriterContext context = engine_writer_context(session, mounts);

    if (engine->writers_frozen) {
        writers_freeze_fail(engine->writers, &context);
        engine->writers_frozen = FALSE;
    }
}

/* Undoes a start that failed at the filesystems or the writers. */
static void engine_start_undo(Engine *engine, const EngineSession *session, gboolean state)
{
    engine_writers_release(engine, session);
    if (state) {
        frozen_state_remove(engine->config->state_dir, NULL);
        engine_notify(engine, FALSE);
    }
    engine_flush_writers_log(engine);
}

/* Where the time before the window closed went, from the agent's own
 * timers (held in memory while frozen, like every line). */
static void engine_log_freeze_timings(const Engine *engine, const EngineSession *session)
{
    g_autofree char *freezer = fs_frozen_set_describe_timings(engine->frozen);

    g_message("session %s: froze %u filesystem(s): probe %.1f ms (%s), state file and writers "
              "%.1f ms%s, %s",
              session->id, fs_frozen_set_get_length(engine->frozen), engine->probe_us / 1000.0,
              engine->probe_cached ? "inventory kept" : "inventory probed",
              (session->frozen_mono - session->started_mono) / 1000.0,
              engine->urgent.raised ? " (agent thread raised)" : "", freezer);
}

static gboolean engine_freeze_filesystems(Engine *engine, EngineSession *session,
                                          GPtrArray *targets, GError **error)
{
    const EngineConfig *config = engine->config;
    g_autofree char *knob =
        config->expedite_rcu ? engine_config_system_knob(config, RCU_EXPEDITE_KNOB) : NULL;
    g_autofree char *record = g_build_filename(config->state_dir, RCU_EXPEDITE_RECORD, NULL);
    g_autofree char *writeback =
        config->flush_priority ? engine_config_system_knob(config, WRITEBACK_NICE_KNOB) : NULL;
    g_autofree char *writeback_record =
        g_build_filename(config->state_dir, WRITEBACK_NICE_RECORD, NULL);
    g_autofree char *meminfo = writeback ? engine_config_system_knob(config, KERNEL_MEMINFO) : NULL;
    FsFreezeOptions options = {
        .confine_dir = engine->config->policy->confine,
        .deadline = session->deadline_mono,
        .ops = engine->config->ops,
        .presync_timeout_us = (gint64)ENGINE_PRESYNC_TIMEOUT_MS * 1000,
        .rcu_knob = knob,
        .rcu_record = record,
        .flush_priority = engine_flush_priority(config),
        .writeback_knob = writeback,
        .writeback_record = writeback_record,
        .meminfo = meminfo,
    };
    FsFrozenSet *frozen = NULL;

    if (fs_freezer_freeze(targets, &options, &frozen, error)) {
        engine->frozen = frozen;
        engine_log_freeze_timings(engine, session);
        return TRUE;
    }
    engine->failure_code = ENGINE_REASON_FREEZE_FAILED;
    if (frozen && fs_frozen_set_get_length(frozen) > 0) {
        engine->frozen = frozen; /* the rollback failed: keep what is left */
        engine->failure_code = ENGINE_REASON_ROLLBACK_FAILED;
        return FALSE;
    }
    fs_frozen_set_free(frozen);
    return FALSE;
}

static gboolean engine_session_try_start(Engine *engine, EngineSession **session_in,
                                         GPtrArray *targets, gboolean with_writers,
                                         GError **error)
{
    g_autoptr(EngineSession) session = g_steal_pointer(session_in);
    g_autoptr(FrozenState) state = NULL;
    gboolean stateful = targets->len > 0;

    g_assert(!engine->session);
    engine->failure_code = NULL;
    if (engine->ended) {
        /* The host has moved on from that session: a later thaw must not
         * fail with its news. */
        if (engine->ended->end == ENGINE_END_BROKEN) {
            frozen_state_clear_broken(engine->config->state_dir, NULL);
        }
        g_clear_pointer(&engine->ended, engine_ended_free);
    }
    if (stateful) {
        state = frozen_state_new(session->id, targets, session->deadline_real);
        if (!frozen_state_write(engine->config->state_dir, state, error)) {
            engine->failure_code = ENGINE_REASON_FREEZE_FAILED;
            return FALSE;
        }
        engine_notify(engine, TRUE);
        engine->froze = TRUE;
    }
    if (with_writers && engine->writers && !engine_writers_freeze(engine, session, error)) {
        engine_start_undo(engine, session, stateful);
        return FALSE;
    }
    /* The first FIFREEZE blocks writers from its start, before its sync. */
    session->frozen_mono = g_get_monotonic_time();
    if (stateful && !engine_freeze_filesystems(engine, session, targets, error)) {
        if (engine->frozen) {
            /* Writers hear freeze-fail now; the watchdog retries the thaw. */
            engine_writers_release(engine, session);
            engine->session = g_steal_pointer(&session);
            engine->watchdog = g_timeout_add_seconds(1, engine_watchdog_fire, engine);
            return FALSE;
        }
        engine_start_undo(engine, session, TRUE);
        return FALSE;
    }
    if (session->deadline_mono && (engine->frozen || engine->writers_frozen)) {
        /* The window began before the writers: what is left of it. */
        gint64 left_ms = (session->deadline_mono - g_get_monotonic_time() + 999) / 1000;
        engine->watchdog =
            g_timeout_add((guint)CLAMP(left_ms, 1, G_MAXINT32), engine_watchdog_fire, engine);
    }
    engine->session = g_steal_pointer(&session);
    return TRUE;
}

gboolean engine_session_start(Engine *engine, GPtrArray *targets, gboolean with_writers,
                              GError **error)
{
    EngineSession *session = engine_session_new(engine, targets);

    engine_tell_session(engine, session->id);
    engine->starting = session;
    engine->busy.session_id = session->id;
    if (engine_session_try_start(engine, &session, targets, with_writers, error)) {
        engine->starting = NULL;
        engine->busy.session_id = engine->session->id;
        return TRUE;
    }
    engine->starting = NULL;
    engine->busy.session_id = engine->session ? engine->session->id : NULL;
    if (!engine->session) {
        engine_tell_session(engine, NULL);
    }
    return FALSE;
}

/* Thaws the writers (post, thaw) or releases them (abort); FALSE when the
 * snapshot cannot be trusted: a writer failed its thaw or left the window.
 * consistent: FALSE when the filesystems already say the snapshot is not
 * (writers still thaw, but hear no "post-snapshot"). */
static gboolean engine_writers_end(Engine *engine, EngineEndMode mode, gboolean consistent,
                                   GError **error)
{
    g_autoptr(GPtrArray) mounts = g_ptr_array_new();
    WriterContext context = engine_writer_context(engine->session, mounts);
    g_autoptr(GError) window_error = NULL;
    gboolean intact;
    gboolean thawed;

    if (!engine->writers_frozen) {
        return TRUE;
    }
    engine->writers_frozen = FALSE;
    if (mode == ENGINE_END_MODE_ABORT) {
        writers_freeze_fail(engine->writers, &context);
        return TRUE;
    }
    intact = writers_window_intact(engine->writers, &window_error);
    thawed = writers_thaw(engine->writers, &context, NULL, intact ? error : NULL);
    if (!intact) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "the snapshot is not consistent: %s", window_error->message);
        return FALSE;
    }
    if (thawed && consistent) {
        writers_post_snapshot(engine->writers, &context);
    }
    return thawed;
}

/* A filesystem someone else thawed inside the window may have changed
 * after the freeze point, so the snapshot is not consistent: FALSE, with
 * the error set for post only (qemu-ga's thaw just counts it out). */
static gboolean engine_check_thaw_notes(EngineEndMode mode, char **notes, GError **error)
{
    g_autofree char *joined = NULL;

    if (!notes || !notes[0]) {
        return TRUE;
    }
    if (mode == ENGINE_END_MODE_POST) {
        joined = g_strjoinv("; ", notes);
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                    "the snapshot is not consistent: %s", joined);
    }
    return FALSE;
}

gboolean engine_session_end(Engine *engine, EngineEndMode mode, guint *thawed, GError **error)
{
    g_autoptr(GError) state_error = NULL;
    g_auto(GStrv) notes = NULL;
    guint count = 0;
    gboolean consistent;
    gboolean ok;

    g_assert(engine->session);
    *thawed = 0;
    if (engine->frozen && !fs_freezer_thaw(engine->frozen, &count, &notes, error)) {
        *thawed = count;
        return FALSE;
    }
    *thawed = count;
    g_clear_handle_id(&engine->watchdog, g_source_remove);
    g_clear_handle_id(&engine->host_lost, g_source_remove);
    g_clear_pointer(&engine->end_warning, g_free);
    if (engine->frozen) {
        const FsFreezeTimings *timings = fs_frozen_set_get_timings(engine->frozen);
        /* From the first FIFREEZE: the open and the pre-sync came before it. */
        gint64 first = engine->session->frozen_mono + timings->open_us + timings->presync_us;
        g_message("session %s: thawed %u filesystem(s): FITHAW %.1f ms, frozen %.1f ms",
                  engine->session->id, count, timings->thaw_us / 1000.0,
                  (g_get_monotonic_time() - first) / 1000.0);
        g_clear_pointer(&engine->frozen, fs_frozen_set_free);
        engine_notify(engine, FALSE);
        if (!frozen_state_remove(engine->config->state_dir, &state_error)) {
            /* The session is still good; a restart finds every listed
             * filesystem thawed and records nothing (frozen-state.h). */
            engine->end_warning = g_strdup_printf("the filesystems are thawed, but the agent "
                                                  "could not remove its state file: %s",
                                                  state_error->message);
            g_warning("%s", engine->end_warning);
        }
    }
    for (char **note = notes; note && *note; note++) {
        g_message("thaw: %s", *note);
    }
    consistent = engine_check_thaw_notes(mode, notes, error);
    if (consistent || mode != ENGINE_END_MODE_POST) {
        ok = engine_writers_end(engine, mode, consistent, error);
    } else {
        engine_writers_end(engine, mode, FALSE, NULL); /* error already says why */
        ok = FALSE;
    }
    engine_flush_writers_log(engine);
    g_clear_pointer(&engine->session, engine_session_free);
    engine_tell_session(engine, NULL);
    return ok;
}

static gboolean engine_expire_retry(gpointer user_data);

/*
 * Ends the active session on the agent's own (deadline, host lost): thawed
 * as an abort, remembered with a message for the host's late post. A thaw
 * that fails is retried every second, keeping the cause. why: how it ended,
 * for the message.
 */
static void engine_expire(Engine *engine, EngineEnd end, const char *why)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *id = g_strdup(engine->session->id);
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *when = NULL;
    gboolean rollback = engine_rollback_failed(engine);
    guint thawed = 0;

    if (!engine_session_end(engine, ENGINE_END_MODE_ABORT, &thawed, &error) && engine->session) {
        g_critical("watchdog: thaw of session %s failed, retrying in 1 s: %s", id,
                   error->message);
        g_free(engine->expiring_why); /* why is never it: the retry passes a copy */
        engine->expiring_why = g_strdup(why);
        engine->expiring = end;
        engine->watchdog = g_timeout_add_seconds(1, engine_expire_retry, engine);
        return;
    }
    if (rollback) {
        /* The host was told saved-state at prepare: it has no snapshot of
         * this session to discard, nothing to learn. */
        g_warning("watchdog: thawed %u filesystem(s) that the failed freeze of session %s "
                  "could not roll back",
                  thawed, id);
        return;
    }
    now = g_date_time_new_now_utc();
    when = g_date_time_format_iso8601(now);
    engine_set_ended(engine, end, id,
                     g_strdup_printf("snapshot session %s is invalid: %s and the agent thawed %u "
                                     "filesystem(s) at %s, so the snapshot must be discarded",
                                     id, why, thawed, when));
    g_warning("%s", engine->ended->message);
}

/* A timer that fires while an operation is in flight comes back soon
 * after: the operation owns the session until it returns. */
#define ENGINE_BUSY_RETRY_MS 50

static gboolean engine_expire_retry(gpointer user_data)
{
    Engine *engine = user_data;
    g_autofree char *why = NULL;

    if (engine->busy.operation) {
        engine->watchdog = g_timeout_add(ENGINE_BUSY_RETRY_MS, engine_expire_retry, engine);
        return G_SOURCE_REMOVE;
    }
    why = g_strdup(engine->expiring_why);
    engine->watchdog = 0;
    engine_expire(engine, engine->expiring, why);
    return G_SOURCE_REMOVE;
}

static gboolean engine_watchdog_fire(gpointer user_data)
{
    Engine *engine = user_data;
    g_autofree char *why = NULL;

    if (engine->busy.operation) {
        engine->watchdog = g_timeout_add(ENGINE_BUSY_RETRY_MS, engine_watchdog_fire, engine);
        return G_SOURCE_REMOVE;
    }
    why = g_strdup_printf("the freeze window of %u s expired", engine->config->window_seconds);
    engine->watchdog = 0;
    engine_expire(engine, ENGINE_END_EXPIRED, why);
    return G_SOURCE_REMOVE;
}

static gboolean engine_host_lost_fire(gpointer user_data)
{
    Engine *engine = user_data;
    g_autofree char *why = NULL;

    if (engine->busy.operation) {
        engine->host_lost = g_timeout_add(ENGINE_BUSY_RETRY_MS, engine_host_lost_fire, engine);
        return G_SOURCE_REMOVE;
    }
    why = g_strdup_printf("the host that prepared it disconnected and did not come back "
                          "within %u s",
                          engine->config->host_lost_grace_seconds);
    engine->host_lost = 0;
    g_clear_handle_id(&engine->watchdog, g_source_remove);
    engine_expire(engine, ENGINE_END_HOST_LOST, why);
    return G_SOURCE_REMOVE;
}

void engine_host_lost(Engine *engine, const char *session_id)
{
    guint grace = engine->config->host_lost_grace_seconds;

    if (!engine->session || !session_id || !g_str_equal(engine->session->id, session_id) ||
        grace == 0 || engine->host_lost || engine_rollback_failed(engine)) {
        return;
    }
    g_message("session %s: the host disconnected; thawing in %u s unless it comes back",
              session_id, grace);
    /* Not g_timeout_add_seconds(): its first tick may come up to 1 s early. */
    engine->host_lost = g_timeout_add(grace * 1000, engine_host_lost_fire, engine);
}

void engine_host_back(Engine *engine, const char *session_id)
{
    if (!engine->host_lost || !engine->session || !session_id ||
        !g_str_equal(engine->session->id, session_id)) {
        return;
    }
    g_clear_handle_id(&engine->host_lost, g_source_remove);
    g_message("session %s: the host is back", session_id);
}
