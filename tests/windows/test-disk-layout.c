/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-disk-layout.c — the dynamic-disk rule (windows/disk-layout.c) on
 * drive layouts shaped as IOCTL_DISK_GET_DRIVE_LAYOUT_EX returns them for
 * a basic MBR disk, a basic GPT disk, a dynamic MBR disk (one 0x42
 * partition), a dynamic GPT disk (LDM metadata and data partitions) and
 * mixed cases: a GPT dynamic disk keeping a basic OEM partition, an extent
 * outside every partition, a volume whose extents are on a basic and a
 * dynamic disk, and a layout that does not fit its buffer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "windows/disk-layout.h"

#define MIB (1024LL * 1024)
#define GIB (1024 * MIB)

static const GUID basic_data = {
    0xebd0a0a2, 0xb9e5, 0x4433, {0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7}};
static const GUID efi_system = {
    0xc12a7328, 0xf81f, 0x11d2, {0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b}};
static const GUID msft_reserved = {
    0xe3c9e316, 0x0b5c, 0x4db8, {0x81, 0x7d, 0xf9, 0x2d, 0xf0, 0x02, 0x15, 0xae}};

static int failures;

/* A layout with room for 8 entries, as a driver fills a caller's buffer;
 * the entries are reached through entry(), PartitionEntry being declared
 * with one element. */
typedef union {
    DRIVE_LAYOUT_INFORMATION_EX layout;
    char bytes[offsetof(DRIVE_LAYOUT_INFORMATION_EX, PartitionEntry) +
               8 * sizeof(PARTITION_INFORMATION_EX)];
} Layout;

static PARTITION_INFORMATION_EX *entry(Layout *l, DWORD i)
{
    return (PARTITION_INFORMATION_EX *)(l->bytes +
                                        offsetof(DRIVE_LAYOUT_INFORMATION_EX, PartitionEntry)) +
           i;
}

static size_t layout_size(const Layout *l)
{
    return offsetof(DRIVE_LAYOUT_INFORMATION_EX, PartitionEntry) +
           l->layout.PartitionCount * sizeof(PARTITION_INFORMATION_EX);
}

static void new_layout(Layout *l, PARTITION_STYLE style)
{
    memset(l, 0, sizeof(*l));
    l->layout.PartitionStyle = style;
}

static PARTITION_INFORMATION_EX *add(Layout *l, int64_t start, int64_t length)
{
    PARTITION_INFORMATION_EX *p = entry(l, l->layout.PartitionCount);

    p->PartitionStyle = (PARTITION_STYLE)l->layout.PartitionStyle;
    p->StartingOffset.QuadPart = start;
    p->PartitionLength.QuadPart = length;
    p->PartitionNumber = ++l->layout.PartitionCount;
    return p;
}

static void add_mbr(Layout *l, int64_t start, int64_t length, BYTE type)
{
    add(l, start, length)->Mbr.PartitionType = type;
}

static void add_gpt(Layout *l, int64_t start, int64_t length, const GUID *type, DWORD64 attr)
{
    PARTITION_INFORMATION_EX *p = add(l, start, length);

    p->Gpt.PartitionType = *type;
    p->Gpt.Attributes = attr;
}

static const char *kind_name(WinLayoutKind kind)
{
    switch (kind) {
    case WIN_LAYOUT_BASIC:
        return "basic";
    case WIN_LAYOUT_DYNAMIC:
        return "dynamic";
    case WIN_LAYOUT_INVALID:
        return "invalid";
    }
    return "?";
}

static void expect(const char *what, const Layout *l, int64_t offset, int64_t length,
                   WinLayoutKind want)
{
    WinLayoutKind got = win_layout_extent_kind(&l->layout, layout_size(l), offset, length);

    printf("%s %s: %s (want %s)\n", got == want ? "ok" : "FAIL", what, kind_name(got),
           kind_name(want));
    failures += got != want;
}

int main(void)
{
    Layout l;
    Layout dynamic_gpt;

    /* Basic MBR: system reserved (NTFS 0x07), C: (0x07), an extended
     * partition (0x0f) holding a logical D: (0x07). */
    new_layout(&l, PARTITION_STYLE_MBR);
    add_mbr(&l, 1 * MIB, 500 * MIB, 0x07);
    add_mbr(&l, 501 * MIB, 30 * GIB, 0x07);
    add_mbr(&l, 31 * GIB, 9 * GIB, 0x0f);
    add_mbr(&l, 31 * GIB + MIB, 8 * GIB, 0x07);
    expect("basic MBR, C:", &l, 501 * MIB, 30 * GIB, WIN_LAYOUT_BASIC);
    expect("basic MBR, logical D: inside the extended partition", &l, 31 * GIB + MIB, 8 * GIB,
           WIN_LAYOUT_BASIC);

    /* Basic GPT: EFI system, MSR, basic data. */
    new_layout(&l, PARTITION_STYLE_GPT);
    add_gpt(&l, 1 * MIB, 100 * MIB, &efi_system, 0);
    add_gpt(&l, 101 * MIB, 16 * MIB, &msft_reserved, 0);
    add_gpt(&l, 117 * MIB, 40 * GIB, &basic_data, 0);
    expect("basic GPT, C:", &l, 117 * MIB, 40 * GIB, WIN_LAYOUT_BASIC);
    expect("basic GPT, the EFI partition", &l, 1 * MIB, 100 * MIB, WIN_LAYOUT_BASIC);

    /* Dynamic MBR: one 0x42 partition over the disk; LDM's volumes lie in
     * it (a simple volume has one extent, like a basic partition). */
    new_layout(&l, PARTITION_STYLE_MBR);
    add_mbr(&l, 1 * MIB, 60 * GIB, PARTITION_LDM);
    expect("LDM MBR, a simple volume", &l, 2 * GIB, 10 * GIB, WIN_LAYOUT_DYNAMIC);
    expect("LDM MBR, the disk's first extent", &l, 1 * MIB, 60 * GIB, WIN_LAYOUT_DYNAMIC);

    /* Dynamic GPT: EFI, MSR, LDM metadata, LDM data. */
    new_layout(&dynamic_gpt, PARTITION_STYLE_GPT);
    add_gpt(&dynamic_gpt, 1 * MIB, 100 * MIB, &efi_system, 0);
    add_gpt(&dynamic_gpt, 101 * MIB, 16 * MIB, &msft_reserved, 0);
    add_gpt(&dynamic_gpt, 117 * MIB, 1 * MIB, &win_partition_ldm_metadata_guid, 0);
    add_gpt(&dynamic_gpt, 118 * MIB, 50 * GIB, &win_partition_ldm_data_guid, 0);
    expect("LDM GPT, a volume in the LDM data partition", &dynamic_gpt, 1 * GIB, 4 * GIB,
           WIN_LAYOUT_DYNAMIC);
    expect("LDM GPT, the EFI partition stays basic", &dynamic_gpt, 1 * MIB, 100 * MIB,
           WIN_LAYOUT_BASIC);

    /* Mixed: a dynamic GPT disk that kept an OEM partition (basic data,
     * platform-required): that partition is basic, LDM's space is not;
     * space outside every partition of a dynamic disk is LDM's. */
    l = dynamic_gpt;
    add_gpt(&l, 51 * GIB, 2 * GIB, &basic_data, GPT_ATTRIBUTE_PLATFORM_REQUIRED);
    expect("mixed GPT, the OEM basic partition", &l, 51 * GIB, 2 * GIB, WIN_LAYOUT_BASIC);
    expect("mixed GPT, a volume in LDM data", &l, 10 * GIB, 1 * GIB, WIN_LAYOUT_DYNAMIC);
    expect("mixed GPT, an extent outside every partition", &l, 54 * GIB, 1 * GIB,
           WIN_LAYOUT_DYNAMIC);
    expect("mixed GPT, an extent across two partitions", &l, 50 * GIB, 2 * GIB, WIN_LAYOUT_DYNAMIC);

    /* A volume whose extents are on a basic and a dynamic disk (what the
     * probe does: dynamic when any extent is). */
    {
        Layout basic;
        new_layout(&basic, PARTITION_STYLE_MBR);
        add_mbr(&basic, 1 * MIB, 10 * GIB, 0x07);
        bool any = win_layout_extent_kind(&basic.layout, layout_size(&basic), 1 * MIB, 10 * GIB) ==
                       WIN_LAYOUT_DYNAMIC ||
                   win_layout_extent_kind(&dynamic_gpt.layout, layout_size(&dynamic_gpt), 1 * GIB,
                                          10 * GIB) == WIN_LAYOUT_DYNAMIC;
        printf("%s mixed disks, one volume: %s\n", any ? "ok" : "FAIL", any ? "dynamic" : "basic");
        failures += !any;
    }

    /* No partition table (RAW, a superfloppy): basic. */
    new_layout(&l, PARTITION_STYLE_RAW);
    expect("RAW disk", &l, 0, 8 * GIB, WIN_LAYOUT_BASIC);

    /* Negative control: with 0x42 changed to NTFS the same volume is basic,
     * and with the LDM GUIDs changed to basic data, so is the GPT one. */
    new_layout(&l, PARTITION_STYLE_MBR);
    add_mbr(&l, 1 * MIB, 60 * GIB, 0x07);
    expect("control: the MBR disk with 0x07 instead of 0x42", &l, 2 * GIB, 10 * GIB,
           WIN_LAYOUT_BASIC);
    l = dynamic_gpt;
    entry(&l, 2)->Gpt.PartitionType = basic_data;
    entry(&l, 3)->Gpt.PartitionType = basic_data;
    expect("control: the GPT disk with basic data instead of LDM", &l, 1 * GIB, 4 * GIB,
           WIN_LAYOUT_BASIC);

    /* A layout claiming more partitions than its buffer holds. */
    l = dynamic_gpt;
    {
        size_t size = layout_size(&l);
        l.layout.PartitionCount = 1000;
        WinLayoutKind got = win_layout_extent_kind(&l.layout, size, 1 * GIB, 1 * GIB);
        printf("%s truncated layout: %s\n", got == WIN_LAYOUT_INVALID ? "ok" : "FAIL",
               kind_name(got));
        failures += got != WIN_LAYOUT_INVALID;
        got = win_layout_extent_kind(&l.layout, 4, 1 * GIB, 1 * GIB);
        printf("%s layout shorter than its header: %s\n", got == WIN_LAYOUT_INVALID ? "ok" : "FAIL",
               kind_name(got));
        failures += got != WIN_LAYOUT_INVALID;
    }
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
