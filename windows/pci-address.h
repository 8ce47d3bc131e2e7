/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pci-address.h — guest-get-fsinfo's pci-controller on Windows, as qemu-ga
 * 7.2 computes it (qga/commands-win32.c, get_pci_address_for_device): from
 * three SetupAPI registry properties of the disk's storage controller. The
 * arithmetic is a pure function (tested in tests/windows/test-pci-address.c);
 * the SetupAPI walk that reads the properties is disk-pci-real.c's.
 * docs/windows.md "guest-get-fsinfo" has the facts.
 */
#ifndef QUIESCE_PCI_ADDRESS_H
#define QUIESCE_PCI_ADDRESS_H

#include <stdbool.h>
#include <windows.h>

#include "windows/volumes.h"

/* The controller's properties, each with whether it could be read. */
typedef struct {
    bool has_bus, has_address, has_ui_number;
    DWORD bus;       /* SPDRP_BUSNUMBER */
    DWORD address;   /* SPDRP_ADDRESS: device number << 16 | function */
    DWORD ui_number; /* SPDRP_UI_NUMBER: the slot a user sees (ACPI _SUN) */
} WinPciProperties;

/* Sets d's pci_domain, pci_bus, pci_slot and pci_function from the
 * properties; all four -1 (qemu-ga's "unknown") when one is missing. */
void win_pci_address_set(const WinPciProperties *properties, WinDisk *d);

/* The real lookup for \\.\PhysicalDrive<number> (disk-pci-real.c, only in
 * quiesced.exe): leaves d's PCI fields at -1 when any step fails. */
void win_disk_read_pci(DWORD number, WinDisk *d);

#endif
