/*
 * disk-address.c — a disk's address as qemu-ga's guest-get-fsinfo and
 * guest-get-disks report it; see the header.
 */
#include "agent/commands/disk-address.h"

JsonValue *disk_address_json_new(const DiskInfo *disk)
{
    JsonValue *item = json_object_new();
    JsonValue *pci = json_object_new();

    /* libvirt requires pci-controller, bus, target and unit in every entry. */
    json_object_set_int(pci, "domain", disk->has_pci ? disk->pci.domain : 0);
    json_object_set_int(pci, "bus", disk->has_pci ? disk->pci.bus : 0);
    json_object_set_int(pci, "slot", disk->has_pci ? disk->pci.slot : 0);
    json_object_set_int(pci, "function", disk->has_pci ? disk->pci.function : 0);
    json_object_set(item, "pci-controller", pci);
    json_object_set_string(item, "bus-type", disk_bus_to_string(disk->bus));
    json_object_set_int(item, "bus", disk->bus_number);
    json_object_set_int(item, "target", disk->target);
    json_object_set_int(item, "unit", disk->unit);
    if (disk->serial) {
        json_object_set_string(item, "serial", disk->serial);
    }
    if (disk->dev_path) {
        json_object_set_string(item, "dev", disk->dev_path);
    }
    return item;
}
