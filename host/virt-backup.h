/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-backup.h — the libvirt backend of quiesce-backup: backs up running
 * libvirt domains (`quiesce-backup --connect URI backup DOMAIN... --dest
 * DIR`), each by Hyper-V's two methods (docs/design.md §1):
 *
 *   child snapshot   guest-snapshot-check and -prepare through libvirt's
 *                    agent command; while the guest is frozen, a push-mode
 *                    backup job (virDomainBackupBegin) takes every disk at
 *                    one instant; guest-snapshot-post thaws at once and the
 *                    job copies in the background. A post that fails (the
 *                    window expired, the agent lost the host) cancels the
 *                    job, deletes the copy and falls back.
 *   saved state      prepare said saved-state, the agent is missing or does
 *                    not answer, or the post failed: pause, copy every disk
 *                    with the same backup job, save the guest's memory (a
 *                    memory-only external snapshot, no metadata: a `virsh
 *                    restore` image), resume. The pause costs the copy and
 *                    the memory save (virt-backup.c says why).
 *
 * Files go to DIR on the host libvirtd runs on: DIR/DOMAIN.TARGET.img (raw)
 * per disk and DIR/DOMAIN.memory for a saved state. virt-backup.c is one
 * domain's flow; virt-run.c runs several at once (-j), shows the copy's
 * progress and turns the outcomes into the exit status.
 */
#ifndef QUIESCE_HOST_VIRT_BACKUP_H
#define QUIESCE_HOST_VIRT_BACKUP_H

#include <glib.h>

#include "host/report.h"

/* Exit status of a libvirt backup (README, --help). */
#define VIRT_EXIT_CHILD_SNAPSHOT 0 /* every domain by child snapshot */
#define VIRT_EXIT_FAILED 1         /* at least one domain has no backup */
#define VIRT_EXIT_USAGE 2
#define VIRT_EXIT_SAVED_STATE 3    /* every domain backed up, at least one by saved state */

typedef enum {
    VIRT_OUTCOME_CHILD_SNAPSHOT,
    VIRT_OUTCOME_SAVED_STATE,
    VIRT_OUTCOME_FAILED,
} VirtOutcome;

typedef struct VirtOutput VirtOutput;

typedef struct {
    const char *uri;         /* NULL: libvirt's default */
    const char *dest;        /* a directory on libvirtd's host */
    int agent_timeout_s;     /* guest-snapshot-check (libvirt syncs first) */
    int prepare_timeout_s;   /* guest-snapshot-prepare (writers run in it) */
    int command_timeout_s;   /* post and abort */
    int hold_frozen_ms;      /* tests: after the backup job starts, wait before post */
    int jobs;                /* domains backed up at once */
    gboolean quiet;
    gboolean json;
    const char *report_path; /* key=value lines, DOMAIN.key=value */
} VirtOptions;

/* One domain (virt-backup.c); fills report, prints through out. */
VirtOutcome virt_backup_domain(const VirtOptions *options, const char *name, VirtOutput *out,
                               Report *report);

/* Every domain, options->jobs at a time (virt-run.c); prints the reports and
 * returns the exit status (VIRT_EXIT_*). */
int virt_backup_run(const VirtOptions *options, char **domains);

/* Output shared by the domains' threads (virt-run.c): a line for people,
 * prefixed with the time and the domain, and the copy's progress. */
void virt_output_say(VirtOutput *out, const char *domain, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void virt_output_progress(VirtOutput *out, const char *domain, guint64 done, guint64 total);

#endif
