/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine-recovery.c — what a previous run of the agent may have left
 * frozen (docs/design.md §7): the thaw at start (frozen_state_recover(),
 * which decides from the state file whether to thaw its list or every
 * filesystem that could have been frozen), the retries of what could not
 * be thawed (every second, and before every request), and the sweep of
 * guest-fsfreeze-thaw after a restart.
 *
 * While anything is pending the engine counts as frozen: the agent holds
 * its log and refuses new freezes, and guest-fsfreeze-status says frozen.
 * This file is a bottom layer like engine-session.c: engine.c calls it and
 * hands it what the probe found; it calls neither.
 */
#include "agent/engine/engine-private.h"

#include "common/quiesce-error.h"

static FsFreezeOptions engine_recovery_options(const Engine *engine)
{
    return (FsFreezeOptions){
        .confine_dir = engine->config->policy->confine,
        .ops = engine->config->ops,
    };
}

static void engine_recovery_notify(Engine *engine, gboolean frozen)
{
    if (engine->frozen_changed) {
        engine->frozen_changed(frozen, engine->user_data);
    }
}

gboolean engine_recovery_pending(const Engine *engine)
{
    return engine->recovery && engine->recovery->pending->len > 0;
}

char *engine_recovery_describe(const Engine *engine)
{
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; engine->recovery && i < engine->recovery->pending->len; i++) {
        const FreezeTarget *target = g_ptr_array_index(engine->recovery->pending, i);
        g_string_append_printf(text, "%s%s", i ? ", " : "", target->mountpoint);
    }
    return g_string_free(g_steal_pointer(&text), FALSE);
}

static gboolean engine_recovery_tick(gpointer user_data)
{
    Engine *engine = user_data;
    guint id = engine->recovery_timer;

    if (engine->busy.operation) {
        return G_SOURCE_CONTINUE; /* the operation retries it itself */
    }
    engine->recovery_timer = 0; /* so that a retry that finishes does not remove it */
    engine_recovery_retry(engine);
    if (engine_recovery_pending(engine)) {
        engine->recovery_timer = id;
        return G_SOURCE_CONTINUE;
    }
    return G_SOURCE_REMOVE;
}

FrozenStateBroken *engine_recovery_start(Engine *engine, GPtrArray *sweep, GError **error)
{
    FsFreezeOptions options = engine_recovery_options(engine);
    g_autoptr(FrozenStateBroken) broken = NULL;

    frozen_state_recover(engine->config->state_dir, &options, sweep, &broken, error);
    if (broken && broken->pending->len > 0) {
        engine->recovery = g_new0(FrozenStateBroken, 1);
        engine->recovery->session_id = g_strdup(broken->session_id);
        engine->recovery->reason = g_strdup(broken->reason);
        engine->recovery->broken_real_us = broken->broken_real_us;
        engine->recovery->thawed = broken->thawed;
        engine->recovery->notes = g_strdupv(broken->notes);
        engine->recovery->damaged = g_strdup(broken->damaged);
        engine->recovery->pending = freeze_target_array_new();
        for (guint i = 0; i < broken->pending->len; i++) {
            g_ptr_array_add(engine->recovery->pending,
                            freeze_target_copy(g_ptr_array_index(broken->pending, i)));
        }
        engine_recovery_notify(engine, TRUE);
        engine->recovery_timer = g_timeout_add_seconds(1, engine_recovery_tick, engine);
    }
    return g_steal_pointer(&broken);
}

void engine_recovery_retry(Engine *engine)
{
    FsFreezeOptions options = engine_recovery_options(engine);
    g_autoptr(GError) error = NULL;
    guint before;

    if (!engine_recovery_pending(engine)) {
        return;
    }
    before = engine->recovery->thawed;
    if (!frozen_state_retry(engine->config->state_dir, &options, engine->recovery, &error)) {
        g_warning("recovery: %s", error->message);
    }
    if (engine_recovery_pending(engine)) {
        return;
    }
    g_message("recovery: thawed the last filesystem(s) the previous run left frozen "
              "(%u now, %u in all)", engine->recovery->thawed - before, engine->recovery->thawed);
    engine_recovery_free(engine);
    engine_recovery_notify(engine, FALSE);
}

gboolean engine_recovery_sweep(Engine *engine, GPtrArray *sweep, guint *thawed, GError **error)
{
    FsFreezeOptions options = engine_recovery_options(engine);
    g_autoptr(GString) failures = g_string_new(NULL);

    *thawed = 0;
    for (guint i = sweep->len; i-- > 0;) {
        g_autofree char *message = NULL;
        switch (fs_freezer_thaw_target(g_ptr_array_index(sweep, i), &options, &message)) {
        case FS_THAW_THAWED:
            (*thawed)++;
            g_message("thaw: %s, left frozen by a previous run or another tool", message);
            break;
        case FS_THAW_FAILED:
            g_string_append_printf(failures, "%s%s", failures->len ? "; " : "", message);
            break;
        case FS_THAW_NOT_FROZEN:
        case FS_THAW_GONE:
        case FS_THAW_COVERED: /* nothing known, nothing to do */
        case FS_THAW_REFUSED:
            break;
        }
    }
    if (failures->len > 0) {
        g_set_error_literal(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED, failures->str);
        return FALSE;
    }
    return TRUE;
}

void engine_recovery_free(Engine *engine)
{
    g_clear_handle_id(&engine->recovery_timer, g_source_remove);
    g_clear_pointer(&engine->recovery, frozen_state_broken_free);
}
