/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-address.c — a disk's address as qemu-ga's guest-get-fsinfo and
 * guest-get-disks report it; see the header.
 */
#include "agent/commands/disk-address.h"

#include <string.h>
#include <sys/sysmacros.h>

#define DISK_UDEV_DB "/run/udev/data"

char *disk_udev_property(dev_t devno, const char *key)
{
    g_autofree char *path =
        g_strdup_printf(DISK_UDEV_DB "/b%u:%u", major(devno), minor(devno));
    g_autofree char *text = NULL;
    g_autofree char *prefix = g_strconcat("E:", key, "=", NULL);
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return NULL;
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        if (g_str_has_prefix(*line, prefix) && (*line)[strlen(prefix)] != '\0') {
            return g_strdup(*line + strlen(prefix));
        }
    }
    return NULL;
}

JsonValue *disk_address_json_new(const DiskInfo *disk)
{
    JsonValue *item = json_object_new();
    JsonValue *pci = json_object_new();
    g_autofree char *serial = NULL;

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
    /* qemu-ga's serial is udev's ID_SERIAL (libudev), not the disk's
     * sysfs attribute that disk->serial holds. */
    serial = disk_udev_property(disk->devno, "ID_SERIAL");
    if (serial) {
        json_object_set_string(item, "serial", serial);
    }
    if (disk->dev_path) {
        json_object_set_string(item, "dev", disk->dev_path);
    }
    return item;
}
