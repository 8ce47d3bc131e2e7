/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pci-address.c — qemu-ga 7.2's arithmetic for a controller's PCI address
 * (qga/commands-win32.c, get_pci_address_for_device). SPDRP_ADDRESS of a
 * PCI device holds the device number in its high 16 bits and the function
 * in its low 16 (SetupDiGetDeviceRegistryProperty's documentation). The
 * slot qemu-ga reports is SPDRP_UI_NUMBER, not the device number from the
 * address (it only logs a mismatch); the domain is always 0, as Windows
 * gives none here. We report the same numbers so that a host tool reads
 * the same answer from both agents (docs/windows.md "guest-get-fsinfo").
 */
#include "windows/pci-address.h"

void win_pci_address_set(const WinPciProperties *p, WinDisk *d)
{
    if (!p->has_bus || !p->has_address || !p->has_ui_number) {
        d->pci_domain = d->pci_bus = d->pci_slot = d->pci_function = -1;
        return;
    }
    d->pci_domain = 0;
    d->pci_bus = (int)p->bus;
    d->pci_slot = (int)p->ui_number;
    d->pci_function = (int)(p->address & 0xffff);
}
