/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk-layout.c — the dynamic-disk rule over a drive layout
 * (docs/windows.md "Dynamic disks"). An extent is dynamic when a partition
 * that contains it belongs to LDM (MBR type PARTITION_LDM, 0x42; GPT
 * PARTITION_LDM_METADATA_GUID or PARTITION_LDM_DATA_GUID). An extent inside
 * only non-LDM partitions is basic, even on a dynamic GPT disk: Microsoft
 * documents that a basic-data partition marked platform-required stays a
 * basic partition when its disk is converted (an OEM partition). An extent
 * outside every partition is dynamic when the disk has an LDM partition
 * (the space LDM manages), else basic (a disk without a partition table).
 */
#include "windows/disk-layout.h"

/* 5808c8aa-7e8f-42e0-85d2-e1e90434cfb3 (PARTITION_INFORMATION_GPT) */
const GUID win_partition_ldm_metadata_guid = {
    0x5808c8aa, 0x7e8f, 0x42e0, {0x85, 0xd2, 0xe1, 0xe9, 0x04, 0x34, 0xcf, 0xb3}};
/* af9b60a0-1431-4f62-bc68-3311714a69ad */
const GUID win_partition_ldm_data_guid = {
    0xaf9b60a0, 0x1431, 0x4f62, {0xbc, 0x68, 0x33, 0x11, 0x71, 0x4a, 0x69, 0xad}};

BOOL win_partition_is_ldm(PARTITION_STYLE style, const PARTITION_INFORMATION_EX *partition)
{
    switch (style) {
    case PARTITION_STYLE_MBR:
        return partition->Mbr.PartitionType == PARTITION_LDM;
    case PARTITION_STYLE_GPT:
        return IsEqualGUID(&partition->Gpt.PartitionType, &win_partition_ldm_metadata_guid) ||
               IsEqualGUID(&partition->Gpt.PartitionType, &win_partition_ldm_data_guid);
    case PARTITION_STYLE_RAW:
        return FALSE;
    }
    return FALSE; /* a style Windows added later: not one of LDM's */
}

static BOOL contains(const PARTITION_INFORMATION_EX *partition, int64_t offset, int64_t length)
{
    int64_t start = partition->StartingOffset.QuadPart;
    int64_t end = start + partition->PartitionLength.QuadPart;

    return partition->PartitionLength.QuadPart > 0 && offset >= start && offset < end &&
           length <= end - offset;
}

WinLayoutKind win_layout_extent_kind(const DRIVE_LAYOUT_INFORMATION_EX *layout, size_t size,
                                     int64_t offset, int64_t length)
{
    size_t header = offsetof(DRIVE_LAYOUT_INFORMATION_EX, PartitionEntry);
    BOOL inside = FALSE, inside_ldm = FALSE, disk_ldm = FALSE;

    if (size < header ||
        layout->PartitionCount > (size - header) / sizeof(PARTITION_INFORMATION_EX)) {
        return WIN_LAYOUT_INVALID;
    }
    for (DWORD i = 0; i < layout->PartitionCount; i++) {
        const PARTITION_INFORMATION_EX *partition = &layout->PartitionEntry[i];
        BOOL ldm = win_partition_is_ldm((PARTITION_STYLE)layout->PartitionStyle, partition);
        disk_ldm |= ldm;
        if (contains(partition, offset, length)) {
            inside = TRUE;
            inside_ldm |= ldm;
        }
    }
    if (inside) {
        return inside_ldm ? WIN_LAYOUT_DYNAMIC : WIN_LAYOUT_BASIC;
    }
    return disk_ldm ? WIN_LAYOUT_DYNAMIC : WIN_LAYOUT_BASIC;
}
