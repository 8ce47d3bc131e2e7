/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-info.c — bus, controller and serial of a whole disk from its sysfs
 * device path; see the header for the path shapes.
 */
#include "fsfreeze/disk-info.h"

#include "fsfreeze/sysfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

/* What the components of a device path tell. Indexes are -1 when absent. */
typedef struct {
    int pci_index;      /* nearest PCI function */
    DiskPciAddress pci;
    int ata_index;      /* "ataN" (libata port) */
    int hctl_index;     /* "H:C:T:L" SCSI device */
    guint hctl[4];
    gboolean usb;       /* "usbN" root hub on the way */
    gboolean iscsi;     /* "sessionN": iscsi_transport session */
    gboolean nvme;
    gboolean virtio;
    gboolean xen;       /* xen-blkfront "vbd-N" */
    gboolean vmbus;     /* Hyper-V storvsc */
    gboolean virtual_block;
} PathFacts;

const char *disk_bus_to_string(DiskBus bus)
{
    switch (bus) {
    case DISK_BUS_UNKNOWN:
        return "unknown";
    case DISK_BUS_VIRTIO:
        return "virtio";
    case DISK_BUS_SCSI:
        return "scsi";
    case DISK_BUS_IDE:
        return "ide";
    case DISK_BUS_SATA:
        return "sata";
    case DISK_BUS_NVME:
    case DISK_BUS_NVME_FABRICS:
        return "nvme";
    case DISK_BUS_XEN:
        return "xen";
    case DISK_BUS_USB:
        return "usb";
    case DISK_BUS_ISCSI:
        return "iscsi";
    case DISK_BUS_VIRTUAL:
        return "virtual";
    }
    g_assert_not_reached();
}

gboolean disk_bus_is_host_visible(DiskBus bus)
{
    switch (bus) {
    case DISK_BUS_UNKNOWN:
    case DISK_BUS_VIRTIO:
    case DISK_BUS_SCSI:
    case DISK_BUS_IDE:
    case DISK_BUS_SATA:
    case DISK_BUS_NVME:
    case DISK_BUS_XEN:
        return TRUE;
    case DISK_BUS_NVME_FABRICS:
    case DISK_BUS_USB:
    case DISK_BUS_ISCSI:
    case DISK_BUS_VIRTUAL:
        return FALSE;
    }
    g_assert_not_reached();
}

void disk_info_free(DiskInfo *disk)
{
    if (!disk) {
        return;
    }
    g_free(disk->name);
    g_free(disk->dev_path);
    g_free(disk->label);
    g_free(disk->driver);
    g_free(disk->serial);
    g_free(disk->sysfs_path);
    g_free(disk);
}

char *disk_pci_address_format(const DiskPciAddress *pci)
{
    return g_strdup_printf("%04x:%02x:%02x.%x", pci->domain, pci->bus, pci->slot, pci->function);
}

/* "<prefix><digits>", e.g. "ata3", "usb2", "session1". */
static gboolean component_has_number(const char *component, const char *prefix, guint *number)
{
    gsize len = strlen(prefix);
    const char *digits = component + len;

    if (strncmp(component, prefix, len) != 0 || !g_ascii_isdigit(digits[0])) {
        return FALSE;
    }
    for (const char *p = digits; *p; p++) {
        if (!g_ascii_isdigit(*p)) {
            return FALSE;
        }
    }
    if (number) {
        *number = (guint)strtoul(digits, NULL, 10);
    }
    return TRUE;
}

/* "DDDD:BB:SS.F" (the domain may be longer than four digits, e.g. VMD). */
static gboolean component_parse_pci(const char *component, DiskPciAddress *pci)
{
    unsigned int domain, bus, slot, function;
    int consumed = -1;

    if (!g_ascii_isxdigit(component[0]) ||
        sscanf(component, "%x:%2x:%2x.%1x%n", &domain, &bus, &slot, &function, &consumed) != 4 ||
        consumed < 0 || component[consumed] != '\0' || strlen(component) < 12) {
        return FALSE;
    }
    *pci = (DiskPciAddress){ domain, bus, slot, function };
    return TRUE;
}

static gboolean component_parse_hctl(const char *component, guint hctl[4])
{
    g_auto(GStrv) parts = g_strsplit(component, ":", -1);

    if (g_strv_length(parts) != 4) {
        return FALSE;
    }
    for (int i = 0; i < 4; i++) {
        if (!component_has_number(parts[i], "", &hctl[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

static void path_facts_collect(char **components, PathFacts *facts)
{
    *facts = (PathFacts){ .pci_index = -1, .ata_index = -1, .hctl_index = -1 };
    facts->virtual_block = components[0] && components[1] && components[2] &&
                           strcmp(components[0], "devices") == 0 &&
                           strcmp(components[1], "virtual") == 0 &&
                           strcmp(components[2], "block") == 0;
    for (int i = 0; components[i]; i++) {
        const char *c = components[i];

        if (component_parse_pci(c, &facts->pci)) {
            facts->pci_index = i;
        } else if (component_has_number(c, "ata", NULL)) {
            facts->ata_index = i;
        } else if (component_parse_hctl(c, facts->hctl)) {
            facts->hctl_index = i;
        }
        facts->usb |= component_has_number(c, "usb", NULL);
        facts->iscsi |= component_has_number(c, "session", NULL);
        facts->nvme |= strcmp(c, "nvme") == 0 || strcmp(c, "nvme-subsystem") == 0 ||
                       strcmp(c, "nvme-fabrics") == 0;
        facts->virtio |= component_has_number(c, "virtio", NULL);
        facts->xen |= g_str_has_prefix(c, "vbd-");
        facts->vmbus |= g_str_has_prefix(c, "VMBUS:");
    }
}

/* The position of this port among the controller's "ataN" ports, in numeric
 * order: qemu-ga's IDE bus or AHCI unit number. */
static guint ata_port_position(const char *controller_dir, const char *port)
{
    g_autoptr(GDir) dir = g_dir_open(controller_dir, 0, NULL);
    const char *name;
    guint mine = 0, position = 0;

    if (!dir || !component_has_number(port, "ata", &mine)) {
        return 0;
    }
    while ((name = g_dir_read_name(dir))) {
        guint other;
        if (component_has_number(name, "ata", &other) && other < mine) {
            position++;
        }
    }
    return position;
}

/* The transport of the NVMe controller behind a namespace: its device link
 * is the controller, or for a multipath head the subsystem, whose
 * controllers are its "nvmeN" entries. */
static char *nvme_transport(const char *devdir)
{
    g_autofree char *device_dir = g_build_filename(devdir, "device", NULL);
    g_autoptr(GDir) dir = NULL;
    char *transport = sysfs_attr_read(device_dir, "transport");
    const char *name;

    if (transport) {
        return transport;
    }
    dir = g_dir_open(device_dir, 0, NULL);
    while (dir && (name = g_dir_read_name(dir))) {
        if (component_has_number(name, "nvme", NULL)) {
            g_autofree char *ctrl = g_build_filename(device_dir, name, NULL);
            if ((transport = sysfs_attr_read(ctrl, "transport"))) {
                return transport;
            }
        }
    }
    return NULL;
}

static void disk_set_nvme(DiskInfo *disk, const char *devdir)
{
    g_autofree char *transport = nvme_transport(devdir);

    if (!transport || strcmp(transport, "pcie") == 0) {
        disk->bus = DISK_BUS_NVME;
        disk->label = g_strdup("NVMe");
        return;
    }
    disk->bus = DISK_BUS_NVME_FABRICS;
    disk->label = g_strdup_printf("NVMe over Fabrics (%s)", transport);
}

static void disk_set_bus(DiskInfo *disk, DiskBus bus, const char *label)
{
    disk->bus = bus;
    disk->label = g_strdup(label);
}

/* Bus and qemu-ga's bus/target/unit from the path facts and the driver. */
static void disk_classify_bus(DiskInfo *disk, const char *devdir, char **components,
                              const PathFacts *f, const char *controller_dir)
{
    gboolean scsi = f->hctl_index >= 0;
    const char *drv = disk->driver ? disk->driver : "";

    if (f->usb) {
        disk_set_bus(disk, DISK_BUS_USB, "USB");
    } else if (f->iscsi) {
        disk_set_bus(disk, DISK_BUS_ISCSI, "iSCSI");
    } else if (f->nvme) {
        disk_set_nvme(disk, devdir);
    } else if (f->xen) {
        disk_set_bus(disk, DISK_BUS_XEN, "Xen");
    } else if (f->virtual_block) {
        disk_set_bus(disk, DISK_BUS_VIRTUAL, "virtual");
    } else if (f->virtio && !scsi) {
        disk_set_bus(disk, DISK_BUS_VIRTIO, "virtio-blk");
    } else if (f->ata_index >= 0) {
        gboolean ide = strcmp(drv, "ata_piix") == 0 || g_str_has_prefix(drv, "pata_");
        guint port = controller_dir ? ata_port_position(controller_dir, components[f->ata_index])
                                    : 0;
        disk_set_bus(disk, ide ? DISK_BUS_IDE : DISK_BUS_SATA, ide ? "IDE" : "SATA");
        if (ide) {
            disk->bus_number = port;           /* one libata port per IDE bus */
            disk->unit = scsi ? f->hctl[2] : 0; /* target*:0:<unit>:0 */
        } else {
            disk->unit = port; /* AHCI: one port per unit */
        }
        return;
    } else if (scsi) {
        disk_set_bus(disk, DISK_BUS_SCSI,
                     f->virtio ? "virtio-scsi" : f->vmbus ? "Hyper-V SCSI" : "SCSI");
    } else {
        disk_set_bus(disk, DISK_BUS_UNKNOWN, "unknown");
    }
    if (scsi && strcmp(drv, "sym53c8xx") == 0) {
        disk->unit = f->hctl[2]; /* LSI: target*:0:<unit>:0 */
    } else if (scsi) {
        disk->bus_number = f->hctl[1];
        disk->target = f->hctl[2];
        disk->unit = f->hctl[3];
    }
}

/* Byte 3 of VPD page 0x80 is the serial's length; the serial follows the
 * 4-byte header (SPC-4 7.8.15). libata and USB bridges provide it too. */
static char *vpd_pg80_serial(const char *devdir)
{
    g_autofree char *device_dir = g_build_filename(devdir, "device", NULL);
    g_autoptr(GBytes) page = sysfs_attr_read_bytes(device_dir, "vpd_pg80");
    const guint8 *data;
    gsize len = 0, serial_len;

    if (!page) {
        return NULL;
    }
    data = g_bytes_get_data(page, &len);
    if (len < 4 || data[1] != 0x80) {
        return NULL;
    }
    serial_len = MIN((gsize)data[3], len - 4);
    return g_strstrip(g_strndup((const char *)data + 4, serial_len));
}

/* The absolute directory of the first n path components. (transfer full) */
static char *components_dir(const char *sysfs_root, char **components, int n)
{
    GString *dir = g_string_new(sysfs_root);

    for (int i = 0; i < n && components[i]; i++) {
        g_string_append_c(dir, '/');
        g_string_append(dir, components[i]);
    }
    return g_string_free(dir, FALSE);
}

/* usb-storage often skips VPD pages; the USB device ("2-1", "2-1.4") above
 * the interface has the serial udev would report. */
static char *usb_device_serial(const char *sysfs_root, char **components, const PathFacts *f)
{
    for (int i = f->hctl_index - 1; i > f->pci_index; i--) {
        g_autofree char *dir = NULL;

        if (!strchr(components[i], '-') || strchr(components[i], ':')) {
            continue;
        }
        dir = components_dir(sysfs_root, components, i + 1);
        return sysfs_attr_read(dir, "serial");
    }
    return NULL;
}

/* A candidate that is absent or empty is no serial. */
static gboolean serial_take(char **candidate, char **serial)
{
    if (*candidate && (*candidate)[0]) {
        *serial = g_steal_pointer(candidate);
        return TRUE;
    }
    g_clear_pointer(candidate, g_free);
    return FALSE;
}

/* The first serial found, in this order; later sources are not read (each
 * is a sysfs open, paid on every probe). */
static char *disk_read_serial(const char *sysfs_root, const char *devdir, char **components,
                              const PathFacts *facts)
{
    g_autofree char *device_dir = g_build_filename(devdir, "device", NULL);
    char *candidate = NULL;
    char *serial = NULL;

    candidate = sysfs_attr_read(devdir, "serial"); /* virtio-blk */
    if (serial_take(&candidate, &serial)) {
        return serial;
    }
    candidate = sysfs_attr_read(device_dir, "serial"); /* NVMe controller */
    if (serial_take(&candidate, &serial)) {
        return serial;
    }
    candidate = vpd_pg80_serial(devdir); /* SCSI, ATA */
    if (serial_take(&candidate, &serial)) {
        return serial;
    }
    candidate = facts->usb ? usb_device_serial(sysfs_root, components, facts) : NULL;
    serial_take(&candidate, &serial);
    return serial;
}

DiskInfo *disk_info_probe(const char *sysfs_root, const char *devdir, const char *dev_root)
{
    g_autoptr(DiskInfo) disk = g_new0(DiskInfo, 1);
    g_autofree char *devname = sysfs_uevent_get(devdir, "DEVNAME");
    g_autofree char *dev_text = sysfs_attr_read(devdir, "dev");
    g_autofree char *controller_dir = NULL;
    g_auto(GStrv) components = NULL;
    PathFacts facts;

    disk->name = g_path_get_basename(devdir);
    disk->dev_path = g_build_filename(dev_root, devname ? devname : disk->name, NULL);
    if (!dev_text || !sysfs_devno_parse(dev_text, &disk->devno)) {
        disk->devno = 0;
    }
    disk->sysfs_path = sysfs_path_relative(sysfs_root, devdir);
    components = g_strsplit(disk->sysfs_path ? disk->sysfs_path + 1 : "", "/", -1);
    path_facts_collect(components, &facts);
    if (facts.pci_index >= 0) {
        controller_dir = components_dir(sysfs_root, components, facts.pci_index + 1);
        disk->has_pci = TRUE;
        disk->pci = facts.pci;
        disk->driver = sysfs_link_basename(controller_dir, "driver");
    }
    disk_classify_bus(disk, devdir, components, &facts, controller_dir);
    disk->serial = disk_read_serial(sysfs_root, devdir, components, &facts);
    return g_steal_pointer(&disk);
}
