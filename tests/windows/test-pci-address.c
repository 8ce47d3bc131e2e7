/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-pci-address.c — pci-controller's arithmetic (windows/pci-address.c)
 * on the properties SetupAPI gives for a storage controller, against the
 * numbers qemu-ga 7.2 computes from the same properties: a virtio-scsi
 * controller at 00:05.0 (i440fx, _SUN 5), a function other than 0, a
 * controller behind a bridge (bus 1), a UI number that differs from the
 * device number (qemu-ga reports the UI number), and each property
 * missing (all four -1). Then the real SetupAPI walk (disk-pci-real.c)
 * for disks 0-3: under wine, which has no disk or storage-port devices,
 * each is unknown; on Windows this part says nothing (any answer passes).
 */
#include <stdio.h>

#include "windows/pci-address.h"

static int failures;

static void expect(const char *what, WinPciProperties p, int domain, int bus, int slot,
                   int function)
{
    WinDisk d = {.pci_domain = 7, .pci_bus = 7, .pci_slot = 7, .pci_function = 7};
    bool ok;

    win_pci_address_set(&p, &d);
    ok = d.pci_domain == domain && d.pci_bus == bus && d.pci_slot == slot &&
         d.pci_function == function;
    printf("%s %s: %d/%d/%d/%d (want %d/%d/%d/%d)\n", ok ? "ok" : "FAIL", what, d.pci_domain,
           d.pci_bus, d.pci_slot, d.pci_function, domain, bus, slot, function);
    failures += !ok;
}

int main(void)
{
    WinPciProperties full = {true, true, true, 0, 5u << 16, 5};
    WinPciProperties p;

    expect("virtio-scsi at 00:05.0", full, 0, 0, 5, 0);
    p = full;
    p.address = 3u << 16 | 2;
    p.ui_number = 3;
    expect("function 2 of slot 3", p, 0, 0, 3, 2);
    p = full;
    p.bus = 1;
    p.address = 0;
    p.ui_number = 0;
    expect("behind a bridge, bus 1 slot 0", p, 0, 1, 0, 0);
    p = full;
    p.ui_number = 9;
    expect("UI number 9, device number 5: the UI number, as qemu-ga", p, 0, 0, 9, 0);
    p = full;
    p.has_bus = false;
    expect("no bus number", p, -1, -1, -1, -1);
    p = full;
    p.has_address = false;
    expect("no address", p, -1, -1, -1, -1);
    p = full;
    p.has_ui_number = false;
    expect("no UI number (no ACPI _SUN)", p, -1, -1, -1, -1);
    for (DWORD disk = 0; disk < 4; disk++) {
        WinDisk d = {.pci_domain = 7};
        bool unknown, wine = GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version");
        win_disk_read_pci(disk, &d);
        unknown = d.pci_domain == -1 && d.pci_bus == -1 && d.pci_slot == -1 && d.pci_function == -1;
        printf("%s PhysicalDrive%lu through SetupAPI%s: %d/%d/%d/%d\n",
               !wine || unknown ? "ok" : "FAIL", disk, wine ? " (wine: unknown)" : "", d.pci_domain,
               d.pci_bus, d.pci_slot, d.pci_function);
        failures += wine && !unknown;
    }
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
