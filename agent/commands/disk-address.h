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

#endif
