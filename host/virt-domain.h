/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-domain.h — one libvirt domain as the libvirt backend of
 * quiesce-backup sees it: its own connection (virConnectOpen on the URI as
 * given, so qemu:///system and qemu+ssh://host/system alike), the agent
 * reached through virDomainQemuAgentCommand, libvirt's push-mode backup job
 * (virDomainBackupBegin) as the point-in-time copy of every disk, and the
 * pause and memory save of the Saved State fallback. Every call turns
 * libvirt's error into a GError; nothing here decides what to do next
 * (virt-backup.c does).
 *
 * One VirtDomain per thread: each has its own connection, so a domain whose
 * libvirt calls hang or fail touches no other.
 */
#ifndef QUIESCE_HOST_VIRT_DOMAIN_H
#define QUIESCE_HOST_VIRT_DOMAIN_H

#include <glib.h>

#include "common/protocol-glib.h"

typedef struct VirtDomain VirtDomain;

/* Connects to uri (NULL: libvirt's default) and looks the domain up; it must
 * be running or paused. */
VirtDomain *virt_domain_open(const char *uri, const char *name, GError **error);
void virt_domain_free(VirtDomain *domain);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VirtDomain, virt_domain_free)

/* The targets ("vda", ...) of the domain's writable disks, in XML order
 * (transfer none). CD-ROMs, floppies and read-only disks are not copied. */
GPtrArray *virt_domain_disks(const VirtDomain *domain);
/* "vda vdb" (transfer full). */
char *virt_domain_describe(const VirtDomain *domain);
/* TRUE when libvirtd runs on this machine (the URI names no other host), so
 * this process can delete a discarded copy itself. */
gboolean virt_domain_is_local(const VirtDomain *domain);
gboolean virt_domain_is_paused(const VirtDomain *domain);

/* One agent command through libvirt (which sends its own guest-sync first);
 * arguments may be NULL (transfer full). Returns the "return" member
 * (transfer full). Errors: QUIESCE_ERROR_NOT_FOUND when the agent is not
 * connected or does not answer in time (libvirt's VIR_ERR_AGENT_UNRESPONSIVE),
 * QUIESCE_ERROR_FAILED with the agent's or libvirt's message otherwise. */
JsonValue *virt_domain_agent(VirtDomain *domain, const char *command, JsonValue *arguments,
                             int timeout_s, GError **error);

/* Push-mode backup of every disk to dir/PREFIX.TARGET.img (raw): the point
 * in time is this call's, the copy runs in the background in QEMU. The paths
 * are added to created (transfer full strings) before the call, so a caller
 * can remove them whatever happens. */
gboolean virt_domain_backup_begin(VirtDomain *domain, const char *dir, const char *prefix,
                                  GPtrArray *created, GError **error);

typedef void (*VirtProgressFunc)(guint64 done, guint64 total, gpointer data);

/* Polls the backup job until it ends; progress, if set, is called on every
 * poll. *bytes receives the bytes the job processed. Fails when the job did
 * not complete. */
gboolean virt_domain_backup_wait(VirtDomain *domain, VirtProgressFunc progress, gpointer data,
                                 guint64 *bytes, GError **error);
/* Cancels a running backup job (no error when none runs). */
void virt_domain_backup_abort(VirtDomain *domain);

gboolean virt_domain_suspend(VirtDomain *domain, GError **error);
gboolean virt_domain_resume(VirtDomain *domain, GError **error);
/* Saves the guest's memory and device state to path (on the host libvirtd
 * runs on) with a memory-only external snapshot without metadata: the file
 * is a libvirt save image (`virsh restore`). Leaves a paused domain paused. */
gboolean virt_domain_save_memory(VirtDomain *domain, const char *path, GError **error);

#endif
