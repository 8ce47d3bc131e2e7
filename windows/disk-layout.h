/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-layout.h — is a volume's extent on a dynamic (LDM) disk? Decided
 * from the disk's layout as IOCTL_DISK_GET_DRIVE_LAYOUT_EX returns it,
 * without touching the system, so the rule is tested on made-up layouts
 * (tests/windows/test-disk-layout.c). The facts it relies on are in
 * docs/windows.md "Dynamic disks".
 */
#ifndef QUIESCE_DISK_LAYOUT_H
#define QUIESCE_DISK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <windows.h>
#include <winioctl.h>

typedef enum {
    WIN_LAYOUT_BASIC,   /* a basic disk, or a basic partition of a dynamic one */
    WIN_LAYOUT_DYNAMIC, /* space the Logical Disk Manager manages */
    WIN_LAYOUT_INVALID, /* the layout does not fit in its buffer */
} WinLayoutKind;

/* The kind of the extent [offset, offset + length) of a disk whose layout
 * is the size bytes at layout. */
WinLayoutKind win_layout_extent_kind(const DRIVE_LAYOUT_INFORMATION_EX *layout, size_t size,
                                     int64_t offset, int64_t length);

/* True for a partition that belongs to LDM: MBR type 0x42, GPT LDM
 * metadata or LDM data. */
BOOL win_partition_is_ldm(PARTITION_STYLE style, const PARTITION_INFORMATION_EX *partition);

/* The two GPT partition types of a dynamic disk (mingw's headers lack them). */
extern const GUID win_partition_ldm_metadata_guid;
extern const GUID win_partition_ldm_data_guid;

#endif
