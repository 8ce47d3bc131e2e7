/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volumes-real.c — the probe on Windows: the volumes (FindFirstVolume),
 * their paths, filesystem, disk extents (several extents or disks: a
 * dynamic or spanned volume) and bus (iSCSI, USB), and whether the system
 * is up: setup in progress (HKLM\SYSTEM\Setup\SystemSetupInProgress) or
 * a shutdown pending (SM_SHUTTINGDOWN). Probed before anything freezes.
 *
 * Each disk of a volume's extents is described as qemu-ga does for
 * guest-get-fsinfo (qga/commands-win32.c): bus type and serial from the
 * disk's storage descriptor, the SCSI address for SCSI, IDE, RAID and SAS
 * disks, the PCI address of the storage controller (disk-pci-real.c).
 *
 * Dynamic disks: a volume is dynamic when it has several extents (spanned,
 * striped, mirrored) or when one of its extents lies in space the Logical
 * Disk Manager owns, read from its disk's partition table
 * (IOCTL_DISK_GET_DRIVE_LAYOUT_EX; the rule is disk-layout.c's): a simple
 * volume on a dynamic disk has one extent like a basic partition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <winioctl.h>
#include <ntddscsi.h>

#include "windows/disk-layout.h"
#include "windows/pci-address.h"
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

/* qemu's GuestDiskBusType names by STORAGE_BUS_TYPE (its win2qemu table). */
static const char *bus_type_name(STORAGE_BUS_TYPE type)
{
    switch ((int)type) {
    case BusTypeScsi:
        return "scsi";
    case BusTypeAtapi:
    case BusTypeAta:
        return "ide";
    case BusType1394:
        return "ieee1394";
    case BusTypeSsa:
    case BusTypeFibre:
        return "ssa"; /* as qemu-ga maps Fibre */
    case BusTypeUsb:
        return "usb";
    case BusTypeRAID:
        return "raid";
    case BusTypeiScsi:
        return "iscsi";
    case BusTypeSas:
        return "sas";
    case BusTypeSata:
        return "sata";
    case BusTypeSd:
        return "sd";
    case BusTypeMmc:
        return "mmc";
    case BusTypeVirtual:
        return "virtual";
    case BusTypeFileBackedVirtual:
        return "file-backed-virtual";
    default:
        return "unknown";
    }
}

/* The partition table of an open disk, malloc'ed, *size its length; NULL
 * when it cannot be read. The table has no fixed size: the buffer grows
 * while the IOCTL says it is too small, up to a bound (LDM's 2,000
 * partitions fit). */
static DRIVE_LAYOUT_INFORMATION_EX *read_layout(HANDLE disk, size_t *size)
{
    for (DWORD bytes = 4096; bytes <= 1024 * 1024; bytes *= 4) {
        DRIVE_LAYOUT_INFORMATION_EX *layout = malloc(bytes);
        DWORD n = 0;
        if (!layout) {
            return NULL;
        }
        if (DeviceIoControl(disk, IOCTL_DISK_GET_DRIVE_LAYOUT_EX, NULL, 0, layout, bytes, &n,
                            NULL)) {
            *size = n;
            return layout;
        }
        free(layout);
        if (GetLastError() != ERROR_INSUFFICIENT_BUFFER && GetLastError() != ERROR_MORE_DATA) {
            return NULL;
        }
    }
    return NULL;
}

/* Whether the extent lies in LDM's space. A layout that cannot be read
 * counts as basic: the extent count still catches a spanned, striped or
 * mirrored volume (docs/windows.md "Dynamic disks"). */
static bool extent_is_dynamic(HANDLE disk, const DISK_EXTENT *extent)
{
    size_t size = 0;
    DRIVE_LAYOUT_INFORMATION_EX *layout = read_layout(disk, &size);
    WinLayoutKind kind;

    if (!layout) {
        return false;
    }
    kind = win_layout_extent_kind(layout, size, extent->StartingOffset.QuadPart,
                                  extent->ExtentLength.QuadPart);
    free(layout);
    return kind == WIN_LAYOUT_DYNAMIC;
}

/* Describes the disk of one extent into d; true when the extent is on a
 * dynamic disk's LDM space. */
static bool read_disk_address(const DISK_EXTENT *extent, WinDisk *d)
{
    DWORD number = extent->DiskNumber;
    bool dynamic;
    wchar_t path[32];
    union {
        STORAGE_DEVICE_DESCRIPTOR descriptor;
        char bytes[1024];
    } buffer;
    STORAGE_PROPERTY_QUERY query = { StorageDeviceProperty, PropertyStandardQuery, { 0 } };
    SCSI_ADDRESS address;
    DWORD n;
    HANDLE h;

    memset(d, 0, sizeof(*d));
    d->pci_domain = d->pci_bus = d->pci_slot = d->pci_function = -1;
    snprintf(d->dev, sizeof(d->dev), "\\\\.\\PhysicalDrive%lu", (unsigned long)number);
    snprintf(d->bus_type, sizeof(d->bus_type), "unknown");
    _snwprintf(path, 32, L"\\\\.\\PhysicalDrive%lu", (unsigned long)number);
    win_disk_read_pci(number, d);
    h = CreateFileW(path, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        return false;
    }
    dynamic = extent_is_dynamic(h, extent);
    memset(&buffer, 0, sizeof(buffer));
    if (DeviceIoControl(h, IOCTL_STORAGE_QUERY_PROPERTY, &query, sizeof(query), &buffer,
                        sizeof(buffer), &n, NULL)) {
        DWORD at = buffer.descriptor.SerialNumberOffset;
        snprintf(d->bus_type, sizeof(d->bus_type), "%s", bus_type_name(buffer.descriptor.BusType));
        if (at > 0 && at < n) {
            snprintf(d->serial, sizeof(d->serial), "%.*s", (int)(n - at), buffer.bytes + at);
        }
    }
    if ((strcmp(d->bus_type, "scsi") == 0 || strcmp(d->bus_type, "ide") == 0 ||
         strcmp(d->bus_type, "raid") == 0 || strcmp(d->bus_type, "sas") == 0) &&
        DeviceIoControl(h, IOCTL_SCSI_GET_ADDRESS, NULL, 0, &address, sizeof(address), &n,
                        NULL)) {
        d->bus = address.PathId;
        d->target = address.TargetId;
        d->unit = address.Lun;
    }
    CloseHandle(h);
    return dynamic;
}

/* Extents and bus through the volume's device (\\.\Volume{...}). */
static void read_disk(const wchar_t *name, WinVolume *v)
{
    wchar_t device[64];
    size_t len = wcslen(name);
    HANDLE h;
    DWORD n;
    union {
        VOLUME_DISK_EXTENTS extents;
        char bytes[sizeof(VOLUME_DISK_EXTENTS) + (WIN_VOLUME_DISKS - 1) * sizeof(DISK_EXTENT)];
    } buffer;
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
    if (DeviceIoControl(h, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, NULL, 0, &buffer,
                        sizeof(buffer), &n, NULL)) {
        const VOLUME_DISK_EXTENTS *extents = &buffer.extents;
        if (extents->NumberOfDiskExtents > 0) { /* wine answers with none */
            snprintf(v->disk, sizeof(v->disk), "PhysicalDrive%lu",
                     (unsigned long)extents->Extents[0].DiskNumber);
        }
        /* several extents: spanned, striped or mirrored */
        v->dynamic = extents->NumberOfDiskExtents > 1;
        for (DWORD i = 0; i < extents->NumberOfDiskExtents && i < WIN_VOLUME_DISKS; i++) {
            if (read_disk_address(&extents->Extents[i], &v->disks[v->n_disks++])) {
                v->dynamic = true; /* in LDM's space: a dynamic disk */
            }
        }
    } else if (GetLastError() == ERROR_MORE_DATA) {
        v->dynamic = true; /* more extents than we describe */
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
