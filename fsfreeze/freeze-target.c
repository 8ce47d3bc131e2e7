/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freeze-target.c — constructor and destructor of FreezeTarget; see the header.
 */
#include "fsfreeze/freeze-target.h"

FreezeTarget *freeze_target_new(const char *mountpoint, dev_t dev, const char *fstype)
{
    FreezeTarget *target = g_new0(FreezeTarget, 1);
    target->mountpoint = g_strdup(mountpoint);
    target->dev = dev;
    target->fstype = g_strdup(fstype);
    return target;
}

void freeze_target_free(FreezeTarget *target)
{
    if (!target) {
        return;
    }
    g_free(target->mountpoint);
    g_free(target->fstype);
    g_free(target);
}

FreezeTarget *freeze_target_copy(const FreezeTarget *target)
{
    FreezeTarget *copy = freeze_target_new(target->mountpoint, target->dev, target->fstype);
    copy->level = target->level;
    return copy;
}

GPtrArray *freeze_target_array_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)freeze_target_free);
}
