/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-info.h — what a whole disk is attached to: bus, PCI controller,
 * qemu-ga's bus/target/unit, serial and /dev node.
 *
 * Everything comes from the disk's device path in sysfs, e.g.
 *
 *   /devices/pci0000:00/0000:00:02.0/virtio1/block/vda                 virtio-blk
 *   /devices/pci0000:00/0000:00:05.0/virtio3/host0/target0:0:0/0:0:0:1/block/sda
 *                                                                       virtio-scsi
 *   /devices/pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0/block/sdb  SATA
 *   /devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1                 NVMe
 *   /devices/pci0000:00/0000:00:1d.0/usb2/2-1/2-1:1.0/host6/.../block/sdc  USB
 *   /devices/platform/host3/session1/target3:0:0/3:0:0:0/block/sdd      iSCSI
 *   /devices/virtual/nvme-fabrics/ctl/nvme1/nvme1n1                     NVMe/TCP
 *   /devices/LNXSYSTM:00/.../VMBUS:00/<guid>/host0/.../block/sda        Hyper-V SCSI
 *
 * An NVMe controller's `transport` attribute ("pcie", "tcp", "rdma", "fc")
 * tells a local NVMe disk from a remote namespace.
 *
 * The PCI controller is the PCI function nearest the disk in that path (the
 * storage controller behind any bridges), as qemu-ga reports it for
 * guest-get-fsinfo; ide/sata choice and bus/target/unit follow qemu-ga's
 * build_guest_fsinfo_for_pci_dev() so libvirt matches our answers to its
 * disk addresses the same way. One deliberate difference: for virtio-scsi
 * and other SCSI HBAs we report channel/target/lun as bus/target/unit where
 * qemu-ga leaves target 0; libvirt's <address type='drive'> maps target to
 * scsi-id and unit to lun, so the two agree for target 0 and ours still
 * matches libvirt beyond it.
 */
#ifndef QUIESCE_FSFREEZE_DISK_INFO_H
#define QUIESCE_FSFREEZE_DISK_INFO_H

#include <glib.h>
#include <sys/types.h>

typedef enum {
    DISK_BUS_UNKNOWN,
    DISK_BUS_VIRTIO,  /* virtio-blk */
    DISK_BUS_SCSI,    /* virtio-scsi, emulated or paravirtual SCSI HBAs */
    DISK_BUS_IDE,
    DISK_BUS_SATA,
    DISK_BUS_NVME,
    DISK_BUS_NVME_FABRICS, /* NVMe over TCP/RDMA/FC from inside the guest */
    DISK_BUS_XEN,
    DISK_BUS_USB,     /* passed-through or emulated USB storage */
    DISK_BUS_ISCSI,   /* a session started inside the guest */
    DISK_BUS_VIRTUAL, /* nbd, rbd, zram, ram: no disk behind it */
} DiskBus;

/* qemu-ga's GuestDiskBusType name: "virtio", "scsi", "ide", "sata", "nvme"
 * (also for NVMe over Fabrics), "xen", "usb", "iscsi", "virtual", "unknown". */
const char *disk_bus_to_string(DiskBus bus);

/* Whether a disk on this bus is one the host provides and snapshots. USB,
 * iSCSI, NVMe over Fabrics and virtual devices are not. An unknown bus counts as host-visible:
 * freezing a filesystem the host does not snapshot costs a short stall,
 * while not freezing one it does snapshot loses consistency. */
gboolean disk_bus_is_host_visible(DiskBus bus);

typedef struct {
    guint domain;
    guint bus;
    guint slot;
    guint function;
} DiskPciAddress;

typedef struct {
    char *name;          /* owned; kernel name, e.g. "vda", "sda", "nvme0n1" */
    char *dev_path;      /* owned; /dev node under the dev root, e.g. "/dev/vda" */
    dev_t devno;
    DiskBus bus;
    char *label;         /* owned; for people: "virtio-blk", "virtio-scsi", ... */
    char *driver;        /* owned; the PCI controller's driver, or NULL */
    gboolean has_pci;
    DiskPciAddress pci;  /* valid when has_pci */
    guint bus_number;    /* qemu-ga's bus, target, unit */
    guint target;
    guint unit;
    char *serial;        /* owned; NULL when the disk reports none */
    char *sysfs_path;    /* owned; device directory relative to the sysfs root */
} DiskInfo;

/* Describes the whole disk whose sysfs device directory is devdir (an
 * absolute, symlink-free path inside sysfs_root). Never fails: what cannot
 * be told stays unknown or NULL. (transfer full) */
DiskInfo *disk_info_probe(const char *sysfs_root, const char *devdir, const char *dev_root);

void disk_info_free(DiskInfo *disk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DiskInfo, disk_info_free)

/* "0000:00:02.0". (transfer full) */
char *disk_pci_address_format(const DiskPciAddress *pci);

#endif
