/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backup.h — one backup of a running VM, driven from the host.
 *
 * Session mode (backup-session.c) is Hyper-V's flow on top of the agent's
 * snapshot-session extension: check, prepare (the guest's writers quiesce and
 * its filesystems freeze), one atomic snapshot of every disk, post (thaw).
 * When the guest answers "saved-state", or the agent does not answer in
 * time, the VM is paused instead (stop, snapshot, cont): Hyper-V's Saved
 * State backup. Any failure discards the whole set — there are no partial
 * backups.
 *
 * --no-quiesce (backup_unquiesced_run, backup.c) is for tests and
 * diagnostics only: the same atomic snapshot with no agent, no prepare/post
 * and no pause, i.e. a crash-consistent copy of a running guest. The vm
 * tests take one as the negative control that their snapshot checks must
 * fail (tests/vm/README.md).
 *
 * libvirt mode (backup-libvirt.c) sends exactly what `virsh snapshot-create
 * --disk-only --quiesce` sends, to show a stock host works unchanged.
 *
 * backup.c holds what both share: the QMP side, the Saved State fallback, the
 * copy of the snapshot set and the merge back of the overlays; and the
 * unquiesced snapshot.
 */
#ifndef QUIESCE_HOST_BACKUP_H
#define QUIESCE_HOST_BACKUP_H

#include <glib.h>

#include "host/disk-set.h"
#include "host/qmp-client.h"
#include "host/report.h"

typedef struct {
    const char *qmp_path;
    const char *agent_path;
    const char *overlay_dir;       /* NULL: next to each image */
    const char *backup_dir;        /* NULL: keep no copy */
    int agent_timeout_ms;          /* until the agent must answer a sync */
    int prepare_timeout_ms;        /* guest-snapshot-prepare (writers run in it) */
    int command_timeout_ms;        /* every other agent and QMP call */
    gboolean keep_overlays;        /* leave the overlays; no merge back */
    gboolean vanish_after_prepare; /* tests: exit after prepare, no post */
    int linger_ms;                 /* tests: before vanishing, stay connected, silent */
    int hold_frozen_ms;            /* tests: after the snapshot, wait before post/thaw */
    gboolean quiet;
} BackupOptions;

typedef struct {
    const BackupOptions *options;
    Report *report;
    gint64 started;                /* g_get_monotonic_time() */
    QmpClient *qmp;
    DiskSet *disks;
    char *tag;                     /* names this backup's overlays */
} BackupRun;

/* Each mode fills report and returns FALSE with error when no backup was
 * made. */
gboolean backup_session_run(const BackupOptions *options, Report *report, GError **error);
gboolean backup_libvirt_run(const BackupOptions *options, Report *report, GError **error);
gboolean backup_unquiesced_run(const BackupOptions *options, Report *report, GError **error);

/* Shared steps (backup.c). */
void backup_run_init(BackupRun *run, const BackupOptions *options, Report *report);
void backup_run_clear(BackupRun *run);
/* Prints "[ seconds] message" unless quiet. */
void backup_say(const BackupRun *run, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Connects QMP, checks the VM runs, lists the disks. */
gboolean backup_open_vm(BackupRun *run, GError **error);
/* The atomic snapshot of every disk; records snapshot time under key. */
gboolean backup_snapshot(BackupRun *run, GError **error);
/* Saved State: stop, snapshot, cont (cont even when the snapshot failed). */
gboolean backup_saved_state(BackupRun *run, const char *reason, GError **error);
/* Tests (--hold-frozen): after the snapshot, keep the guest frozen a while. */
void backup_hold_frozen(const BackupRun *run);
/* After a good snapshot: copy the set to backup_dir and merge back. */
gboolean backup_finish(BackupRun *run, GError **error);
/* After a failure: merge back whatever overlays exist (discard the set). */
void backup_discard(BackupRun *run);

#endif
