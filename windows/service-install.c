/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * service-install.c — --install and --uninstall. The MSI does the same
 * through its own tables and runs --install-provider / --uninstall-provider
 * (windows/installer/quiesced.wxs); this is for installs without it.
 *
 * qemu-ga's service ("QEMU-GA", qga/installer/qemu-ga.wxs) holds the same
 * virtio-serial port and its VSS provider service ("QEMU Guest Agent VSS
 * Provider", qga/vss-win32/install.cpp) answers the same freezes: both are
 * stopped and disabled, never deleted, so uninstalling us can give them back.
 */
#include <stdio.h>
#include <stdlib.h>

#include "windows/service.h"
#include "windows/win-error.h"

static const wchar_t *const rival_services[] = {
    L"QEMU-GA",
    L"QEMU Guest Agent VSS Provider",
};

static void stop_and_disable(SC_HANDLE manager, const wchar_t *name)
{
    SERVICE_STATUS status;
    SC_HANDLE service = OpenServiceW(manager, name, SERVICE_STOP | SERVICE_CHANGE_CONFIG);

    if (!service) {
        return; /* not installed */
    }
    ControlService(service, SERVICE_CONTROL_STOP, &status);
    ChangeServiceConfigW(service, SERVICE_NO_CHANGE, SERVICE_DISABLED, SERVICE_NO_CHANGE, NULL,
                         NULL, NULL, NULL, NULL, NULL, NULL);
    CloseServiceHandle(service);
}

/* The provider DLL registers itself (COM class and VSS provider). */
static bool provider_call(const char *entry, ProtoError **error)
{
    wchar_t path[MAX_PATH];
    wchar_t *slash;
    HMODULE dll;
    HRESULT(WINAPI * call)(void);
    HRESULT hr;

    GetModuleFileNameW(NULL, path, MAX_PATH);
    slash = wcsrchr(path, L'\\');
    if (slash) {
        wcscpy(slash + 1, L"quiesce-vss-provider.dll");
    }
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

bool win_service_install(const char *options, ProtoError **error)
{
    wchar_t path[MAX_PATH + 1100];
    wchar_t *wide_options;
    wchar_t exe[MAX_PATH];
    SERVICE_DESCRIPTIONW description = {
        (LPWSTR)L"Makes host-triggered VM snapshots application-consistent (VSS)"
    };
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    SC_HANDLE service;

    if (!manager) {
        win_error_set(error, GetLastError(), "cannot open the service control manager");
        return false;
    }
    for (size_t i = 0; i < sizeof(rival_services) / sizeof(rival_services[0]); i++) {
        stop_and_disable(manager, rival_services[i]);
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
    CloseServiceHandle(service);
    CloseServiceHandle(manager);
    return provider_call("DllRegisterServer", error);
}

bool win_service_uninstall(ProtoError **error)
{
    SERVICE_STATUS status;
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    SC_HANDLE service;
    bool provider_ok = provider_call("DllUnregisterServer", error);

    if (!manager) {
        if (provider_ok) {
            win_error_set(error, GetLastError(), "cannot open the service control manager");
        }
        return false;
    }
    service = OpenServiceW(manager, WIN_SERVICE_NAME, SERVICE_STOP | DELETE);
    if (service) {
        ControlService(service, SERVICE_CONTROL_STOP, &status);
        DeleteService(service);
        CloseServiceHandle(service);
    }
    CloseServiceHandle(manager);
    return provider_ok;
}

bool win_service_provider(bool install, ProtoError **error)
{
    return provider_call(install ? "DllRegisterServer" : "DllUnregisterServer", error);
}
