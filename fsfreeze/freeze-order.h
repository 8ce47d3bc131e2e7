/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * freeze-order.h — the order to freeze a set of filesystems in.
 *
 * Two rules (docs/design.md §7):
 *
 * - A loop device's filesystem is frozen before the filesystem holding its
 *   image. The other way round deadlocks: freezing the loop filesystem
 *   writes its dirty data through the loop device into the image, and those
 *   writes block forever on the already-frozen holder (open-vm-tools #6).
 *   This is a hard constraint; a cycle of them is an error.
 * - Deeper mountpoints before their parents, `/` last, like qemu-ga's
 *   reverse mount order. This is a preference only: among the filesystems
 *   whose constraints are met, the one with the deepest mountpoint goes
 *   first, later mounts before earlier ones at equal depth. A superblock
 *   counts at the depth of its shallowest mountpoint (its aliases included),
 *   so a btrfs whose subvolume is `/` still goes last. Since a mount is
 *   always deeper than its parent, this puts children first whenever no loop
 *   says otherwise; a loop image of `/` kept on a filesystem mounted below
 *   it correctly puts `/` first.
 *
 * Levels: each target gets the length of the longest chain of loop
 * dependencies below it (0 for a filesystem no other one in the set lives
 * in). The freezer freezes one level at a time, the targets of a level
 * concurrently: they are independent superblocks, and the freeze of one
 * does not write to another. Mount nesting is not a dependency (freezing a
 * parent writes nothing to its children, and the reverse), so the depth
 * rule only orders targets inside a level. The returned array is sorted by
 * level, depth order kept inside each.
 *
 * Thaw is the exact reverse of the levels (the freezer's job).
 */
#ifndef QUIESCE_FSFREEZE_FREEZE_ORDER_H
#define QUIESCE_FSFREEZE_FREEZE_ORDER_H

#include "fsfreeze/freeze-target.h"
#include "fsfreeze/inventory.h"

#include <glib.h>

/* Orders the set of mounts (borrowed InventoryMount pointers from one
 * inventory). Loop images on filesystems outside the set impose nothing.
 * Fails with QUIESCE_ERROR_FAILED on a cycle of loop dependencies or when a
 * loop device in the set has no usable backing-file path. Returns an array
 * of FreezeTarget in freeze order (see freeze_target_array_new()).
 * (transfer full) */
GPtrArray *freeze_order_compute(GPtrArray *mounts, GError **error);

#endif
