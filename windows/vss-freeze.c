/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-freeze.c — see the header. The order of calls is VSS's backup
 * sequence (vsbackup.h's IVssBackupComponents): InitializeForBackup,
 * SetContext, SetBackupState, GatherWriterMetadata, StartSnapshotSet,
 * AddToSnapshotSet for each volume, PrepareForBackup, GatherWriterStatus,
 * DoSnapshotSet; then BackupComplete or AbortBackup.
 */
#include "windows/vss-freeze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vsserror.h>

#include "windows/win-error.h"

/* No auto-recovery: the host's snapshot is never written to after the
 * fact (docs/hyperv-reference.md §7); transportable where the edition
 * allows, as qemu-ga does (qga/vss-win32/requester.cpp). */
#define VSS_FREEZE_CONTEXT                                                                    \
    (VSS_CTX_APP_ROLLBACK | VSS_VOLSNAP_ATTR_TRANSPORTABLE | VSS_VOLSNAP_ATTR_NO_AUTORECOVERY | \
     VSS_VOLSNAP_ATTR_TXF_RECOVERY)

#define VSS_MAX_WRITERS 64

void vss_guid_format(const GUID *g, char out[37])
{
    snprintf(out, 37, "%08lx-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             (unsigned long)g->Data1, g->Data2, g->Data3, g->Data4[0], g->Data4[1], g->Data4[2],
             g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}

static void fail_call(VssFailure *failure, const char *call, HRESULT hr)
{
    const char *name = vss_hresult_name(hr);

    failure->code = "freeze-failed";
    if (name) {
        snprintf(failure->message, sizeof(failure->message), "VSS %s failed: %s", call, name);
    } else {
        char *system = win_error_message((DWORD)hr);
        snprintf(failure->message, sizeof(failure->message), "VSS %s failed: %s (0x%08lx)", call,
                 system, (unsigned long)hr);
        free(system);
    }
}

/* A writer that failed makes the snapshot inconsistent for its data: the
 * reason names it (docs/protocol.md, writer-failed). */
static bool writers_failed(VssBackend *backend, VssFailure *failure)
{
    VssWriterInfo writers[VSS_MAX_WRITERS];
    size_t n = 0;
    HRESULT hr = backend->ops->gather_writer_status(backend, writers, VSS_MAX_WRITERS, &n);

    if (FAILED(hr)) {
        fail_call(failure, "GatherWriterStatus", hr);
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        const char *hr_name = vss_hresult_name(writers[i].failure);
        if (writers[i].state < VSS_WS_FAILED_AT_IDENTIFY) {
            continue;
        }
        failure->code = "writer-failed";
        snprintf(failure->message, sizeof(failure->message),
                 "VSS writer '%s' is in state '%s' (%s); nothing was frozen", writers[i].name,
                 vss_writer_state_name(writers[i].state), hr_name ? hr_name : "no failure code");
        return true;
    }
    return false;
}

static bool prepare_set(VssBackend *b, bool full_backup, const WinVolume *const *volumes, size_t n,
                        GUID *set_id, VssFailure *failure)
{
    HRESULT hr = b->ops->initialize_for_backup(b);

    if (FAILED(hr)) {
        fail_call(failure, "InitializeForBackup", hr);
        return false;
    }
    hr = b->ops->set_context(b, VSS_FREEZE_CONTEXT);
    if (hr == VSS_E_UNSUPPORTED_CONTEXT) {
        /* Client editions refuse transportable shadow copies. */
        hr = b->ops->set_context(b, VSS_FREEZE_CONTEXT & ~VSS_VOLSNAP_ATTR_TRANSPORTABLE);
    }
    if (FAILED(hr)) {
        fail_call(failure, "SetContext", hr);
        return false;
    }
    hr = b->ops->set_backup_state(b, full_backup ? VSS_BT_FULL : VSS_BT_COPY);
    if (FAILED(hr)) {
        fail_call(failure, "SetBackupState", hr);
        return false;
    }
    hr = b->ops->gather_writer_metadata(b);
    if (FAILED(hr)) {
        fail_call(failure, "GatherWriterMetadata", hr);
        return false;
    }
    hr = b->ops->start_snapshot_set(b, set_id);
    if (FAILED(hr)) {
        fail_call(failure, "StartSnapshotSet", hr);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        wchar_t *name = win_wide_from_utf8(volumes[i]->name);
        hr = b->ops->add_to_snapshot_set(b, name);
        free(name);
        if (FAILED(hr)) {
            fail_call(failure, "AddToSnapshotSet", hr);
            snprintf(failure->message + strlen(failure->message),
                     sizeof(failure->message) - strlen(failure->message), " for %s",
                     win_volume_label(volumes[i]));
            return false;
        }
    }
    hr = b->ops->prepare_for_backup(b);
    if (FAILED(hr)) {
        fail_call(failure, "PrepareForBackup", hr);
        writers_failed(b, failure);
        return false;
    }
    return !writers_failed(b, failure);
}

/* Waits for the provider's "frozen" while DoSnapshotSet is pending: the
 * writers freeze, VSS flushes and holds, and calls our provider. */
static bool wait_frozen(VssBackend *b, VssFailure *failure)
{
    ULONGLONG start = GetTickCount64();

    while (GetTickCount64() - start < VSS_WRITER_WINDOW_MS) {
        HRESULT status;
        if (b->ops->wait_frozen(b, 20)) {
            return true;
        }
        status = b->ops->snapshot_status(b);
        if (status != VSS_S_ASYNC_PENDING) {
            if (!writers_failed(b, failure)) {
                fail_call(failure, "DoSnapshotSet", FAILED(status) ? status : E_FAIL);
            }
            return false;
        }
    }
    failure->code = "freeze-failed";
    snprintf(failure->message, sizeof(failure->message),
             "VSS did not reach the snapshot commit within %d s (writers too slow to freeze)",
             VSS_WRITER_WINDOW_MS / 1000);
    return false;
}

VssBackend *vss_freeze_begin(VssBackendFactory factory, bool full_backup,
                             const WinVolume *const *volumes, size_t n, GUID *set_id,
                             VssFailure *failure)
{
    ProtoError *error = NULL;
    VssBackend *b = factory(&error);
    HRESULT hr;

    if (!b) {
        failure->code = "freeze-failed";
        snprintf(failure->message, sizeof(failure->message), "%s", error->desc);
        proto_error_free(error);
        return NULL;
    }
    if (prepare_set(b, full_backup, volumes, n, set_id, failure)) {
        hr = b->ops->do_snapshot_set(b);
        if (FAILED(hr)) {
            fail_call(failure, "DoSnapshotSet", hr);
        } else if (wait_frozen(b, failure)) {
            return b;
        }
        /* The provider may be holding already: let it go before aborting. */
        b->ops->release_hold(b);
        b->ops->wait_snapshot(b, VSS_PROVIDER_HOLD_MS);
    }
    b->ops->abort_backup(b);
    b->ops->free(b);
    return NULL;
}

bool vss_freeze_lost(VssBackend *b)
{
    return b->ops->hold_timed_out(b) || b->ops->snapshot_status(b) != VSS_S_ASYNC_PENDING;
}

bool vss_freeze_end(VssBackend *b, bool abort, char *message, size_t size)
{
    bool lost = vss_freeze_lost(b);
    HRESULT status;
    bool ok = false;

    b->ops->release_hold(b);
    status = b->ops->wait_snapshot(b, VSS_HOLD_LIMIT_MS);
    if (abort) {
        snprintf(message, size, "aborted");
    } else if (b->ops->hold_timed_out(b) || status == VSS_E_HOLD_WRITES_TIMEOUT ||
               (lost && status != VSS_S_ASYNC_FINISHED)) {
        snprintf(message, size,
                 "VSS ended the hold of writes on its own (it allows %d s), so writes reached "
                 "the disks during the snapshot",
                 VSS_HOLD_LIMIT_MS / 1000);
    } else if (status != VSS_S_ASYNC_FINISHED) {
        const char *name = vss_hresult_name(status);
        snprintf(message, size, "DoSnapshotSet ended with %s (0x%08lx)", name ? name : "an error",
                 (unsigned long)status);
    } else {
        HRESULT hr = b->ops->backup_complete(b);
        ok = true;
        if (FAILED(hr)) {
            /* The snapshot was taken inside the hold: it stays good; the
             * writers only miss their "backup complete". */
            snprintf(message, size, "BackupComplete failed (0x%08lx)", (unsigned long)hr);
        } else {
            message[0] = '\0';
        }
    }
    if (!ok) {
        b->ops->abort_backup(b);
    }
    b->ops->free(b);
    return ok;
}
