/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-freeze.h — one freeze through VSS, from InitializeForBackup to the
 * provider's "frozen", and its end (BackupComplete or AbortBackup). The
 * engine owns the session around it; this file owns the order of the VSS
 * calls, which is VSS's documented backup sequence.
 */
#ifndef QUIESCE_VSS_FREEZE_H
#define QUIESCE_VSS_FREEZE_H

#include <stdbool.h>
#include <stddef.h>

#include "windows/volumes.h"
#include "windows/vss-backend.h"

/* Why a freeze could not start: a reason code of docs/protocol.md
 * (writer-failed, freeze-failed) and a message naming the writer or call. */
typedef struct {
    const char *code;
    char message[400];
} VssFailure;

/*
 * Quiesces the writers and freezes volumes through VSS; returns the backend
 * holding the freeze (transfer full) and the snapshot set's id, or NULL with
 * *failure set and nothing held: every failure path ends in AbortBackup.
 * full_backup selects VSS_BT_FULL; the default is a copy-only backup so
 * that writers do not truncate their logs (qemu-ga asks for a full one).
 */
VssBackend *vss_freeze_begin(VssBackendFactory factory, bool full_backup,
                             const WinVolume *const *volumes, size_t n, GUID *set_id,
                             VssFailure *failure);

/*
 * Lets the provider go and ends the backup: BackupComplete when the hold
 * lasted, AbortBackup when abort is set or VSS gave up first. Returns true
 * when the snapshot the host took inside the hold is consistent; else false
 * with why in message. Frees backend.
 */
bool vss_freeze_end(VssBackend *backend, bool abort, char *message, size_t size);

/* Whether VSS or the provider already ended the hold on their own. */
bool vss_freeze_lost(VssBackend *backend);

/* A GUID as a lowercase UUID string (37 bytes with the NUL). */
void vss_guid_format(const GUID *guid, char out[37]);

#endif
