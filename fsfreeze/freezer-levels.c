/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freezer-levels.c — the pre-sync and the FIFREEZE of a target set, level by
 * level, each level concurrently (freeze-parallel.h), with the flush ahead
 * of the applications and the RCU knob set around the FIFREEZE calls
 * (kernel-knob.h), and the error that names what failed first in freeze
 * order. freezer.c decides the rest (validation, opening, rollback).
 */
#include "fsfreeze/freezer-private.h"

#include <string.h>

#include "common/quiesce-error.h"
#include "fsfreeze/kernel-knob.h"

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
static gboolean freezer_presync(FsFrozenSet *set, GPtrArray *opened, const FsFreezeOptions *options,
                                GError **error)
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

        fs_parallel_run(FS_PARALLEL_SYNC, items, opened->len, &set->ops, limit,
                        options->flush_priority);
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
static gboolean freezer_freeze_entries(FsFrozenSet *set, GPtrArray *opened, gint64 deadline,
                                       gboolean flush_priority, GError **error)
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
    ok = fs_parallel_run(FS_PARALLEL_FREEZE, items, total, &set->ops, deadline, flush_priority);
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

/* A note on what became of a knob, for the log line's timings. */
static void knob_note(FsFrozenSet *set, const char *what, const GError *error)
{
    if (!set->knob_notes) {
        set->knob_notes = g_string_new(NULL);
    }
    g_string_append_printf(set->knob_notes, ", %s: %s", what, error->message);
}

/* Sets @path to @value (kernel-knob.h) when @path is not NULL and there is
 * something to freeze; TRUE when it did. A knob that cannot be set costs
 * speed only: a note says so (@not_set). */
static gboolean knob_begin(FsFrozenSet *set, KernelKnob *knob, const char *path, const char *value,
                           const char *only_from, const char *record, guint n_opened,
                           const char *not_set)
{
    gboolean done = FALSE;
    g_autoptr(GError) error = NULL;

    memset(knob, 0, sizeof(*knob));
    if (path && n_opened > 0 &&
        !kernel_knob_set(knob, path, value, only_from, record, &done, &error)) {
        knob_note(set, not_set, error);
    }
    return done;
}

static void knob_end(FsFrozenSet *set, KernelKnob *knob, const char *still_set)
{
    g_autoptr(GError) error = NULL;

    if (!kernel_knob_put_back(knob, &error)) {
        knob_note(set, still_set, error);
    }
}

gboolean freezer_flush_and_freeze(FsFrozenSet *set, GPtrArray *opened,
                                  const FsFreezeOptions *options, gboolean *synced, GError **error)
{
    KernelKnob writeback;
    KernelKnob rcu;
    gint64 start = g_get_monotonic_time();
    gboolean ok;

    set->timings.dirty_kib = options->meminfo ? kernel_dirty_kib(options->meminfo) : -1;
    gboolean much_dirty =
        set->timings.dirty_kib < 0 || set->timings.dirty_kib >= FS_FLUSH_PRIORITY_MIN_DIRTY_KIB;
    set->timings.writeback_prioritized = knob_begin(
        set, &writeback, much_dirty ? options->writeback_knob : NULL, WRITEBACK_NICE_VALUE, NULL,
        options->writeback_record, opened->len, "writeback not prioritized");
    set->timings.knobs_us = g_get_monotonic_time() - start;
    *synced = freezer_presync(set, opened, options, error);
    ok = *synced;
    if (ok) {
        start = g_get_monotonic_time();
        set->timings.rcu_expedited =
            knob_begin(set, &rcu, options->rcu_knob, "1", "0", options->rcu_record, opened->len,
                       "RCU not expedited");
        set->timings.knobs_us += g_get_monotonic_time() - start;
        ok = freezer_freeze_entries(set, opened, options->deadline, options->flush_priority, error);
        start = g_get_monotonic_time();
        knob_end(set, &rcu, "RCU still expedited");
        set->timings.knobs_us += g_get_monotonic_time() - start;
    }
    start = g_get_monotonic_time();
    knob_end(set, &writeback, "writeback still prioritized");
    set->timings.knobs_us += g_get_monotonic_time() - start;
    return ok;
}
