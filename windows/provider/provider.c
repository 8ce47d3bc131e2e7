/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * provider.c — our VSS software provider, in plain C: one COM object with
 * the three interfaces VSS asks a provider for. It takes no shadow copy of
 * its own: the host snapshots the disks while we hold. In CommitSnapshots,
 * called while VSS holds every write of the set, it signals "frozen" and
 * waits for the agent's "thaw", but never longer than VSS_PROVIDER_HOLD_MS:
 * VSS cancels the hold at 10 s (docs/hyperv-reference.md §7), and a
 * provider that outlives it only makes the writers' view and the disks'
 * disagree. qemu-ga's provider waits up to 60 s there.
 */
#include <initguid.h>

#include <string.h>
#include <windows.h>
#include <vss.h>
#include <vsprov.h>
#include <vsserror.h>

#include "windows/provider/provider.h"
#include "windows/vss-backend.h"
#include "windows/vss-events.h"

typedef struct {
    IVssSoftwareSnapshotProvider software;
    IVssProviderCreateSnapshotSet create;
    IVssProviderNotifications notify;
    LONG refs;
} Provider;

#define FROM(iface, member) ((Provider *)((char *)(iface) - offsetof(Provider, member)))

static HRESULT provider_query(Provider *p, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IVssSoftwareSnapshotProvider)) {
        *out = &p->software;
    } else if (IsEqualIID(riid, &IID_IVssProviderCreateSnapshotSet)) {
        *out = &p->create;
    } else if (IsEqualIID(riid, &IID_IVssProviderNotifications)) {
        *out = &p->notify;
    } else {
        *out = NULL;
        return E_NOINTERFACE;
    }
    InterlockedIncrement(&p->refs);
    return S_OK;
}

static ULONG provider_release(Provider *p)
{
    LONG refs = InterlockedDecrement(&p->refs);

    if (refs == 0) {
        HeapFree(GetProcessHeap(), 0, p);
        provider_module_unlock();
    }
    return (ULONG)refs;
}

/* IVssSoftwareSnapshotProvider: we own no snapshots, so queries find none. */
static HRESULT WINAPI sw_query_interface(IVssSoftwareSnapshotProvider *t, REFIID r, void **o)
{
    return provider_query(FROM(t, software), r, o);
}
static ULONG WINAPI sw_add_ref(IVssSoftwareSnapshotProvider *t)
{
    return (ULONG)InterlockedIncrement(&FROM(t, software)->refs);
}
static ULONG WINAPI sw_release(IVssSoftwareSnapshotProvider *t)
{
    return provider_release(FROM(t, software));
}
static HRESULT WINAPI sw_set_context(IVssSoftwareSnapshotProvider *t, LONG c)
{
    return S_OK;
}
static HRESULT WINAPI sw_get_properties(IVssSoftwareSnapshotProvider *t, VSS_ID id,
                                        VSS_SNAPSHOT_PROP *p)
{
    return VSS_E_OBJECT_NOT_FOUND;
}
static HRESULT WINAPI sw_query(IVssSoftwareSnapshotProvider *t, VSS_ID id, VSS_OBJECT_TYPE a,
                               VSS_OBJECT_TYPE b, IVssEnumObject **e)
{
    *e = NULL;
    return E_NOTIMPL;
}
static HRESULT WINAPI sw_delete(IVssSoftwareSnapshotProvider *t, VSS_ID id, VSS_OBJECT_TYPE a,
                                WINBOOL force, LONG *n, VSS_ID *nondeleted)
{
    *n = 0;
    memset(nondeleted, 0, sizeof(*nondeleted));
    return S_OK;
}
static HRESULT WINAPI sw_begin_prepare(IVssSoftwareSnapshotProvider *t, VSS_ID set, VSS_ID id,
                                       VSS_PWSZ volume, LONG context)
{
    return S_OK;
}
static HRESULT WINAPI sw_is_supported(IVssSoftwareSnapshotProvider *t, VSS_PWSZ volume,
                                      WINBOOL *supported)
{
    *supported = TRUE; /* the agent chose the volumes (windows/volumes.c) */
    return S_OK;
}
static HRESULT WINAPI sw_is_snapshotted(IVssSoftwareSnapshotProvider *t, VSS_PWSZ volume,
                                        WINBOOL *present, LONG *compatibility)
{
    *present = FALSE;
    *compatibility = 0;
    return S_OK;
}
static HRESULT WINAPI sw_set_property(IVssSoftwareSnapshotProvider *t, VSS_ID id,
                                      VSS_SNAPSHOT_PROPERTY_ID p, VARIANT v)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI sw_revert(IVssSoftwareSnapshotProvider *t, VSS_ID id)
{
    return E_NOTIMPL;
}
static HRESULT WINAPI sw_revert_status(IVssSoftwareSnapshotProvider *t, VSS_PWSZ v, IVssAsync **a)
{
    return E_NOTIMPL;
}

static const IVssSoftwareSnapshotProviderVtbl software_vtbl = {
    sw_query_interface, sw_add_ref,       sw_release,      sw_set_context,
    sw_get_properties,  sw_query,         sw_delete,       sw_begin_prepare,
    sw_is_supported,    sw_is_snapshotted, sw_set_property, sw_revert,
    sw_revert_status,
};

/* IVssProviderCreateSnapshotSet: only CommitSnapshots does anything. */
static HRESULT WINAPI cs_query_interface(IVssProviderCreateSnapshotSet *t, REFIID r, void **o)
{
    return provider_query(FROM(t, create), r, o);
}
static ULONG WINAPI cs_add_ref(IVssProviderCreateSnapshotSet *t)
{
    return (ULONG)InterlockedIncrement(&FROM(t, create)->refs);
}
static ULONG WINAPI cs_release(IVssProviderCreateSnapshotSet *t)
{
    return provider_release(FROM(t, create));
}
static HRESULT WINAPI cs_nothing(IVssProviderCreateSnapshotSet *t, VSS_ID set)
{
    return S_OK;
}
static HRESULT WINAPI cs_post_commit(IVssProviderCreateSnapshotSet *t, VSS_ID set, LONG n)
{
    return S_OK;
}

static HRESULT WINAPI cs_commit(IVssProviderCreateSnapshotSet *t, VSS_ID set)
{
    HANDLE frozen = OpenEventW(EVENT_MODIFY_STATE, FALSE, VSS_EVENT_FROZEN);
    HANDLE thaw = OpenEventW(SYNCHRONIZE, FALSE, VSS_EVENT_THAW);
    HANDLE timeout = OpenEventW(EVENT_MODIFY_STATE, FALSE, VSS_EVENT_TIMEOUT);
    HRESULT hr = S_OK;

    if (!frozen || !thaw || !timeout) {
        /* No agent waits: holding would freeze the guest for nobody. */
        hr = VSS_E_PROVIDER_VETO;
    } else {
        SetEvent(frozen);
        if (WaitForSingleObject(thaw, VSS_PROVIDER_HOLD_MS) != WAIT_OBJECT_0) {
            SetEvent(timeout);
            hr = VSS_E_PROVIDER_VETO;
        }
    }
    vss_events_close(frozen, thaw, timeout);
    return hr;
}

static const IVssProviderCreateSnapshotSetVtbl create_vtbl = {
    cs_query_interface, cs_add_ref, cs_release, cs_nothing, cs_nothing,
    cs_commit,          cs_post_commit, cs_nothing, cs_nothing, cs_nothing,
};

static HRESULT WINAPI nt_query_interface(IVssProviderNotifications *t, REFIID r, void **o)
{
    return provider_query(FROM(t, notify), r, o);
}
static ULONG WINAPI nt_add_ref(IVssProviderNotifications *t)
{
    return (ULONG)InterlockedIncrement(&FROM(t, notify)->refs);
}
static ULONG WINAPI nt_release(IVssProviderNotifications *t)
{
    return provider_release(FROM(t, notify));
}
static HRESULT WINAPI nt_on_load(IVssProviderNotifications *t, IUnknown *callback)
{
    return S_OK;
}
static HRESULT WINAPI nt_on_unload(IVssProviderNotifications *t, WINBOOL force)
{
    return S_OK;
}

static const IVssProviderNotificationsVtbl notify_vtbl = {
    nt_query_interface, nt_add_ref, nt_release, nt_on_load, nt_on_unload,
};

HRESULT provider_create(REFIID riid, void **out)
{
    Provider *p = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*p));
    HRESULT hr;

    if (!p) {
        return E_OUTOFMEMORY;
    }
    p->software.lpVtbl = (IVssSoftwareSnapshotProviderVtbl *)&software_vtbl;
    p->create.lpVtbl = (IVssProviderCreateSnapshotSetVtbl *)&create_vtbl;
    p->notify.lpVtbl = (IVssProviderNotificationsVtbl *)&notify_vtbl;
    p->refs = 1;
    provider_module_lock();
    hr = provider_query(p, riid, out);
    provider_release(p);
    return hr;
}
