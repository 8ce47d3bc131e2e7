/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * provider-dll.c — the DLL's COM entry points and its registration. The
 * lock count and module handle are DLL-wide state that COM's
 * DllCanUnloadNow and DllRegisterServer contract forces on every in-process
 * server (no context is passed to them); they are the only globals here.
 *
 * Registration, as qemu-ga's DllRegisterServer (qga/vss-win32/install.cpp):
 * the COM class (HKLM\SOFTWARE\Classes\CLSID, in-process, apartment
 * threaded, with a ProgID) and the VSS provider (IVssAdmin::RegisterProvider);
 * when a step fails, what the earlier ones wrote is removed again. The COM+
 * catalog calls it while installing the component (windows/
 * provider-catalog.c, docs/windows.md "The provider's registration").
 */
#include <windows.h>
#include <stdio.h>
#include <vss.h>
#include <vsadmin.h>
#include <vsserror.h>

#include "windows/provider/provider.h"
#include "windows/vss-backend.h"

static LONG module_locks;
static HMODULE module_handle;

void provider_module_lock(void)
{
    InterlockedIncrement(&module_locks);
}

void provider_module_unlock(void)
{
    InterlockedDecrement(&module_locks);
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH) {
        module_handle = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}

static HRESULT WINAPI factory_query(IClassFactory *t, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IClassFactory)) {
        *out = t;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}
static ULONG WINAPI factory_add_ref(IClassFactory *t)
{
    return 2; /* static object */
}
static ULONG WINAPI factory_release(IClassFactory *t)
{
    return 1;
}
static HRESULT WINAPI factory_create(IClassFactory *t, IUnknown *outer, REFIID riid, void **out)
{
    *out = NULL;
    return outer ? CLASS_E_NOAGGREGATION : provider_create(riid, out);
}
static HRESULT WINAPI factory_lock(IClassFactory *t, BOOL lock)
{
    if (lock) {
        provider_module_lock();
    } else {
        provider_module_unlock();
    }
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {
    factory_query, factory_add_ref, factory_release, factory_create, factory_lock,
};
static const IClassFactory factory = { (IClassFactoryVtbl *)&factory_vtbl };

HRESULT WINAPI DllGetClassObject(REFCLSID clsid, REFIID riid, void **out)
{
    if (!IsEqualCLSID(clsid, &vss_quiesce_provider_clsid)) {
        *out = NULL;
        return CLASS_E_CLASSNOTAVAILABLE;
    }
    return factory_query((IClassFactory *)&factory, riid, out);
}

HRESULT WINAPI DllCanUnloadNow(void)
{
    return module_locks == 0 ? S_OK : S_FALSE;
}

#define PROGID L"quiesce.VssProvider"

static void clsid_key(wchar_t *out, size_t size, const wchar_t *suffix)
{
    wchar_t clsid[40];

    StringFromGUID2(&vss_quiesce_provider_clsid, clsid, 40);
    _snwprintf(out, size, L"SOFTWARE\\Classes\\CLSID\\%ls%ls", clsid, suffix);
    out[size - 1] = L'\0';
}

static HRESULT set_value(const wchar_t *key, const wchar_t *name, const wchar_t *value)
{
    LSTATUS rc = RegSetKeyValueW(HKEY_LOCAL_MACHINE, key, name, REG_SZ, value,
                                 (DWORD)((wcslen(value) + 1) * sizeof(wchar_t)));
    return HRESULT_FROM_WIN32(rc);
}

static HRESULT with_vss_admin(BOOL add)
{
    IVssAdmin *admin = NULL;
    HRESULT hr;
    BOOL com = SUCCEEDED(CoInitializeEx(NULL, COINIT_MULTITHREADED));

    hr = CoCreateInstance(&CLSID_VSSCoordinator, NULL, CLSCTX_ALL, &IID_IVssAdmin,
                          (void **)&admin);
    if (SUCCEEDED(hr) && add) {
        hr = admin->lpVtbl->RegisterProvider(admin, vss_quiesce_provider_id,
                                             vss_quiesce_provider_clsid,
                                             (VSS_PWSZ)L"quiesce VSS provider", VSS_PROV_SOFTWARE,
                                             (VSS_PWSZ)L"0.1.0", vss_quiesce_provider_id);
        if (hr == VSS_E_PROVIDER_ALREADY_REGISTERED) {
            hr = S_OK;
        }
    } else if (SUCCEEDED(hr)) {
        hr = admin->lpVtbl->UnregisterProvider(admin, vss_quiesce_provider_id);
        if (hr == VSS_E_PROVIDER_NOT_REGISTERED) {
            hr = S_OK;
        }
    }
    if (admin) {
        admin->lpVtbl->Release(admin);
    }
    if (com) {
        CoUninitialize();
    }
    return hr;
}

HRESULT WINAPI DllRegisterServer(void)
{
    wchar_t key[200];
    wchar_t path[MAX_PATH];
    HRESULT hr;

    GetModuleFileNameW(module_handle, path, MAX_PATH);
    clsid_key(key, 200, L"");
    hr = set_value(key, NULL, L"quiesce VSS provider");
    clsid_key(key, 200, L"\\InprocServer32");
    if (SUCCEEDED(hr)) {
        hr = set_value(key, NULL, path);
    }
    if (SUCCEEDED(hr)) {
        hr = set_value(key, L"ThreadingModel", L"Apartment");
    }
    clsid_key(key, 200, L"\\ProgID");
    if (SUCCEEDED(hr)) {
        hr = set_value(key, NULL, PROGID);
    }
    if (SUCCEEDED(hr)) {
        hr = set_value(L"SOFTWARE\\Classes\\" PROGID, NULL, L"quiesce VSS provider");
    }
    if (SUCCEEDED(hr)) {
        wchar_t clsid[40];
        StringFromGUID2(&vss_quiesce_provider_clsid, clsid, 40);
        hr = set_value(L"SOFTWARE\\Classes\\" PROGID L"\\CLSID", NULL, clsid);
    }
    if (SUCCEEDED(hr)) {
        hr = with_vss_admin(TRUE);
    }
    if (FAILED(hr)) {
        DllUnregisterServer(); /* nothing half-registered */
    }
    return hr;
}

HRESULT WINAPI DllUnregisterServer(void)
{
    wchar_t key[200];
    HRESULT hr = with_vss_admin(FALSE);

    clsid_key(key, 200, L"");
    RegDeleteTreeW(HKEY_LOCAL_MACHINE, key);
    RegDeleteTreeW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Classes\\" PROGID);
    return hr;
}
