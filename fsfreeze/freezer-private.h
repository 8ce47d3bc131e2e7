/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freezer-private.h — what freezer.c shares with freezer-confine.c (the
 * confinement guard that keeps tests, and a confined agent, off every
 * filesystem outside one directory) and freezer-levels.c (the pre-sync and
 * the FIFREEZE of a set, level by level). Nothing outside fsfreeze/freezer*.c
 * includes it.
 */
#ifndef QUIESCE_FSFREEZE_FREEZER_PRIVATE_H
#define QUIESCE_FSFREEZE_FREEZER_PRIVATE_H

#include <glib.h>
#include <sys/types.h>

#include "fsfreeze/freeze-parallel.h"
#include "fsfreeze/freezer.h"

typedef struct {
    FreezeTarget *target;
    int fd;
    gint64 freeze_us; /* its FIFREEZE's duration */
} FsFrozenEntry;

struct FsFrozenSet {
    GPtrArray *entries; /* FsFrozenEntry*, freeze order */
    FsFreezeOps ops;
    FsFreezeTimings timings;
    char *rcu_note; /* owned; why the RCU knob was not set or not put back, or NULL */
};

/* The error for a failed FIFREEZE of @target (EBUSY, EOPNOTSUPP, others). */
void freezer_set_freeze_error(GError **error, const FreezeTarget *target, int err);
/* (transfer full) One item per FsFrozenEntry of @entries: fd and level. */
FsParallelItem *freezer_items_of(GPtrArray *entries);
/* The optional syncfs() pass over @opened (FsFreezeOptions.presync_timeout_us). */
gboolean freezer_presync(FsFrozenSet *set, GPtrArray *opened, const FsFreezeOptions *options,
                         GError **error);
/*
 * FIFREEZE over @opened by levels; moves every entry that froze into @set
 * (freeze order kept), leaving the others in @opened. Stops at the first
 * failure or the deadline. The caller rolls back.
 */
gboolean freezer_freeze_entries(FsFrozenSet *set, GPtrArray *opened, gint64 deadline,
                                GError **error);
/* freezer_freeze_entries() with RCU grace periods expedited around it when
 * @options name the knob (rcu-expedite.h); what became of the knob goes
 * to @set's timings and rcu_note. */
gboolean freezer_freeze_expedited(FsFrozenSet *set, GPtrArray *opened,
                                  const FsFreezeOptions *options, GError **error);

typedef struct {
    char *lexical; /* g_canonicalize_filename(confine_dir) */
    char *real;    /* realpath(confine_dir) */
    GArray *devs;  /* dev_t of the confine dir and each ancestor */
} Confinement;

/* (transfer full) The guard for @dir, or NULL (INVALID_ARGUMENT) when @dir
 * or an ancestor cannot be stat()ed. */
Confinement *confinement_new(const char *dir, GError **error);
void confinement_free(Confinement *confinement);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Confinement, confinement_free)

/* Check (1): @mountpoint, canonicalized lexically, lies strictly below. */
gboolean confinement_check_path(const Confinement *confinement, const char *mountpoint,
                                GError **error);
/* Checks (2) and (3) on an opened @fd of @mountpoint whose st_dev is @dev. */
gboolean confinement_check_fd(const Confinement *confinement, int fd, const char *mountpoint,
                              dev_t dev, GError **error);

#endif
