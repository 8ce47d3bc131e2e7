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
    GString *knob_notes; /* ", RCU not expedited: why", ...; NULL when none */
};

/* The error for a failed FIFREEZE of @target (EBUSY, EOPNOTSUPP, others). */
void freezer_set_freeze_error(GError **error, const FreezeTarget *target, int err);
/* (transfer full) One item per FsFrozenEntry of @entries: fd and level. */
FsParallelItem *freezer_items_of(GPtrArray *entries);
/*
 * The pre-sync and the FIFREEZE calls (freezer_freeze_entries()), with the
 * flush ahead of the applications and RCU grace periods expedited where
 * @options ask for it (kernel-knob.h); what became of the knobs goes to
 * @set's timings and knob_notes. *synced: whether the pre-sync succeeded
 * (when it did not, nothing was frozen). The caller rolls back.
 */
gboolean freezer_flush_and_freeze(FsFrozenSet *set, GPtrArray *opened,
                                  const FsFreezeOptions *options, gboolean *synced, GError **error);

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
