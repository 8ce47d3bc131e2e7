/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freeze-target.h — one filesystem to freeze, as the probe hands it to the
 * freezer. The probe (fsfreeze/ inventory and classification) decides the
 * order: dependants first (a loop image's filesystem before the filesystem
 * holding its backing file, deeper mountpoints before their parents, `/`
 * last). The freezer freezes an array of targets level by level (index order
 * is freeze order, levels never decrease along it) and thaws in the exact
 * reverse of the levels. Nothing in a target needs probing on the freeze path.
 */
#ifndef QUIESCE_FSFREEZE_FREEZE_TARGET_H
#define QUIESCE_FSFREEZE_FREEZE_TARGET_H

#include <glib.h>
#include <sys/types.h>

typedef struct {
    char *mountpoint; /* owned; the one path used to open the superblock */
    dev_t dev;        /* st_dev of the mountpoint as stat() saw it when probed (on
                       * btrfs the subvolume's anonymous device, not mountinfo's);
                       * mountinfo's major:minor when the probe did not stat */
    char *fstype;     /* owned, e.g. "ext4" */
    guint level;      /* dependency level (freeze-order.h): every target of level
                       * N is frozen before any of level N + 1; targets of one
                       * level are independent and frozen concurrently. 0 when
                       * made by freeze_target_new() */
} FreezeTarget;

FreezeTarget *freeze_target_new(const char *mountpoint, dev_t dev, const char *fstype);
void freeze_target_free(FreezeTarget *target);
FreezeTarget *freeze_target_copy(const FreezeTarget *target);
/* A GPtrArray that owns its FreezeTarget elements. */
GPtrArray *freeze_target_array_new(void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FreezeTarget, freeze_target_free)

#endif
