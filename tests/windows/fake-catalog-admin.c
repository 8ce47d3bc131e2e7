/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-catalog-admin.c — the fake COM+ catalog's own methods
 * (ICOMAdminCatalog2): CreateServiceForApplication and
 * DeleteServiceForApplication, recorded as a "Service" object, and
 * InstallComponent, which checks the DLL and type library as the catalog
 * needs them (fake-catalog.c's header lists the refusals) and records a
 * "Components" object per class. It does not call DllRegisterServer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <oleauto.h>

#include "tests/windows/fake-catalog.h"
#include "windows/win-error.h"

/* The application a method names, after the method's injected failure. */
static HRESULT named_application(FakeCatalog *f, const char *call, const wchar_t *application,
                                 FakeObject **app)
{
    *app = NULL;
    return fake_catalog_injected(call, NULL) ? E_FAIL
                                             : fake_catalog_application(f, application, app);
}

/* The application's service, or NULL. */
static FakeObject *service_of(FakeCatalog *f, const FakeObject *app)
{
    for (int i = 0; i < f->n; i++) {
        if (strcmp(f->store[i].kind, "Service") == 0 && strcmp(f->store[i].parent, app->key) == 0) {
            return &f->store[i];
        }
    }
    return NULL;
}

static bool one_of(const wchar_t *text, const wchar_t *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (wcscmp(text, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

HRESULT fake_create_service(ComCatalog *c, const wchar_t *application, const wchar_t *service,
                            const wchar_t *start_type, const wchar_t *error_control,
                            const wchar_t *dependencies, const wchar_t *run_as,
                            const wchar_t *password, BOOL desktop_ok)
{
    static const wchar_t *const starts[] = {L"SERVICE_BOOT_START", L"SERVICE_SYSTEM_START",
                                            L"SERVICE_AUTO_START", L"SERVICE_DEMAND_START",
                                            L"SERVICE_DISABLED"};
    static const wchar_t *const controls[] = {L"SERVICE_ERROR_IGNORE", L"SERVICE_ERROR_NORMAL",
                                              L"SERVICE_ERROR_SEVERE", L"SERVICE_ERROR_CRITICAL"};
    FakeCatalog *f = fake_catalog_of(c);
    FakeObject *app, *o;
    char *text;
    HRESULT hr;

    hr = named_application(f, "CreateServiceForApplication", application, &app);
    if (FAILED(hr)) {
        return hr;
    }
    if (service_of(f, app)) {
        return fake_catalog_violation(f, COMADMIN_E_OBJECTEXISTS, "the application has a service");
    }
    if (!one_of(start_type, starts, 5) || !one_of(error_control, controls, 4) || !run_as[0] ||
        !service[0]) {
        return fake_catalog_violation(f, E_INVALIDARG, "CreateServiceForApplication's arguments");
    }
    if (f->n == FAKE_OBJECTS) {
        return E_OUTOFMEMORY;
    }
    o = memset(&f->store[f->n++], 0, sizeof(FakeObject));
    snprintf(o->kind, sizeof(o->kind), "Service");
    text = win_utf8_from_wide(service);
    snprintf(o->key, sizeof(o->key), "%s", text);
    free(text);
    snprintf(o->parent, sizeof(o->parent), "%s", app->key);
    for (int i = 0; i < 3; i++) {
        const wchar_t *value = i == 0 ? start_type : i == 1 ? error_control : run_as;
        char field[300];
        text = win_utf8_from_wide(value);
        snprintf(field, sizeof(field), "s:%s", text);
        free(text);
        fake_catalog_set_prop(o, i == 0 ? "StartType" : i == 1 ? "ErrorControl" : "RunAs", field);
    }
    fake_catalog_set_prop(o, "DesktopOk", desktop_ok ? "b:1" : "b:0");
    fake_catalog_save(f);
    return S_OK;
}

HRESULT fake_delete_service(ComCatalog *c, const wchar_t *application)
{
    FakeCatalog *f = fake_catalog_of(c);
    FakeObject *app, *service;
    HRESULT hr = named_application(f, "DeleteServiceForApplication", application, &app);

    if (FAILED(hr)) {
        return hr;
    }
    service = service_of(f, app);
    if (!service) {
        return COMADMIN_E_SERVICENOTINSTALLED; /* documented, not misuse */
    }
    fake_catalog_unstore(f, service);
    fake_catalog_save(f);
    return S_OK;
}

/* The coclasses of the type library, each served by the DLL; their
 * CLSIDs into clsids (at most max), *n set. */
static HRESULT check_classes(FakeCatalog *f, ITypeLib *lib, HMODULE dll, wchar_t clsids[][40],
                             UINT max, UINT *n)
{
    HRESULT(WINAPI * get_class)
    (REFCLSID, REFIID, void **) = (HRESULT(WINAPI *)(REFCLSID, REFIID, void **))(
        void (*)(void))GetProcAddress(dll, "DllGetClassObject");
    UINT count = lib->lpVtbl->GetTypeInfoCount(lib);

    *n = 0;
    for (UINT i = 0; i < count && *n < max; i++) {
        TYPEKIND kind;
        ITypeInfo *info = NULL;
        TYPEATTR *attr = NULL;
        IClassFactory *factory = NULL;
        HRESULT hr;
        if (FAILED(lib->lpVtbl->GetTypeInfoType(lib, i, &kind)) || kind != TKIND_COCLASS ||
            FAILED(lib->lpVtbl->GetTypeInfo(lib, i, &info))) {
            continue;
        }
        hr = info->lpVtbl->GetTypeAttr(info, &attr);
        if (SUCCEEDED(hr)) {
            StringFromGUID2(&attr->guid, clsids[*n], 40);
            hr = get_class(&attr->guid, &IID_IClassFactory, (void **)&factory);
            info->lpVtbl->ReleaseTypeAttr(info, attr);
        }
        info->lpVtbl->Release(info);
        if (factory) {
            factory->lpVtbl->Release(factory);
        }
        if (FAILED(hr)) {
            return fake_catalog_violation(f, COMADMIN_E_COMPFILE_CLASSNOTAVAIL,
                                          "a coclass of the type library the DLL does not serve");
        }
        (*n)++;
    }
    return *n ? S_OK
              : fake_catalog_violation(f, COMADMIN_E_COMPFILE_NOTINSTALLABLE,
                                       "a type library without a coclass");
}

HRESULT fake_install_component(ComCatalog *c, const wchar_t *application, const wchar_t *dll_path,
                               const wchar_t *tlb, const wchar_t *proxy_stub_dll)
{
    FakeCatalog *f = fake_catalog_of(c);
    FakeObject *app;
    ITypeLib *lib = NULL;
    HMODULE dll;
    wchar_t clsids[8][40];
    UINT n = 0;
    HRESULT hr;

    hr = named_application(f, "InstallComponent", application, &app);
    if (FAILED(hr)) {
        return hr;
    }
    if (GetFileAttributesW(dll_path) == INVALID_FILE_ATTRIBUTES) {
        return fake_catalog_violation(f, COMADMIN_E_COMPFILE_DOESNOTEXIST,
                                      "InstallComponent of no DLL");
    }
    if (FAILED(LoadTypeLibEx(tlb[0] ? tlb : dll_path, REGKIND_NONE, &lib))) {
        return fake_catalog_violation(f, COMADMIN_E_COMPFILE_BADTLB,
                                      "a type library that does not load");
    }
    dll = LoadLibraryW(dll_path);
    if (!dll) {
        hr = fake_catalog_violation(f, COMADMIN_E_COMPFILE_LOADDLLFAIL, "a DLL that does not load");
    } else if (!GetProcAddress(dll, "DllRegisterServer")) {
        hr = fake_catalog_violation(f, COMADMIN_E_COMPFILE_NOREGISTRAR,
                                    "a DLL without DllRegisterServer");
    } else if (!GetProcAddress(dll, "DllGetClassObject")) {
        hr = fake_catalog_violation(f, COMADMIN_E_COMPFILE_GETCLASSOBJ,
                                    "a DLL without DllGetClassObject");
    } else {
        hr = check_classes(f, lib, dll, clsids, 8, &n);
    }
    lib->lpVtbl->Release(lib);
    if (dll) {
        FreeLibrary(dll);
    }
    for (UINT i = 0; SUCCEEDED(hr) && i < n; i++) {
        char *clsid = win_utf8_from_wide(clsids[i]);
        FakeObject *other = fake_catalog_stored(f, "Components", clsid);
        if (other && strcmp(other->parent, app->key) != 0) {
            hr = fake_catalog_violation(f, COMADMIN_E_COMPONENTEXISTS,
                                        "a class another application has");
        } else if (!other && f->n < FAKE_OBJECTS) {
            FakeObject *o = memset(&f->store[f->n++], 0, sizeof(FakeObject));
            char *path = win_utf8_from_wide(dll_path);
            char field[300];
            snprintf(o->kind, sizeof(o->kind), "Components");
            snprintf(o->key, sizeof(o->key), "%s", clsid);
            snprintf(o->parent, sizeof(o->parent), "%s", app->key);
            snprintf(field, sizeof(field), "s:%s", path);
            fake_catalog_set_prop(o, "DLL", field);
            free(path);
        }
        free(clsid);
    }
    fake_catalog_save(f);
    return hr;
}
