/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-set.h — the VM's disks as one snapshot set, driven over QMP.
 *
 * A snapshot is QEMU's external snapshot: blockdev-snapshot-sync puts a new
 * qcow2 overlay on top of each disk, so the image file that was active until
 * then stops changing — that file IS the snapshot — and the guest's new
 * writes go to the overlay. All disks are snapshotted by ONE QMP transaction,
 * so the set is taken at a single instant or not at all. Afterwards the
 * driver copies the snapshot images to the backup directory and merges each
 * overlay back (block-commit of the active layer), which leaves the VM with
 * the chain it had before; merging back without a copy discards the set.
 */
#ifndef QUIESCE_HOST_DISK_SET_H
#define QUIESCE_HOST_DISK_SET_H

#include <glib.h>

#include "host/qmp-client.h"

typedef struct {
    char *device;       /* QEMU's drive id, e.g. "vdb" */
    char *image;        /* the active image file when queried: the snapshot to be */
    char *node;         /* its format node's name (block-commit's base-node) */
    char *overlay;      /* the overlay file once snapshotted, else NULL */
} Disk;

typedef struct {
    GPtrArray *disks;   /* Disk *, owned */
} DiskSet;

/* Every inserted, writable drive of the VM (query-block). */
DiskSet *disk_set_query(QmpClient *qmp, int timeout_ms, GError **error);
void disk_set_free(DiskSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DiskSet, disk_set_free)

/* "vdb vdc" for messages (transfer full). */
char *disk_set_describe(const DiskSet *set);

/* One transaction of blockdev-snapshot-sync over every disk, overlays named
 * DIR/DEVICE-TAG.qcow2 (DIR: overlay_dir, or the image's own directory). */
gboolean disk_set_snapshot(DiskSet *set, QmpClient *qmp, const char *overlay_dir,
                           const char *tag, int timeout_ms, GError **error);

/* Copies each snapshot image to DIR/DEVICE.img, keeping holes. */
gboolean disk_set_copy(const DiskSet *set, const char *backup_dir, GError **error);

/* Merges every overlay back into its snapshot image and deletes the overlay
 * files; the VM runs on its original images again. Tries every disk and
 * reports the first failure. */
gboolean disk_set_merge_back(DiskSet *set, QmpClient *qmp, int timeout_ms, GError **error);

#endif
