/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volumes-real.c — the probe on Windows: the volumes (FindFirstVolume),
 * their paths, filesystem, disk extents (several extents or disks: a
 * dynamic or spanned volume) and bus (iSCSI, USB), and whether the system
 * is up: setup in progress (HKLM\SYSTEM\Setup\SystemSetupInProgress) or
 * a shutdown pending (SM_SHUTTINGDOWN). Probed before anything freezes.
 */
#include <stdio.h>
#include <string.h>
#include <windows.h>
#include <winioctl.h>

#include "windows/volumes.h"
#include "windows/win-error.h"

static void read_paths(const wchar_t *name, WinVolume *v)
{
    wchar_t paths[1024];
    DWORD len = 0;

    if (!GetVolumePathNamesForVolumeNameW(name, paths, 1024, &len)) {
        return;
    }
    for (const wchar_t *p = paths; *p && v->n_paths < WIN_VOLUME_PATHS; p += wcslen(p) + 1) {
        WideCharToMultiByte(CP_UTF8, 0, p, -1, v->paths[v->n_paths], sizeof(v->paths[0]), NULL,
                            NULL);
        v->n_paths++;
    }
}

/* Extents and bus through the volume's device (\\.\Volume{...}). */
static void read_disk(const wchar_t *name, WinVolume *v)
{
    wchar_t device[64];
    size_t len = wcslen(name);
    HANDLE h;
    DWORD n;
    VOLUME_DISK_EXTENTS extents;
    STORAGE_PROPERTY_QUERY query = { StorageDeviceProperty, PropertyStandardQuery, { 0 } };
    STORAGE_DEVICE_DESCRIPTOR descriptor;

    wcsncpy(device, name, 63);
    device[63] = L'\0';
    if (len > 0 && len < 64 && device[len - 1] == L'\\') {
        device[len - 1] = L'\0'; /* CreateFile wants no trailing backslash */
    }
    h = CreateFileW(device, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        return;
    }
    if (DeviceIoControl(h, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, NULL, 0, &extents,
                        sizeof(extents), &n, NULL)) {
        snprintf(v->disk, sizeof(v->disk), "PhysicalDrive%lu",
                 (unsigned long)extents.Extents[0].DiskNumber);
    } else if (GetLastError() == ERROR_MORE_DATA) {
        v->dynamic = true; /* several extents: spanned, striped or mirrored */
    }
    if (DeviceIoControl(h, IOCTL_STORAGE_QUERY_PROPERTY, &query, sizeof(query), &descriptor,
                        sizeof(descriptor), &n, NULL)) {
        if (descriptor.BusType == BusTypeiScsi) {
            v->bus = WIN_BUS_ISCSI;
        } else if (descriptor.BusType == BusTypeUsb) {
            v->bus = WIN_BUS_USB;
        } else if (descriptor.BusType == BusTypeFileBackedVirtual) {
            v->file_backed = true; /* a VHD/VHDX attached inside the guest */
        }
    }
    CloseHandle(h);
}

static void read_volume(const wchar_t *name, WinVolume *v)
{
    wchar_t fstype[16] = L"";
    DWORD flags = 0;
    ULARGE_INTEGER free_bytes, total, total_free;
    UINT type = GetDriveTypeW(name);

    memset(v, 0, sizeof(*v));
    WideCharToMultiByte(CP_UTF8, 0, name, -1, v->name, sizeof(v->name), NULL, NULL);
    read_paths(name, v);
    GetVolumeInformationW(name, NULL, 0, NULL, NULL, &flags, fstype, 16);
    WideCharToMultiByte(CP_UTF8, 0, fstype, -1, v->fstype, sizeof(v->fstype), NULL, NULL);
    v->read_only = (flags & FILE_READ_ONLY_VOLUME) || type == DRIVE_CDROM;
    v->bus = type == DRIVE_REMOTE ? WIN_BUS_NETWORK : WIN_BUS_HOST;
    if (GetDiskFreeSpaceExW(name, &free_bytes, &total, &total_free)) {
        v->total_bytes = total.QuadPart;
        v->used_bytes = total.QuadPart - total_free.QuadPart;
        /* A FAT volume "with data": anything beyond its own structures. */
        v->has_data = v->used_bytes > 1024 * 1024;
    }
    if (v->bus == WIN_BUS_HOST) {
        read_disk(name, v);
    }
}

static void read_running_state(WinSystem *system)
{
    DWORD value = 0;
    DWORD size = sizeof(value);

    snprintf(system->running_state, sizeof(system->running_state), "running");
    if (RegGetValueW(HKEY_LOCAL_MACHINE, L"SYSTEM\\Setup", L"SystemSetupInProgress",
                     RRF_RT_REG_DWORD, NULL, &value, &size) == ERROR_SUCCESS &&
        value) {
        snprintf(system->running_state, sizeof(system->running_state), "setup");
    }
    if (GetSystemMetrics(SM_SHUTTINGDOWN)) {
        snprintf(system->running_state, sizeof(system->running_state), "shutting-down");
    }
}

static bool real_read(void *self, WinSystem *system, ProtoError **error)
{
    wchar_t name[64];
    HANDLE find = FindFirstVolumeW(name, 64);

    read_running_state(system);
    if (find == INVALID_HANDLE_VALUE) {
        win_error_set(error, GetLastError(), "cannot list the volumes");
        return false;
    }
    do {
        if (system->n_volumes < WIN_VOLUME_MAX) {
            read_volume(name, &system->volumes[system->n_volumes++]);
        }
    } while (FindNextVolumeW(find, name, 64));
    FindVolumeClose(find);
    return true;
}

static const WinProbeOps real_probe_ops = { real_read };

WinProbe win_probe_default(void)
{
    WinProbe probe = { &real_probe_ops, NULL };
    return probe;
}
