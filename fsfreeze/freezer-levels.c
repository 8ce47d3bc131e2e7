/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freezer-levels.c — the pre-sync and the FIFREEZE of a target set, level by
 * level, each level concurrently (freeze-parallel.h), with the RCU knob
 * set around the FIFREEZE calls, and the error that names what failed
 * first in freeze order. freezer.c decides the rest (validation, opening,
 * rollback).
 */
#include "fsfreeze/freezer-private.h"

#include "common/quiesce-error.h"
#include "fsfreeze/rcu-expedite.h"

FsParallelItem *freezer_items_of(GPtrArray *entries)
{
    FsParallelItem *items = g_new0(FsParallelItem, entries->len + 1);

    for (guint i = 0; i < entries->len; i++) {
        const FsFrozenEntry *entry = g_ptr_array_index(entries, i);
        items[i].fd = entry->fd;
        items[i].level = entry->target->level;
    }
    return items;
}

static guint count_levels(GPtrArray *entries)
{
    guint levels = 0;

    for (guint i = 0; i < entries->len; i++) {
        const FsFrozenEntry *entry = g_ptr_array_index(entries, i);
        const FsFrozenEntry *previous = i > 0 ? g_ptr_array_index(entries, i - 1) : NULL;
        levels += !previous || previous->target->level != entry->target->level;
    }
    return levels;
}

/* Whether another pass is worth it after one that took pass_us (the one
 * before took previous_us, 0 for none); freezer.h says why. */
static gboolean presync_again(guint passes, gint64 pass_us, gint64 previous_us)
{
    return passes < FS_PRESYNC_MAX_PASSES && pass_us >= FS_PRESYNC_SHORT_US &&
           (previous_us == 0 || pass_us * 3 <= previous_us * 2);
}

/*
 * syncfs() of every opened target at once, before anything is frozen, in
 * passes (freezer.h). Only a syncfs still running at the limit fails: the
 * FIFREEZE of that filesystem would block as long, with the others already
 * frozen.
 */
gboolean freezer_presync(FsFrozenSet *set, GPtrArray *opened,
                                const FsFreezeOptions *options, GError **error)
{
    gint64 start = g_get_monotonic_time();
    gint64 limit = start + options->presync_timeout_us;
    gint64 previous_us = 0;
    gint64 pass_us;
    g_autofree FsParallelItem *items = NULL;

    if (options->presync_timeout_us <= 0 || opened->len == 0) {
        return TRUE;
    }
    if (options->deadline != 0) {
        limit = MIN(limit, options->deadline);
    }
    items = freezer_items_of(opened);
    for (;;) {
        gint64 pass_start = g_get_monotonic_time();
        gboolean late = FALSE;

        fs_parallel_run(FS_PARALLEL_SYNC, items, opened->len, &set->ops, limit);
        pass_us = g_get_monotonic_time() - pass_start;
        set->timings.presync_passes++;
        for (guint i = 0; i < opened->len; i++) {
            late |= items[i].result == FS_PARALLEL_LATE || items[i].result == FS_PARALLEL_NOT_RUN;
        }
        if (late || !presync_again(set->timings.presync_passes, pass_us, previous_us)) {
            break;
        }
        previous_us = pass_us;
    }
    set->timings.presync_us = g_get_monotonic_time() - start;
    for (guint i = 0; i < opened->len; i++) {
        if (items[i].result == FS_PARALLEL_LATE || items[i].result == FS_PARALLEL_NOT_RUN) {
            const FsFrozenEntry *entry = g_ptr_array_index(opened, i);
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT,
                        "syncfs of %s did not finish within %.1f s (its device may be hung); "
                        "nothing was frozen",
                        entry->target->mountpoint, (limit - start) / 1e6);
            return FALSE;
        }
    }
    return TRUE;
}

/* The error for the first failed item in freeze order, others appended. */
static void set_parallel_error(GError **error, GPtrArray *opened, const FsParallelItem *items,
                               guint frozen, guint total)
{
    g_autoptr(GString) others = g_string_new(NULL);
    gboolean first = TRUE;

    for (guint i = 0; i < opened->len; i++) {
        const FsFrozenEntry *entry = g_ptr_array_index(opened, i);
        int result = items[i].result;
        g_autoptr(GError) local = NULL;

        if (result == 0 || result == FS_PARALLEL_NOT_RUN) {
            continue;
        }
        if (result == FS_PARALLEL_LATE) {
            g_set_error(&local, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT,
                        "freeze deadline passed while freezing %s (FIFREEZE still running; "
                        "it is thawed as soon as it returns)",
                        entry->target->mountpoint);
        } else {
            freezer_set_freeze_error(&local, entry->target, result);
        }
        if (first) {
            g_propagate_error(error, g_steal_pointer(&local));
            first = FALSE;
        } else {
            g_string_append_printf(others, "; %s", local->message);
        }
    }
    if (first) {
        /* Nothing failed: the deadline stopped it before some started. */
        for (guint i = 0; i < opened->len; i++) {
            const FsFrozenEntry *entry = g_ptr_array_index(opened, i);
            if (items[i].result == FS_PARALLEL_NOT_RUN) {
                g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT,
                            "freeze deadline passed before freezing %s (%u of %u frozen)",
                            entry->target->mountpoint, frozen, total);
                return;
            }
        }
        g_assert_not_reached();
    }
    if (others->len > 0 && error && *error) {
        char *message = g_strconcat((*error)->message, others->str, NULL);
        g_free((*error)->message);
        (*error)->message = message;
    }
}

/*
 * FIFREEZE over @opened by levels; moves every entry that froze into @set
 * (freeze order kept), leaving the others in @opened. Stops at the first
 * failure or the deadline.
 */
gboolean freezer_freeze_entries(FsFrozenSet *set, GPtrArray *opened, gint64 deadline,
                               GError **error)
{
    guint total = opened->len;
    g_autofree FsParallelItem *items = NULL;
    gboolean ok;
    gint64 start;

    if (total == 0) {
        return TRUE;
    }
    if (deadline != 0 && g_get_monotonic_time() >= deadline) {
        const FsFrozenEntry *first = g_ptr_array_index(opened, 0);
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT,
                    "freeze deadline passed before freezing %s (0 of %u frozen)",
                    first->target->mountpoint, total);
        return FALSE;
    }
    items = freezer_items_of(opened);
    set->timings.levels = count_levels(opened);
    start = g_get_monotonic_time();
    ok = fs_parallel_run(FS_PARALLEL_FREEZE, items, total, &set->ops, deadline);
    set->timings.freeze_us = g_get_monotonic_time() - start;
    for (guint i = 0, k = 0; i < total; i++) {
        if (items[i].result == 0) {
            FsFrozenEntry *entry = g_ptr_array_steal_index(opened, k);
            entry->freeze_us = items[i].took_us;
            g_ptr_array_add(set->entries, entry);
        } else {
            k++;
        }
    }
    if (!ok) {
        /* @opened now holds exactly the failed ones, whose items follow. */
        g_autofree FsParallelItem *failed = g_new0(FsParallelItem, opened->len + 1);
        for (guint i = 0, k = 0; i < total; i++) {
            if (items[i].result != 0) {
                failed[k++] = items[i];
            }
        }
        set_parallel_error(error, opened, failed, set->entries->len, total);
        return FALSE;
    }
    /* A freeze that finished after the window closed is no use to the host. */
    if (deadline != 0 && g_get_monotonic_time() >= deadline) {
        g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_TIMED_OUT,
                    "freeze deadline passed while freezing (%u filesystems)", total);
        return FALSE;
    }
    return TRUE;
}

/* The FIFREEZE calls, with RCU grace periods expedited around them when
 * the options say so (rcu-expedite.h). */
gboolean freezer_freeze_expedited(FsFrozenSet *set, GPtrArray *opened,
                                  const FsFreezeOptions *options, GError **error)
{
    RcuExpedite rcu;
    gboolean set_knob = FALSE;
    g_autoptr(GError) rcu_error = NULL;
    gboolean ok;

    if (options->rcu_knob && opened->len > 0 &&
        !rcu_expedite_begin(&rcu, options->rcu_knob, options->rcu_record, &set_knob, &rcu_error)) {
        set->rcu_note = g_strdup_printf("RCU not expedited: %s", rcu_error->message);
        g_clear_error(&rcu_error);
    }
    ok = freezer_freeze_entries(set, opened, options->deadline, error);
    if (set_knob) {
        set->timings.rcu_expedited = TRUE;
        if (!rcu_expedite_end(&rcu, &rcu_error)) {
            set->rcu_note = g_strdup_printf("RCU still expedited: %s", rcu_error->message);
        }
    }
    return ok;
}
