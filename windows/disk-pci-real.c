/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-pci-real.c — the PCI address of the controller a disk hangs off,
 * found as qemu-ga 7.2 finds it (qga/commands-win32.c, get_pci_info):
 * among the present disk interfaces (GUID_DEVINTERFACE_DISK) the one whose
 * IOCTL_STORAGE_GET_DEVICE_NUMBER is the disk's number; its device
 * instance's parent (CM_Get_Parent) is the storage controller; the
 * controller's storage-port iface (GUID_DEVINTERFACE_STORAGEPORT) gives
 * the device whose bus number, address and UI number pci-address.c turns
 * into the address. Any step that fails leaves the address unknown (-1),
 * as qemu-ga's does; wine has no such devices, so there it is always -1.
 */
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <cfgmgr32.h>
#include <setupapi.h>
#include <winioctl.h>

#include "windows/pci-address.h"

/* Both as qemu-ga defines them (mingw's libuuid lacks them). */
static const GUID disk_interface = {
    0x53f56307, 0xb6bf, 0x11d0, {0x94, 0xf2, 0x00, 0xa0, 0xc9, 0x1e, 0xfb, 0x8b}};
static const GUID storage_port_interface = {
    0x2accfe60, 0xc130, 0x11d2, {0xb0, 0x82, 0x00, 0xa0, 0xc9, 0x1e, 0xfb, 0x8b}};

static bool read_dword(HDEVINFO set, SP_DEVINFO_DATA *device, DWORD property, DWORD *out)
{
    DWORD type = 0;

    return SetupDiGetDeviceRegistryPropertyW(set, device, property, &type, (BYTE *)out,
                                             sizeof(*out), NULL) &&
           type == REG_DWORD;
}

/* The device number of one disk iface, or -1. */
static LONG interface_disk_number(HDEVINFO set, SP_DEVICE_INTERFACE_DATA *iface)
{
    union {
        SP_DEVICE_INTERFACE_DETAIL_DATA_W detail;
        char bytes[1024];
    } buffer;
    STORAGE_DEVICE_NUMBER number;
    DWORD n;
    HANDLE h;
    bool ok;

    buffer.detail.cbSize = sizeof(buffer.detail);
    if (!SetupDiGetDeviceInterfaceDetailW(set, iface, &buffer.detail, sizeof(buffer), NULL, NULL)) {
        return -1;
    }
    h = CreateFileW(buffer.detail.DevicePath, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                    OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        return -1;
    }
    ok = DeviceIoControl(h, IOCTL_STORAGE_GET_DEVICE_NUMBER, NULL, 0, &number, sizeof(number), &n,
                         NULL);
    CloseHandle(h);
    return ok ? (LONG)number.DeviceNumber : -1;
}

/* The instance of the disk device numbered number, or 0. */
static DEVINST find_disk(DWORD number)
{
    HDEVINFO set =
        SetupDiGetClassDevsW(&disk_interface, NULL, NULL, DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
    SP_DEVICE_INTERFACE_DATA iface = {.cbSize = sizeof(iface)};
    SP_DEVINFO_DATA device = {.cbSize = sizeof(device)};
    DEVINST found = 0;

    if (set == INVALID_HANDLE_VALUE) {
        return 0;
    }
    for (DWORD i = 0; !found && SetupDiEnumDeviceInfo(set, i, &device); i++) {
        if (SetupDiEnumDeviceInterfaces(set, &device, &disk_interface, 0, &iface) &&
            interface_disk_number(set, &iface) == (LONG)number) {
            found = device.DevInst;
        }
    }
    SetupDiDestroyDeviceInfoList(set);
    return found;
}

void win_disk_read_pci(DWORD number, WinDisk *d)
{
    WinPciProperties unknown = {0};
    wchar_t parent_id[MAX_DEVICE_ID_LEN + 1];
    DEVINST disk = find_disk(number);
    DEVINST parent;
    HDEVINFO set;
    SP_DEVINFO_DATA device = {.cbSize = sizeof(device)};

    win_pci_address_set(&unknown, d);
    if (!disk || CM_Get_Parent(&parent, disk, 0) != CR_SUCCESS ||
        CM_Get_Device_IDW(parent, parent_id, MAX_DEVICE_ID_LEN + 1, 0) != CR_SUCCESS) {
        return;
    }
    set = SetupDiGetClassDevsW(&storage_port_interface, parent_id, NULL,
                               DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
    if (set == INVALID_HANDLE_VALUE) {
        return;
    }
    /* The first device with all three properties, as qemu-ga takes it. */
    for (DWORD i = 0; SetupDiEnumDeviceInfo(set, i, &device); i++) {
        WinPciProperties p = {0};
        p.has_bus = read_dword(set, &device, SPDRP_BUSNUMBER, &p.bus);
        p.has_address = read_dword(set, &device, SPDRP_ADDRESS, &p.address);
        p.has_ui_number = read_dword(set, &device, SPDRP_UI_NUMBER, &p.ui_number);
        win_pci_address_set(&p, d);
        if (d->pci_domain == 0) {
            break;
        }
    }
    SetupDiDestroyDeviceInfoList(set);
}
