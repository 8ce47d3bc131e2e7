/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service-install.c — --install and --uninstall. The MSI does the same
 * through its own tables and runs --install-provider / --uninstall-provider
 * (windows/installer/quiesced.wxs); this is for installs without it.
 *
 * --install disables qemu-ga's services once everything else succeeded;
 * --uninstall gives them back once ours has stopped (qemu-ga-services.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "windows/com-catalog.h"
#include "windows/service.h"
#include "windows/win-error.h"

/* Path of a file beside the exe (the provider DLL, its type library). */
static void beside_exe(const wchar_t *name, wchar_t *path)
{
    wchar_t *slash;

    GetModuleFileNameW(NULL, path, MAX_PATH);
    slash = wcsrchr(path, L'\\');
    if (slash && (size_t)(slash + 1 - path) + wcslen(name) < MAX_PATH) {
        wcscpy(slash + 1, name);
    }
}

/* Calls one of the provider DLL's registration exports. */
static bool provider_call(const char *entry, ProtoError **error)
{
    wchar_t path[MAX_PATH];
    HMODULE dll;
    HRESULT(WINAPI * call)(void);
    HRESULT hr;

    beside_exe(L"quiesce-vss-provider.dll", path);
    dll = LoadLibraryW(path);
    if (!dll) {
        win_error_set(error, GetLastError(), "cannot load quiesce-vss-provider.dll");
        return false;
    }
    call = (HRESULT(WINAPI *)(void))(void (*)(void))GetProcAddress(dll, entry);
    hr = call ? call() : E_NOINTERFACE;
    FreeLibrary(dll);
    if (FAILED(hr)) {
        win_error_set(error, (DWORD)hr, "%s of the VSS provider failed", entry);
        return false;
    }
    return true;
}

/* The provider DLL and its type library beside the exe; false with the
 * missing one named. */
static bool provider_files(wchar_t *dll, wchar_t *tlb, ProtoError **error)
{
    beside_exe(L"quiesce-vss-provider.dll", dll);
    beside_exe(L"quiesce-vss-provider.tlb", tlb);
    for (size_t i = 0; i < 2; i++) {
        const wchar_t *file = i == 0 ? dll : tlb;
        if (GetFileAttributesW(file) == INVALID_FILE_ATTRIBUTES) {
            char *name = win_utf8_from_wide(file);
            win_error_set(error, GetLastError(), "cannot find %s", name);
            free(name);
            return false;
        }
    }
    return true;
}

/* The provider as a COM+ application (provider-catalog.c); the catalog's
 * InstallComponent calls the DLL's DllRegisterServer, which registers the
 * class and the VSS provider (docs/windows.md "The provider's
 * registration"). On failure the catalog part is rolled back there, and
 * the DLL's own registration here. */
static bool provider_register(ProtoError **error)
{
    wchar_t dll[MAX_PATH], tlb[MAX_PATH];
    ComCatalog *catalog;
    bool ok;

    if (!provider_files(dll, tlb, error)) {
        return false;
    }
    catalog = com_catalog_new(error);
    if (!catalog) {
        return false;
    }
    ok = win_provider_catalog_register(catalog, dll, tlb, error);
    catalog->ops->free(catalog);
    if (!ok) {
        ProtoError *ignored = NULL;
        if (!provider_call("DllUnregisterServer", &ignored)) {
            proto_error_free(ignored); /* the registration's error is the one to report */
        }
    }
    return ok;
}

/* As qemu-ga's COMUnregister: the DLL unregisters itself (class and VSS
 * provider), then the application goes. Both are tried; the first error
 * is reported. */
static bool provider_unregister(ProtoError **error)
{
    ProtoError *catalog_error = NULL;
    bool dll_ok = provider_call("DllUnregisterServer", error);
    ComCatalog *catalog = com_catalog_new(&catalog_error);
    bool catalog_ok = catalog && win_provider_catalog_unregister(catalog, &catalog_error);

    if (catalog) {
        catalog->ops->free(catalog);
    }
    if (!catalog_ok && dll_ok) {
        *error = catalog_error;
    } else if (catalog_error) {
        proto_error_free(catalog_error);
    }
    return dll_ok && catalog_ok;
}

/* The service goes first and the provider after it; when the provider
 * cannot be registered the service is deleted again, so a failed install
 * leaves nothing behind. qemu-ga's services are stopped and disabled only
 * once everything else succeeded. */
bool win_service_install(const char *options, ProtoError **error)
{
    wchar_t path[MAX_PATH + 1100];
    wchar_t *wide_options;
    wchar_t exe[MAX_PATH];
    SERVICE_DESCRIPTIONW description = {
        (LPWSTR)L"Makes host-triggered VM snapshots application-consistent (VSS)"
    };
    wchar_t dll[MAX_PATH], tlb[MAX_PATH];
    SC_HANDLE manager;
    SC_HANDLE service;

    if (!provider_files(dll, tlb, error)) {
        return false; /* before anything is changed */
    }
    manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    if (!manager) {
        win_error_set(error, GetLastError(), "cannot open the service control manager");
        return false;
    }
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    wide_options = win_wide_from_utf8(options);
    _snwprintf(path, sizeof(path) / sizeof(path[0]), L"\"%ls\" --service%ls", exe,
               wide_options);
    free(wide_options);
    service = CreateServiceW(manager, WIN_SERVICE_NAME, L"quiesce guest agent",
                             SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                             SERVICE_ERROR_NORMAL, path, NULL, NULL, NULL, NULL, NULL);
    if (!service) {
        win_error_set(error, GetLastError(), "cannot create the service");
        CloseServiceHandle(manager);
        return false;
    }
    ChangeServiceConfig2W(service, SERVICE_CONFIG_DESCRIPTION, &description);
    if (!provider_register(error)) {
        DeleteService(service); /* never started: it goes when the handle closes */
        CloseServiceHandle(service);
        CloseServiceHandle(manager);
        return false;
    }
    CloseServiceHandle(service);
    win_qemu_ga_disable(manager);
    CloseServiceHandle(manager);
    return true;
}

/* How long --uninstall waits for our service to stop (it thaws first). */
#define UNINSTALL_STOP_WAIT_MS 30000

bool win_service_uninstall(ProtoError **error)
{
    SERVICE_STATUS status;
    bool provider_ok = provider_unregister(error);
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    SC_HANDLE service;

    if (!manager) {
        if (provider_ok) {
            win_error_set(error, GetLastError(), "cannot open the service control manager");
        }
        return false;
    }
    service = OpenServiceW(manager, WIN_SERVICE_NAME, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
    if (service) {
        /* Ours lets go of the port before a rival is started on it. */
        if (ControlService(service, SERVICE_CONTROL_STOP, &status)) {
            for (int waited = 0;
                 waited < UNINSTALL_STOP_WAIT_MS && QueryServiceStatus(service, &status) &&
                 status.dwCurrentState != SERVICE_STOPPED;
                 waited += 100) {
                Sleep(100);
            }
        }
        win_qemu_ga_restore(manager); /* what fails is printed; ours goes anyway */
        DeleteService(service);
        CloseServiceHandle(service);
    }
    CloseServiceHandle(manager);
    return provider_ok;
}

bool win_service_provider(bool install, ProtoError **error)
{
    return install ? provider_register(error) : provider_unregister(error);
}
