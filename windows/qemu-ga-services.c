/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu-ga-services.c — qemu-ga's two services out of the way while we are
 * installed, and given back when we are removed. qemu-ga's service
 * ("QEMU-GA", qga/installer/qemu-ga.wxs) holds the same virtio-serial port
 * and its VSS provider service ("QEMU Guest Agent VSS Provider",
 * qga/vss-win32/install.cpp) answers the same freezes. Both are stopped and
 * disabled, never deleted. The start type each had is recorded first, one
 * DWORD value per service name under HKLM\SOFTWARE\quiesce\qemu-ga-start
 * (outside our service's key, which the MSI's DeleteServices removes before
 * its restore action runs); the restore gives it back, starts the services
 * that were automatic, and removes the record. A service that was disabled
 * before is not recorded, so it stays disabled.
 */
#include <stdio.h>

#include "windows/service.h"
#include "windows/win-error.h"

static const wchar_t *const qemu_ga_services[] = {
    L"QEMU-GA",
    L"QEMU Guest Agent VSS Provider",
};

#define N_SERVICES (sizeof(qemu_ga_services) / sizeof(qemu_ga_services[0]))
#define RECORD_KEY L"SOFTWARE\\quiesce\\qemu-ga-start"

/* The service's start type, or (DWORD)-1 when it cannot be read. */
static DWORD start_type_of(SC_HANDLE service)
{
    union {
        QUERY_SERVICE_CONFIGW config;
        BYTE bytes[8192];
    } buffer;
    DWORD size;

    if (!QueryServiceConfigW(service, &buffer.config, sizeof(buffer), &size)) {
        return (DWORD)-1;
    }
    return buffer.config.dwStartType;
}

static void disable_one(SC_HANDLE manager, const wchar_t *name)
{
    SERVICE_STATUS status;
    SC_HANDLE service =
        OpenServiceW(manager, name, SERVICE_STOP | SERVICE_CHANGE_CONFIG | SERVICE_QUERY_CONFIG);
    DWORD start;

    if (!service) {
        return; /* not installed */
    }
    start = start_type_of(service);
    if (start != (DWORD)-1 && start != SERVICE_DISABLED) {
        RegSetKeyValueW(HKEY_LOCAL_MACHINE, RECORD_KEY, name, REG_DWORD, &start, sizeof(start));
    }
    ControlService(service, SERVICE_CONTROL_STOP, &status);
    ChangeServiceConfigW(service, SERVICE_NO_CHANGE, SERVICE_DISABLED, SERVICE_NO_CHANGE, NULL,
                         NULL, NULL, NULL, NULL, NULL, NULL);
    CloseServiceHandle(service);
}

/* ERROR_SUCCESS when nothing was recorded for @name or its start type is
 * back, else the error (printed too). A start that fails is printed, not
 * returned: the start type is what lasts. */
static DWORD restore_one(SC_HANDLE manager, const wchar_t *name)
{
    DWORD start, size = sizeof(start);
    DWORD failed = ERROR_SUCCESS;
    SC_HANDLE service;

    if (RegGetValueW(HKEY_LOCAL_MACHINE, RECORD_KEY, name, RRF_RT_REG_DWORD, NULL, &start, &size) !=
        ERROR_SUCCESS) {
        return ERROR_SUCCESS;
    }
    service = OpenServiceW(manager, name, SERVICE_CHANGE_CONFIG | SERVICE_START);
    if (!service || !ChangeServiceConfigW(service, SERVICE_NO_CHANGE, start, SERVICE_NO_CHANGE,
                                          NULL, NULL, NULL, NULL, NULL, NULL, NULL)) {
        failed = GetLastError();
        fprintf(stderr, "quiesced: could not give %ls back its start type %lu (error %lu)\n", name,
                start, failed);
    } else if (start == SERVICE_AUTO_START && !StartServiceW(service, 0, NULL) &&
               GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
        fprintf(stderr,
                "quiesced: %ls starts automatically again, but did not start now "
                "(error %lu)\n",
                name, GetLastError());
    }
    if (service) {
        CloseServiceHandle(service);
    }
    return failed;
}

void win_qemu_ga_disable(SC_HANDLE manager)
{
    for (size_t i = 0; i < N_SERVICES; i++) {
        disable_one(manager, qemu_ga_services[i]);
    }
}

DWORD win_qemu_ga_restore(SC_HANDLE manager)
{
    DWORD first = ERROR_SUCCESS;

    for (size_t i = 0; i < N_SERVICES; i++) {
        DWORD failed = restore_one(manager, qemu_ga_services[i]);
        first = first != ERROR_SUCCESS ? first : failed;
    }
    if (first == ERROR_SUCCESS) {
        RegDeleteKeyW(HKEY_LOCAL_MACHINE, RECORD_KEY); /* kept for a retry otherwise */
    }
    return first;
}

bool win_qemu_ga_services(bool disable, ProtoError **error)
{
    SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    DWORD failed = ERROR_SUCCESS;

    if (!manager) {
        win_error_set(error, GetLastError(), "cannot open the service control manager");
        return false;
    }
    if (disable) {
        win_qemu_ga_disable(manager);
    } else {
        failed = win_qemu_ga_restore(manager);
    }
    CloseServiceHandle(manager);
    if (failed != ERROR_SUCCESS) {
        win_error_set(error, failed, "qemu-ga's services were not all given back their start type");
        return false;
    }
    return true;
}
