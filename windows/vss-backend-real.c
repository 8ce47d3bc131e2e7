/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vss-backend-real.c — the backend table on Windows's own VSS, in plain C
 * through the lpVtbl interfaces of mingw-w64's vsbackup.h (libvssapi). Not
 * testable here (wine has no VSS): docs/windows.md says what to try first.
 *
 * The provider handshake uses three named events in Global\ so that our
 * provider, loaded by the VSS service in another process, finds them.
 */
#include <stdlib.h>
#include <vsbackup.h>
#include <vsserror.h>

#include "protocol/proto-alloc.h"
#include "windows/vss-backend.h"
#include "windows/vss-events.h"
#include "windows/win-error.h"

typedef struct {
    VssBackend base;
    IVssBackupComponents *components;
    IVssAsync *snapshot; /* DoSnapshotSet's */
    HANDLE frozen, thaw, timeout;
    bool com;
} RealBackend;

static IVssBackupComponents *vbc(VssBackend *b)
{
    return ((RealBackend *)b)->components;
}

/* Waits for one IVssAsync with a bound and releases it. */
static HRESULT wait_async(IVssAsync *async, DWORD ms)
{
    HRESULT status = E_FAIL;

    async->lpVtbl->Wait(async, ms);
    if (SUCCEEDED(async->lpVtbl->QueryStatus(async, &status, NULL)) &&
        status == VSS_S_ASYNC_PENDING) {
        async->lpVtbl->Cancel(async);
        status = HRESULT_FROM_WIN32(ERROR_TIMEOUT);
    }
    async->lpVtbl->Release(async);
    return status == VSS_S_ASYNC_FINISHED ? S_OK : status;
}

#define ASYNC_CALL(call)                                                                        \
    do {                                                                                        \
        IVssAsync *async = NULL;                                                                \
        HRESULT hr = (call);                                                                    \
        return FAILED(hr) ? hr : wait_async(async, VSS_ASYNC_LIMIT_MS);                         \
    } while (0)

static HRESULT real_initialize(VssBackend *b)
{
    return vbc(b)->lpVtbl->InitializeForBackup(vbc(b), NULL);
}

static HRESULT real_set_context(VssBackend *b, LONG context)
{
    return vbc(b)->lpVtbl->SetContext(vbc(b), context);
}

static HRESULT real_set_backup_state(VssBackend *b, VSS_BACKUP_TYPE type)
{
    return vbc(b)->lpVtbl->SetBackupState(vbc(b), FALSE, TRUE, type, FALSE);
}

static HRESULT real_gather_metadata(VssBackend *b)
{
    ASYNC_CALL(vbc(b)->lpVtbl->GatherWriterMetadata(vbc(b), &async));
}

static HRESULT real_start_set(VssBackend *b, GUID *set_id)
{
    return vbc(b)->lpVtbl->StartSnapshotSet(vbc(b), set_id);
}

static HRESULT real_add(VssBackend *b, const wchar_t *volume)
{
    VSS_ID id;
    return vbc(b)->lpVtbl->AddToSnapshotSet(vbc(b), (VSS_PWSZ)volume, vss_quiesce_provider_id,
                                            &id);
}

static HRESULT real_prepare(VssBackend *b)
{
    ASYNC_CALL(vbc(b)->lpVtbl->PrepareForBackup(vbc(b), &async));
}

static HRESULT real_writer_status(VssBackend *b, VssWriterInfo *out, size_t max, size_t *n)
{
    IVssBackupComponents *c = vbc(b);
    IVssAsync *async = NULL;
    UINT count = 0;
    HRESULT hr = c->lpVtbl->GatherWriterStatus(c, &async);

    *n = 0;
    if (SUCCEEDED(hr)) {
        hr = wait_async(async, VSS_ASYNC_LIMIT_MS);
    }
    if (SUCCEEDED(hr)) {
        hr = c->lpVtbl->GetWriterStatusCount(c, &count);
    }
    for (UINT i = 0; SUCCEEDED(hr) && i < count && *n < max; i++) {
        VSS_ID instance, writer;
        BSTR name = NULL;
        VssWriterInfo *info = &out[*n];
        if (FAILED(c->lpVtbl->GetWriterStatus(c, i, &instance, &writer, &name, &info->state,
                                              &info->failure))) {
            continue;
        }
        WideCharToMultiByte(CP_UTF8, 0, name, -1, info->name, sizeof(info->name), NULL, NULL);
        SysFreeString(name);
        (*n)++;
    }
    c->lpVtbl->FreeWriterStatus(c);
    return hr;
}

static HRESULT real_do_snapshot(VssBackend *b)
{
    return vbc(b)->lpVtbl->DoSnapshotSet(vbc(b), &((RealBackend *)b)->snapshot);
}

static HRESULT real_snapshot_status(VssBackend *b)
{
    IVssAsync *async = ((RealBackend *)b)->snapshot;
    HRESULT status = E_FAIL;

    if (!async || FAILED(async->lpVtbl->QueryStatus(async, &status, NULL))) {
        return E_FAIL;
    }
    return status;
}

static bool real_wait_frozen(VssBackend *b, DWORD ms)
{
    return WaitForSingleObject(((RealBackend *)b)->frozen, ms) == WAIT_OBJECT_0;
}

static void real_release(VssBackend *b)
{
    SetEvent(((RealBackend *)b)->thaw);
}

static bool real_timed_out(VssBackend *b)
{
    return WaitForSingleObject(((RealBackend *)b)->timeout, 0) == WAIT_OBJECT_0;
}

static HRESULT real_wait_snapshot(VssBackend *b, DWORD ms)
{
    IVssAsync *async = ((RealBackend *)b)->snapshot;

    if (!async) {
        return E_FAIL;
    }
    async->lpVtbl->Wait(async, ms);
    return real_snapshot_status(b);
}

static HRESULT real_complete(VssBackend *b)
{
    ASYNC_CALL(vbc(b)->lpVtbl->BackupComplete(vbc(b), &async));
}

static HRESULT real_abort(VssBackend *b)
{
    return vbc(b)->lpVtbl->AbortBackup(vbc(b));
}

static void real_free(VssBackend *b)
{
    RealBackend *r = (RealBackend *)b;

    if (r->snapshot) {
        r->snapshot->lpVtbl->Release(r->snapshot);
    }
    if (r->components) {
        r->components->lpVtbl->Release(r->components);
    }
    vss_events_close(r->frozen, r->thaw, r->timeout);
    if (r->com) {
        CoUninitialize();
    }
    free(r);
}

static const VssBackendOps real_ops = {
    real_initialize,   real_set_context,     real_set_backup_state, real_gather_metadata,
    real_start_set,    real_add,             real_prepare,          real_writer_status,
    real_do_snapshot,  real_snapshot_status, real_wait_frozen,      real_release,
    real_timed_out,    real_wait_snapshot,   real_complete,         real_abort,
    real_free,
};

VssBackend *vss_backend_new(ProtoError **error)
{
    RealBackend *r = proto_xcalloc(1, sizeof(*r));
    HRESULT hr;

    r->base.ops = &real_ops;
    r->com = SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED));
    if (!vss_events_create(&r->frozen, &r->thaw, &r->timeout)) {
        win_error_set(error, GetLastError(), "cannot create the VSS provider's events");
        real_free(&r->base);
        return NULL;
    }
    hr = CreateVssBackupComponents(&r->components);
    if (FAILED(hr)) {
        win_error_set(error, (DWORD)hr, "cannot create the VSS backup components");
        real_free(&r->base);
        return NULL;
    }
    return &r->base;
}
