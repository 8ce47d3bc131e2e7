/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake-volumes.c — the probe of the test build. QUIESCE_FAKE_VOLUMES lists
 * volumes separated by ';', each PATH|FSTYPE|FLAGS with flags among
 * dynamic, vhd, iscsi, usb, network, ro, data, nopath; QUIESCE_FAKE_STATE sets
 * the running state (both through fake_setting()). Default: one NTFS C:\ on a host disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/windows/fake-vss.h"

static void parse_volume(const char *spec, size_t index, WinVolume *v)
{
    char path[260] = "", fstype[16] = "", flags[128] = "";

    memset(v, 0, sizeof(*v));
    sscanf(spec, "%259[^|]|%15[^|]|%127[^;]", path, fstype, flags);
    snprintf(v->name, sizeof(v->name), "\\\\?\\Volume{00000000-0000-0000-0000-%012zu}\\",
             index + 1);
    if (!strstr(flags, "nopath")) {
        snprintf(v->paths[0], sizeof(v->paths[0]), "%s", path);
        v->n_paths = 1;
    }
    snprintf(v->fstype, sizeof(v->fstype), "%s", fstype);
    snprintf(v->disk, sizeof(v->disk), "PhysicalDrive%zu", index);
    v->dynamic = strstr(flags, "dynamic") != NULL;
    v->file_backed = strstr(flags, "vhd") != NULL;
    v->read_only = strstr(flags, "ro") != NULL;
    v->has_data = strstr(flags, "data") != NULL;
    v->bus = strstr(flags, "iscsi")     ? WIN_BUS_ISCSI
             : strstr(flags, "usb")     ? WIN_BUS_USB
             : strstr(flags, "network") ? WIN_BUS_NETWORK
                                        : WIN_BUS_HOST;
    /* The disks as qemu-ga would describe a virtio-scsi disk (or the bus
     * the flags name); a dynamic volume spans two. */
    v->n_disks = v->dynamic ? 2 : 1;
    for (size_t d = 0; d < v->n_disks; d++) {
        WinDisk *disk = &v->disks[d];
        unsigned number = (unsigned)(index + d * 10);
        snprintf(disk->dev, sizeof(disk->dev), "\\\\.\\PhysicalDrive%u", number);
        snprintf(disk->bus_type, sizeof(disk->bus_type), "%s",
                 v->bus == WIN_BUS_ISCSI ? "iscsi"
                 : v->bus == WIN_BUS_USB ? "usb"
                 : v->file_backed        ? "file-backed-virtual"
                                         : "scsi");
        disk->pci_domain = disk->pci_bus = disk->pci_slot = disk->pci_function = -1;
        if (strcmp(disk->bus_type, "scsi") == 0) {
            disk->pci_domain = 0;
            disk->pci_slot = 5;
            disk->unit = (int)number;
            snprintf(disk->serial, sizeof(disk->serial), "QM%05u", number);
        }
    }
    v->total_bytes = 1ULL << 34;
    v->used_bytes = 1ULL << 32;
}

static bool fake_read(void *self, WinSystem *system, ProtoError **error)
{
    const char *spec = fake_setting("QUIESCE_FAKE_VOLUMES");
    const char *state = fake_setting("QUIESCE_FAKE_STATE");

    snprintf(system->running_state, sizeof(system->running_state), "%s",
             state ? state : "running");
    if (!spec) {
        spec = "C:\\|NTFS|";
    }
    while (*spec && system->n_volumes < WIN_VOLUME_MAX) {
        parse_volume(spec, system->n_volumes, &system->volumes[system->n_volumes]);
        system->n_volumes++;
        spec += strcspn(spec, ";");
        spec += *spec == ';';
    }
    return true;
}

static const WinProbeOps fake_probe_ops = { fake_read };

WinProbe win_probe_default(void)
{
    WinProbe probe = { &fake_probe_ops, NULL };
    return probe;
}
