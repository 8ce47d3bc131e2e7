/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-address.h — qemu-ga's GuestDiskAddress (qga/qapi-schema.json) from a
 * probed disk, shared by guest-get-fsinfo and guest-get-disks.
 */
#ifndef QUIESCE_AGENT_COMMANDS_DISK_ADDRESS_H
#define QUIESCE_AGENT_COMMANDS_DISK_ADDRESS_H

#include "common/protocol-glib.h"
#include "fsfreeze/disk-info.h"

/* {"pci-controller", "bus-type", "bus", "target", "unit", "serial"?,
 * "dev"?} (transfer full) */
JsonValue *disk_address_json_new(const DiskInfo *disk);

/* The non-empty value of an E:KEY=value line in udev's database entry of
 * block device devno (/run/udev/data/bMAJ:MIN: what libudev reads), or
 * NULL; so where udev does not run, neither agent reports it.
 * (transfer full) */
char *disk_udev_property(dev_t devno, const char *key);

#endif
