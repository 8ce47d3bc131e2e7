/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-smart.h — guest-get-disks' `smart` member: the SMART / Health
 * Information log page of an NVMe disk as qemu-ga 7.2 reports it
 * (qga/qapi-schema.json GuestDiskSmart and GuestNVMeSmart,
 * qga/commands-posix.c get_nvme_smart()). docs/qga-reference.md §9 has
 * the page's layout and the command that reads it.
 */
#ifndef QUIESCE_AGENT_COMMANDS_DISK_SMART_H
#define QUIESCE_AGENT_COMMANDS_DISK_SMART_H

#include <glib.h>

#include "common/protocol-glib.h"

/* The log page's size in bytes (log identifier 02h). */
#define DISK_SMART_NVME_LOG_SIZE 512

/* {"type": "nvme", "critical-warning", "temperature", ...,
 * "number-of-error-log-entries-hi"} from a log page of
 * DISK_SMART_NVME_LOG_SIZE bytes, little-endian as the controller wrote
 * it. (transfer full) */
JsonValue *disk_smart_nvme_json_new(const guint8 *log);

/* The smart member of the NVMe disk whose node is node (e.g.
 * "/dev/nvme0n1"), read with the NVMe admin command Get Log Page; NULL
 * when the node cannot be opened or the command fails, the cases in which
 * qemu-ga leaves the member out. (transfer full) */
JsonValue *disk_smart_nvme_read(const char *node);

#endif
