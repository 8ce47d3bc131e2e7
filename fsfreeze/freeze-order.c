/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freeze-order.c — topological order of the freeze set with a depth
 * preference; see the header for the rules and why.
 */
#include "fsfreeze/freeze-order.h"

#include "common/quiesce-error.h"
#include "fsfreeze/mountinfo.h"

#include <string.h>

typedef struct {
    guint before; /* index in the set frozen first */
    guint after;
} OrderEdge;

static gint set_index_of(GPtrArray *mounts, const InventoryMount *mount)
{
    guint index;

    return g_ptr_array_find(mounts, mount, &index) ? (gint)index : -1;
}

static guint anchor_depth(const InventoryMount *mount)
{
    guint depth = mountinfo_path_depth(mount->mountpoint);

    for (guint i = 0; i < mount->aliases->len; i++) {
        depth = MIN(depth, mountinfo_path_depth(mount->aliases->pdata[i]));
    }
    return depth;
}

/* The loop edges among the set. */
static GArray *collect_edges(GPtrArray *mounts, GError **error)
{
    g_autoptr(GArray) edges = g_array_new(FALSE, FALSE, sizeof(OrderEdge));

    for (guint m = 0; m < mounts->len; m++) {
        const InventoryMount *mount = mounts->pdata[m];
        for (guint i = 0; i < mount->loops->len; i++) {
            const InventoryLoop *dep = mount->loops->pdata[i];
            gint holder = dep->holder ? set_index_of(mounts, dep->holder) : -1;

            if (dep->unresolved) {
                g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                            "cannot tell which filesystem holds the image of %s under %s",
                            dep->loop->name, mount->mountpoint);
                return NULL;
            }
            if (holder == (gint)m) {
                g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                            "%s holds the image %s of its own loop device %s", mount->mountpoint,
                            dep->loop->backing_file, dep->loop->name);
                return NULL;
            }
            if (holder >= 0) {
                OrderEdge edge = { m, (guint)holder };
                g_array_append_val(edges, edge);
            }
        }
    }
    return g_steal_pointer(&edges);
}

static char *describe_cycle(GPtrArray *mounts, const gboolean *placed)
{
    GString *text = g_string_new(NULL);

    for (guint m = 0; m < mounts->len; m++) {
        if (!placed[m]) {
            const InventoryMount *mount = mounts->pdata[m];
            g_string_append_printf(text, "%s%s", text->len ? ", " : "", mount->mountpoint);
        }
    }
    return g_string_free(text, FALSE);
}

/* The next mount to freeze: all its predecessors frozen, deepest first,
 * later mounts first at equal depth. -1 when none is ready. */
static gint pick_next(GPtrArray *mounts, const guint *waiting, const gboolean *placed)
{
    gint best = -1;

    for (guint m = 0; m < mounts->len; m++) {
        if (placed[m] || waiting[m] > 0) {
            continue;
        }
        if (best < 0) {
            best = (gint)m;
            continue;
        }
        const InventoryMount *a = mounts->pdata[m];
        const InventoryMount *b = mounts->pdata[best];
        guint da = anchor_depth(a), db = anchor_depth(b);
        if (da > db || (da == db && a->index > b->index)) {
            best = (gint)m;
        }
    }
    return best;
}

static gint compare_level(gconstpointer a, gconstpointer b)
{
    const FreezeTarget *x = *(const FreezeTarget *const *)a;
    const FreezeTarget *y = *(const FreezeTarget *const *)b;

    return (x->level > y->level) - (x->level < y->level);
}

GPtrArray *freeze_order_compute(GPtrArray *mounts, GError **error)
{
    g_autoptr(GArray) edges = collect_edges(mounts, error);
    g_autoptr(GPtrArray) targets = freeze_target_array_new();
    g_autofree guint *waiting = g_new0(guint, mounts->len + 1);
    g_autofree guint *level = g_new0(guint, mounts->len + 1);
    g_autofree gboolean *placed = g_new0(gboolean, mounts->len + 1);

    if (!edges) {
        return NULL;
    }
    for (guint e = 0; e < edges->len; e++) {
        waiting[g_array_index(edges, OrderEdge, e).after]++;
    }
    for (guint n = 0; n < mounts->len; n++) {
        gint next = pick_next(mounts, waiting, placed);
        const InventoryMount *mount;
        FreezeTarget *target;

        if (next < 0) {
            g_autofree char *stuck = describe_cycle(mounts, placed);
            g_set_error(error, QUIESCE_ERROR, QUIESCE_ERROR_FAILED,
                        "loop images form a cycle among %s; no freeze order is safe", stuck);
            return NULL;
        }
        placed[next] = TRUE;
        mount = mounts->pdata[next];
        target = freeze_target_new(mount->mountpoint, inventory_mount_get_dev(mount),
                                   mount->fstype);
        target->level = level[next]; /* final: its predecessors are all placed */
        g_ptr_array_add(targets, target);
        for (guint e = 0; e < edges->len; e++) {
            const OrderEdge *edge = &g_array_index(edges, OrderEdge, e);
            if (edge->before == (guint)next) {
                waiting[edge->after]--;
                level[edge->after] = MAX(level[edge->after], level[next] + 1);
            }
        }
    }
    /* Level by level, the depth preference kept inside each (stable sort):
     * still a topological order, since every edge goes up a level. */
    g_ptr_array_sort(targets, compare_level);
    return g_steal_pointer(&targets);
}
